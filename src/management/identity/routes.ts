import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { cloudMetadata, jwks, openIdConfiguration, tokenEndpoint, type IdentityDeps } from './oauth.js';
import { parseRole, ROLE_NAMES } from './roles.js';
import { createServicePrincipal } from './service-principals.js';

/**
 * Creates a client with a role (`mlspace ad sp create`). Granting a role is
 * `Microsoft.Authorization/roleAssignments/write`, which only Owner holds.
 */
async function createPrincipal(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const body = new Fields(await readJsonObject(ctx.req));
  const roleName = body.requiredString('role');
  const role = parseRole(roleName);
  if (!role) throw armErrors.invalidContent(`'role' must be one of ${ROLE_NAMES.map((r) => `'${r}'`).join(', ')}; got '${roleName}'.`);
  const displayName = body.string('displayName') ?? `mlspace-${role.toLowerCase().replace(/\s+/g, '-')}`;
  const credentials = await createServicePrincipal(deps.directory, deps.tenantId, role, displayName);
  deps.logger.info({ clientId: credentials.clientId, role }, 'service principal created');
  return { status: 201, body: { ...credentials, role, displayName } };
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
  ];
}
