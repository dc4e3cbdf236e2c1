import type { RoleAssignmentRecord } from '../../db/directory.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import type { ArmRoute } from '../http/route.js';
import { scopeCovers, scopeKey } from './principal.js';
import { BUILT_IN_ROLES, findRole, type RoleDefinition } from './role-definitions.js';

const AUTHORIZATION = '{*scope}/providers/Microsoft.Authorization';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** When Azure's built-in roles were published; they have no creation time of their own here. */
const BUILT_IN_SINCE = '2015-02-02T21:55:09.8806423Z';

/**
 * A scope a role may be assigned at: this subscription, one of its resource
 * groups (which must exist), or a resource below one (a storage account, which
 * must exist, or anything under it: a container, `.../blobServices/default/
 * containers/NAME`, or a share, `.../fileServices/default/fileshares/NAME`).
 * Answers it without a trailing slash.
 */
export async function assignableScope(deps: ManagementDeps, raw: string): Promise<string> {
  const scope = raw.replace(/\/+$/, '');
  const match = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+)(\/providers\/[^/]+(?:\/[^/]+\/[^/]+)+)?)?$/i.exec(scope);
  if (!match) {
    throw new ArmError(
      400,
      'InvalidRoleAssignmentScope',
      `The scope '${raw}' is not valid. Use /subscriptions/{id}, /subscriptions/{id}/resourceGroups/{group}, or a resource below a group, ` +
        'e.g. .../providers/Microsoft.Storage/storageAccounts/{account}[/blobServices/default/containers/{container}].',
    );
  }
  const [, subscription, group, resource] = match;
  if (!sameName(subscription!, deps.subscriptionId)) throw armErrors.subscriptionNotFound(subscription!);
  if (group === undefined) return scope;
  if (!(await deps.groups.get(group))) throw armErrors.resourceGroupNotFound(group);
  const account = resource && /^\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)/i.exec(resource)?.[1];
  if (account) {
    // Account names are lower case; ARM ids compare without case.
    const record = await deps.accounts.get(account.toLowerCase());
    if (!record || !sameName(record.resourceGroup, group)) throw armErrors.resourceNotFound('Microsoft.Storage/storageAccounts', account, group);
  }
  return scope;
}

function definitionId(deps: ManagementDeps, id: string): string {
  return `/subscriptions/${deps.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
}

function assignmentJson(deps: ManagementDeps, assignment: RoleAssignmentRecord) {
  const at = new Date(assignment.created).toISOString();
  return {
    id: `${assignment.scope}/providers/Microsoft.Authorization/roleAssignments/${assignment.name}`,
    name: assignment.name,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: definitionId(deps, assignment.roleDefinitionId),
      principalId: assignment.principalId,
      principalType: assignment.principalType,
      scope: assignment.scope,
      condition: null,
      conditionVersion: null,
      description: null,
      createdOn: at,
      updatedOn: at,
      createdBy: assignment.createdBy ?? null,
      updatedBy: assignment.createdBy ?? null,
      delegatedManagedIdentityResourceId: null,
    },
  };
}

function definitionJson(deps: ManagementDeps, definition: RoleDefinition, scope: string) {
  return {
    id: scope === '' ? `/providers/Microsoft.Authorization/roleDefinitions/${definition.id}` : definitionId(deps, definition.id),
    name: definition.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: definition.roleName,
      type: 'BuiltInRole',
      description: definition.description,
      assignableScopes: ['/'],
      permissions: [{ actions: definition.actions, notActions: definition.notActions, dataActions: definition.dataActions, notDataActions: definition.notDataActions }],
      createdOn: BUILT_IN_SINCE,
      updatedOn: BUILT_IN_SINCE,
      createdBy: null,
      updatedBy: null,
    },
  };
}

/** A list scope: '' (the tenant) or an assignable scope. */
async function listScope(deps: ManagementDeps, ctx: ArmRequest): Promise<string> {
  return ctx.params.scope === '' ? '' : assignableScope(deps, ctx.params.scope!);
}

const invalidFilter = (filter: string, forms: string) =>
  new ArmError(400, 'InvalidFilterInQueryString', `The $filter '${filter}' is not supported. Use ${forms}, joined with 'and'.`);

/** The `$filter` of a role assignment list: atScope(), principalId eq '{id}', assignedTo('{id}'). */
function assignmentFilter(filter: string | null): { atScope: boolean; principalId?: string } {
  const wanted: { atScope: boolean; principalId?: string } = { atScope: false };
  if (filter === null || filter.trim() === '') return wanted;
  for (const clause of filter.split(/\s+and\s+/i)) {
    const term = clause.trim();
    const principal = /^(?:principalId\s+eq\s+'([^']+)'|assignedTo\('([^']+)'\))$/i.exec(term);
    if (/^atScope\(\)$/i.test(term)) wanted.atScope = true;
    else if (principal) wanted.principalId = (principal[1] ?? principal[2])!.toLowerCase();
    else throw invalidFilter(filter, "atScope(), principalId eq '{id}' or assignedTo('{id}')");
  }
  return wanted;
}

/** Assignments at, above or below the scope (with atScope(): at or above), as ARM lists them. */
async function listAssignments(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const scope = scopeKey(await listScope(deps, ctx));
  const filter = assignmentFilter(ctx.query.get('$filter'));
  const all = await deps.directory.listAssignments();
  const shown = all.filter((assignment) => {
    const at = scopeKey(assignment.scope);
    if (filter.principalId !== undefined && assignment.principalId.toLowerCase() !== filter.principalId) return false;
    return scope === '' ? !filter.atScope : scopeCovers(at, scope) || (!filter.atScope && scopeCovers(scope, at));
  });
  return { status: 200, body: { value: shown.map((assignment) => assignmentJson(deps, assignment)) } };
}

function requireGuid(name: string): string {
  if (!GUID.test(name)) {
    throw new ArmError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
  }
  return name.toLowerCase();
}

/** The assignment of that name at that scope (an assignment's id is its scope and name). */
async function findAssignment(deps: ManagementDeps, ctx: ArmRequest): Promise<RoleAssignmentRecord | undefined> {
  const found = await deps.directory.getAssignment(requireGuid(ctx.params.name!));
  return found && scopeKey(found.scope) === scopeKey(ctx.params.scope!) ? found : undefined;
}

async function getAssignment(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const found = await findAssignment(deps, ctx);
  if (!found) throw new ArmError(404, 'RoleAssignmentNotFound', `The role assignment '${ctx.params.name}' is not found at scope '${ctx.params.scope}'.`);
  return { status: 200, body: assignmentJson(deps, found) };
}

async function createAssignment(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const name = requireGuid(ctx.params.name!);
  const scope = await assignableScope(deps, ctx.params.scope!);
  const body = new Fields(await readJsonObject(ctx.req));
  const properties = body.object('properties') ?? new Fields({}, 'properties.');
  const roleDefinitionId = properties.requiredString('roleDefinitionId');
  const role = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(roleDefinitionId) ? findRole(roleDefinitionId) : undefined;
  if (!role) {
    throw new ArmError(
      400,
      'RoleDefinitionDoesNotExist',
      `The specified role definition with ID '${roleDefinitionId}' does not exist. Use the id of a built-in role (mlspace role definition list).`,
    );
  }
  const principalId = properties.requiredString('principalId');
  const principalType = properties.oneOf('principalType', ['ServicePrincipal', 'User', 'Group', 'ForeignGroup', 'Device']);
  const principal = await deps.directory.getPrincipal(principalId);
  if (!principal) {
    throw new ArmError(400, 'PrincipalNotFound', `Principal ${principalId} does not exist in the directory ${deps.tenantId}. Create it first (mlspace ad sp create).`);
  }
  if (principalType !== undefined && principalType !== 'ServicePrincipal') {
    throw armErrors.invalidContent(`'properties.principalType' is '${principalType}', but principal ${principalId} is a ServicePrincipal.`);
  }
  const assignment: RoleAssignmentRecord = {
    name,
    scope,
    roleDefinitionId: role.id,
    principalId: principal.clientId,
    principalType: 'ServicePrincipal',
    created: Date.now(),
    createdBy: ctx.principal?.clientId,
  };
  const conflict = await deps.directory.addAssignment(assignment);
  if (conflict === 'nameInUse') {
    const existing = (await deps.directory.getAssignment(name))!;
    const same = scopeKey(existing.scope) === scopeKey(scope) && existing.roleDefinitionId === role.id && existing.principalId === principal.clientId;
    if (same) return { status: 201, body: assignmentJson(deps, existing) };
    throw new ArmError(409, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
  }
  if (conflict === 'exists') throw new ArmError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
  await deps.rolesChanged();
  deps.logger.info({ assignment: name, role: role.roleName, principalId: principal.clientId, scope }, 'role assigned');
  return { status: 201, body: assignmentJson(deps, assignment) };
}

async function deleteAssignment(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const found = await findAssignment(deps, ctx);
  if (!found) return { status: 204 };
  await deps.directory.deleteAssignment(found.name);
  await deps.rolesChanged();
  deps.logger.info({ assignment: found.name, principalId: found.principalId, scope: found.scope }, 'role assignment deleted');
  return { status: 200, body: assignmentJson(deps, found) };
}

/** The built-in roles, filtered by `roleName eq '...'` and `type eq 'BuiltInRole'` as az sends them. */
async function listDefinitions(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const scope = await listScope(deps, ctx);
  const filter = ctx.query.get('$filter');
  let shown = [...BUILT_IN_ROLES];
  for (const clause of filter?.trim() ? filter.split(/\s+and\s+/i) : []) {
    const term = /^(roleName|type)\s+eq\s+'([^']*)'$/i.exec(clause.trim());
    if (!term) throw invalidFilter(filter!, "roleName eq '{name}' or type eq 'BuiltInRole'");
    const value = term[2]!.toLowerCase();
    shown = term[1]!.toLowerCase() === 'rolename' ? shown.filter((role) => role.roleName.toLowerCase() === value) : value === 'builtinrole' ? shown : [];
  }
  return { status: 200, body: { value: shown.map((role) => definitionJson(deps, role, scope)) } };
}

async function getDefinition(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const scope = await listScope(deps, ctx);
  const id = ctx.params.roleDefinitionId!;
  const role = GUID.test(id) ? findRole(id) : undefined;
  if (!role) throw new ArmError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${id}' does not exist.`);
  return { status: 200, body: definitionJson(deps, role, scope) };
}

export function roleRoutes(deps: ManagementDeps): ArmRoute[] {
  const read = 'Microsoft.Authorization/roleAssignments/read';
  return [
    { method: 'GET', pattern: `${AUTHORIZATION}/roleAssignments`, action: read, handler: (ctx) => listAssignments(deps, ctx) },
    { method: 'GET', pattern: `${AUTHORIZATION}/roleAssignments/{name}`, action: read, handler: (ctx) => getAssignment(deps, ctx) },
    {
      method: 'PUT',
      pattern: `${AUTHORIZATION}/roleAssignments/{name}`,
      action: 'Microsoft.Authorization/roleAssignments/write',
      activity: 'Microsoft.Authorization/roleAssignments/write',
      handler: (ctx) => createAssignment(deps, ctx),
    },
    {
      method: 'DELETE',
      pattern: `${AUTHORIZATION}/roleAssignments/{name}`,
      action: 'Microsoft.Authorization/roleAssignments/delete',
      activity: 'Microsoft.Authorization/roleAssignments/delete',
      handler: (ctx) => deleteAssignment(deps, ctx),
    },
    { method: 'GET', pattern: `${AUTHORIZATION}/roleDefinitions`, action: 'Microsoft.Authorization/roleDefinitions/read', handler: (ctx) => listDefinitions(deps, ctx) },
    {
      method: 'GET',
      pattern: `${AUTHORIZATION}/roleDefinitions/{roleDefinitionId}`,
      action: 'Microsoft.Authorization/roleDefinitions/read',
      handler: (ctx) => getDefinition(deps, ctx),
    },
  ];
}
