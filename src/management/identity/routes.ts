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
import { resetClientSecret } from '../../keyless/reset-secret.js';

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
      activity: 'Mlspace.Identity/servicePrincipals/resetCredential/action',
      handler: async (ctx) => {
        const reset = await resetClientSecret(deps, ctx.params.clientId!);
        ctx.activity = { properties: { clientId: reset.clientId, datastoresMoved: String(reset.consumers.length) } };
        return { status: 200, body: { tenantId: deps.tenantId, ...reset } };
      },
    },
    {
      method: 'POST',
      pattern: '/providers/Mlspace.Identity/servicePrincipals/{clientId}/listConsumers',
      action: 'Microsoft.MachineLearningServices/workspaces/datastores/read',
      handler: (ctx) => principalConsumers(deps, ctx),
    },
  ];
}
