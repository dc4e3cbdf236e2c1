import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { armErrors } from '../http/errors.js';
import { keylessJson } from '../../rotation/consumers.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { cloudMetadata, jwks, openIdConfiguration, tokenEndpoint, type IdentityDeps } from './oauth.js';
import { BUILT_IN_ROLES, findRole } from './role-definitions.js';
import { assignableScope } from './role-routes.js';
import { createServicePrincipal, requirePrincipal } from './service-principals.js';
import { RESET_OPERATION, startSecretReset } from '../../rotation/client-secret.js';
import { rotationStatusJson } from '../../rotation/status.js';
import { ArmError } from '../http/errors.js';

/**
 * Creates a client with a role at one or more scopes (`mlspace ad sp create`,
 * as `az ad sp create-for-rbac --role R --scopes S`); the subscription when no
 * scope is given. Granting a role is `Microsoft.Authorization/roleAssignments/write`,
 * which Owner and User Access Administrator hold.
 */
async function createPrincipal(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const body = new Fields(await readJsonObject(ctx.req));
  const roleName = body.requiredString('role');
  const role = findRole(roleName);
  if (!role) throw armErrors.invalidContent(`'role' must be a built-in role: ${BUILT_IN_ROLES.map((r) => `'${r.roleName}'`).join(', ')}; got '${roleName}'.`);
  const requested = body.raw.scopes ?? [`/subscriptions/${deps.subscriptionId}`];
  if (!Array.isArray(requested) || requested.length === 0 || !requested.every((scope) => typeof scope === 'string')) {
    throw armErrors.invalidContent("'scopes' must be a non-empty array of ARM ids, e.g. [\"/subscriptions/{id}/resourceGroups/{group}\"].");
  }
  const scopes: string[] = [];
  for (const scope of requested as string[]) scopes.push(await assignableScope(deps, scope));
  const displayName = body.string('displayName') ?? `mlspace-${role.roleName.toLowerCase().replace(/\s+/g, '-')}`;
  const credentials = await createServicePrincipal(deps.directory, deps.tenantId, displayName, { roleDefinitionId: role.id, scopes, createdBy: ctx.principal?.clientId });
  await deps.rolesChanged();
  deps.logger.info({ clientId: credentials.clientId, role: role.roleName, scopes }, 'service principal created');
  return { status: 201, body: { ...credentials, role: role.roleName, scopes, displayName } };
}

/**
 * POST …/servicePrincipals/{clientId}/listConsumers (an mlspace extension): every
 * datastore, in any workspace and resource group, holding this principal's
 * client secret: what a reset of the secret must move.
 */
async function principalConsumers(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const clientId = ctx.params.clientId!;
  await requirePrincipal(deps.directory, deps.tenantId, clientId);
  const holders = await deps.consumers.byServicePrincipal(clientId);
  return { status: 200, body: { clientId, value: holders.map((holder) => ({ ...keylessJson(deps.subscriptionId, holder), accountName: holder.accountName })) } };
}

/**
 * POST …/servicePrincipals/{clientId}/resetCredential (`mlspace ad sp credential
 * reset`, as `az ad sp credential reset`): a new client secret, through the
 * rotation engine, which moves every datastore holding an old one to it and
 * verifies each before the old ones stop signing in. Answers once the reset
 * has run, with the new secret; a rolled-back reset is a 409 and leaves the
 * old secrets as they were.
 */
async function resetCredential(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const clientId = ctx.params.clientId!;
  const { rotation, clientSecret } = await startSecretReset(deps, clientId, ctx.principal!);
  await deps.rotation.settled(rotation.id);
  const ended = (await deps.rotations.get(rotation.id))!;
  if (ended.status === 'Failed') throw new ArmError(409, 'SecretResetRolledBack', `The reset of the secret of '${clientId}' was rolled back, and its old secret still signs in: ${ended.error!.message}`);
  const consumers = (await deps.rotations.moves(rotation.id)).map((move) => ({ id: move.resourceId, state: move.state, ...(move.detail && { detail: move.detail }) }));
  ctx.activity = { properties: { clientId, datastoresMoved: String(consumers.length) } };
  return {
    // InProgress only when this server began stopping meanwhile: the reset finishes when it starts again.
    status: 200,
    body: { tenantId: deps.tenantId, clientId, clientSecret, resetId: rotation.id, status: ended.status, consumers, attention: (ended.plan as { attention: unknown[] }).attention },
  };
}

/** GET …/servicePrincipals/{clientId}/rotations/{rotationId}: a secret reset's status and journal, as a key rotation's. */
async function resetStatus(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const { clientId, rotationId } = ctx.params;
  const rotation = await deps.rotations.get(rotationId!);
  if (!rotation || rotation.kind !== 'clientSecret' || rotation.account !== clientId) {
    throw new ArmError(404, 'ResourceNotFound', `Secret reset '${rotationId}' of service principal '${clientId}' was not found.`);
  }
  return { status: 200, body: await rotationStatusJson(deps, `/providers/Mlspace.Identity/servicePrincipals/${clientId}`, rotation, true) };
}

export function identityRoutes(deps: ManagementDeps): ArmRoute[] {
  const identity: IdentityDeps = deps;
  return [
    // An AD FS authority ('{origin}/adfs'), matched before '/{tenant}/...': MSAL validates no such authority with login.microsoftonline.com.
    { method: 'GET', pattern: '/adfs/.well-known/openid-configuration', handler: openIdConfiguration(identity, true) },
    { method: 'GET', pattern: '/adfs/discovery/keys', handler: jwks(identity, true) },
    { method: 'POST', pattern: '/adfs/oauth2/token', handler: tokenEndpoint(identity, true) },
    { method: 'GET', pattern: '/metadata/endpoints', handler: cloudMetadata(identity) },
    { method: 'GET', pattern: '/{tenant}/v2.0/.well-known/openid-configuration', handler: openIdConfiguration(identity) },
    { method: 'GET', pattern: '/{tenant}/discovery/v2.0/keys', handler: jwks(identity) },
    { method: 'POST', pattern: '/{tenant}/oauth2/v2.0/token', handler: tokenEndpoint(identity) },
    { method: 'POST', pattern: '/{tenant}/oauth2/token', handler: tokenEndpoint(identity) },
    {
      method: 'POST',
      pattern: '/providers/Mlspace.Identity/servicePrincipals',
      action: 'Microsoft.Authorization/roleAssignments/write',
      handler: (ctx) => createPrincipal(deps, ctx),
    },
    {
      method: 'POST',
      pattern: '/providers/Mlspace.Identity/servicePrincipals/{clientId}/resetCredential',
      action: 'Microsoft.Authorization/roleAssignments/write',
      activity: RESET_OPERATION,
      handler: (ctx) => resetCredential(deps, ctx),
    },
    {
      method: 'GET',
      pattern: '/providers/Mlspace.Identity/servicePrincipals/{clientId}/rotations/{rotationId}',
      action: 'Microsoft.MachineLearningServices/workspaces/datastores/read',
      handler: (ctx) => resetStatus(deps, ctx),
    },
    {
      method: 'POST',
      pattern: '/providers/Mlspace.Identity/servicePrincipals/{clientId}/listConsumers',
      action: 'Microsoft.MachineLearningServices/workspaces/datastores/read',
      handler: (ctx) => principalConsumers(deps, ctx),
    },
  ];
}
