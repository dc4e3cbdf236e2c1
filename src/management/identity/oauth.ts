import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DirectoryStore } from '../../db/directory.js';
import { readBody } from '../http/body.js';
import { sameName } from '../http/names.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { requestOrigin } from '../http/origin.js';
import { clientSecretMatches } from './client-secret.js';
import { isStorageAudience, MANAGEMENT_AUDIENCE, STORAGE_AUDIENCE, type TokenService } from './tokens.js';

export interface IdentityDeps {
  directory: DirectoryStore;
  tokens: TokenService;
  tenantId: string;
  /** The configured HTTPS base URL, used when the request's Host header is unusable. */
  armEndpoint: string;
}

/** Resources a management token may be requested for; all of them mean this server's management plane. */
const MANAGEMENT_RESOURCES = ['https://management.azure.com', 'https://management.core.windows.net'];
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);

/**
 * An OAuth2 error as Microsoft Entra ID answers it, which is what MSAL parses:
 * `{"error", "error_description"}` with an AADSTS code in the description.
 */
function oauthError(status: number, error: string, description: string): ArmResult {
  return {
    status,
    body: { error, error_description: description, error_codes: [Number(/^AADSTS(\d+)/.exec(description)?.[1] ?? 0)], timestamp: new Date().toISOString(), trace_id: randomUUID() },
  };
}

function knownTenant(deps: IdentityDeps, tenant: string | undefined): boolean {
  return tenant !== undefined && sameName(tenant, deps.tenantId);
}

function tenantNotFound(tenant: string | undefined): ArmResult {
  return oauthError(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found. This server's tenant id is in endpoints.json (tenantId).`);
}

/**
 * The OpenID Connect discovery document MSAL reads before asking for a token:
 * Entra ID's, under the tenant, or, for `adfs`, the one of an AD FS authority
 * (`{origin}/adfs`), which MSAL takes without asking login.microsoftonline.com
 * to validate it: what the real az and Python clients need in a cloud of their own.
 */
export function openIdConfiguration(deps: IdentityDeps, adfs = false) {
  return (ctx: ArmRequest): ArmResult => {
    if (!adfs && !knownTenant(deps, ctx.params.tenant)) return tenantNotFound(ctx.params.tenant);
    const origin = requestOrigin(ctx.req, deps.armEndpoint);
    const base = adfs ? `${origin}/adfs` : `${origin}/${deps.tenantId}`;
    const v2 = adfs ? '' : '/v2.0';
    return {
      status: 200,
      body: {
        issuer: adfs ? base : `${base}/v2.0`,
        token_endpoint: `${base}/oauth2${v2}/token`,
        authorization_endpoint: `${base}/oauth2${v2}/authorize`,
        jwks_uri: `${base}/discovery${v2}/keys`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        grant_types_supported: ['client_credentials'],
        response_types_supported: ['token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['ES256'],
        scopes_supported: ['https://management.azure.com/.default', `${STORAGE_AUDIENCE}/.default`],
        tenant_region_scope: null,
      },
    };
  };
}

export function jwks(deps: IdentityDeps, adfs = false) {
  return async (ctx: ArmRequest): Promise<ArmResult> => {
    if (!adfs && !knownTenant(deps, ctx.params.tenant)) return tenantNotFound(ctx.params.tenant);
    return { status: 200, body: await deps.tokens.jwks() };
  };
}

/**
 * The client-credentials grant, v2.0 (`scope=…/.default`) and v1 (`resource=…`)
 * forms, under the tenant or the AD FS authority (whose one tenant is this
 * server's). The secret may come in the body or as HTTP Basic credentials.
 */
export function tokenEndpoint(deps: IdentityDeps, adfs = false) {
  return async (ctx: ArmRequest): Promise<ArmResult> => {
    if (!adfs && !knownTenant(deps, ctx.params.tenant)) return tenantNotFound(ctx.params.tenant);
    const type = ctx.req.headers['content-type'] ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError(400, 'invalid_request', "AADSTS900144: The request body must be 'application/x-www-form-urlencoded'.");
    }
    const form = new URLSearchParams((await readBody(ctx.req, 64 * 1024)).toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', `AADSTS70003: The grant type '${grantType ?? ''}' is not supported; this server issues tokens for grant_type=client_credentials only.`);
    }
    const credentials = clientCredentials(ctx.req, form);
    if (!credentials) {
      return oauthError(400, 'invalid_request', "AADSTS900144: The request body must contain the parameters 'client_id' and 'client_secret'.");
    }
    const principal = await deps.directory.getPrincipal(credentials.clientId);
    if (!principal) {
      return oauthError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${credentials.clientId}' was not found in the directory '${deps.tenantId}'.`);
    }
    if (!clientSecretMatches(credentials.secret, principal.secretHash)) {
      return oauthError(401, 'invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value of app '${principal.clientId}'.`);
    }
    const origin = requestOrigin(ctx.req, deps.armEndpoint);
    const resource = requestedResource(form, origin);
    if (typeof resource !== 'string') return resource;
    const token = await deps.tokens.issue(principal.clientId, `${origin}/${deps.tenantId}/v2.0`, isStorageAudience(resource) ? resource : MANAGEMENT_AUDIENCE);
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: token.expiresIn, ext_expires_in: token.expiresIn, access_token: token.accessToken },
    };
  };
}

function clientCredentials(req: IncomingMessage, form: URLSearchParams): { clientId: string; secret: string } | undefined {
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
      } catch {
        return undefined;
      }
    }
  }
  const clientId = form.get('client_id');
  const secret = form.get('client_secret');
  return clientId && secret ? { clientId, secret } : undefined;
}

/**
 * The one resource the token is for, from `scope` (v2.0) or `resource` (v1), or
 * the error to answer: the management plane (by any of its names), or Azure
 * Storage (https://storage.azure.com, or an account's own audience).
 */
function requestedResource(form: URLSearchParams, origin: string): string | ArmResult {
  const accepted = [...MANAGEMENT_RESOURCES, origin, STORAGE_AUDIENCE];
  const resource = form.get('resource');
  const scopes = resource !== null ? [] : (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '' && !OIDC_SCOPES.has(scope));
  const requested = resource ?? (scopes.length === 1 && scopes[0]!.endsWith('/.default') ? scopes[0]!.slice(0, -'/.default'.length) : undefined);
  const normalized = requested?.replace(/\/+$/, '').toLowerCase();
  if (normalized !== undefined && (accepted.some((candidate) => candidate.toLowerCase() === normalized) || isStorageAudience(normalized))) return normalized;
  return oauthError(
    400,
    'invalid_scope',
    `AADSTS70011: The provided value for the input parameter 'scope' is not valid. Request exactly one of ${accepted.map((r) => `'${r}/.default'`).join(', ')}.`,
  );
}

/**
 * The cloud's endpoints as Azure Stack publishes them (`/metadata/endpoints`),
 * which `az cloud register --endpoint-resource-manager` reads to find the
 * authority and the token audience by itself.
 */
export function cloudMetadata(deps: IdentityDeps) {
  return (ctx: ArmRequest): ArmResult => {
    const origin = requestOrigin(ctx.req, deps.armEndpoint);
    return {
      status: 200,
      body: {
        galleryEndpoint: `${origin}/`,
        graphEndpoint: 'https://graph.windows.net/',
        portalEndpoint: `${origin}/`,
        authentication: { loginEndpoint: `${origin}/adfs`, audiences: [`${MANAGEMENT_RESOURCES[1]}/`] },
      },
    };
  };
}
