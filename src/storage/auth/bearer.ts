import type { DirectoryStore } from '../../db/directory.js';
import { reason } from '../../management/identity/authenticate.js';
import { loadPrincipal, principalAllows, type Principal } from '../../management/identity/principal.js';
import { STORAGE_AUDIENCE, type TokenService } from '../../management/identity/tokens.js';
import type { StorageRequest } from '../http/context.js';
import { errors, StorageError } from '../http/errors.js';
import type { AccountKeys, AuthOutcome, OperationAccess } from './types.js';
import { verifyDelegatedSas } from './user-delegation.js';

/** Far above any token this server issues (about 900 bytes); a longer header is refused unread. */
const MAX_TOKEN_LENGTH = 8192;
/** Tokens remembered at once; past it the cache starts over (a new token costs one signature check). */
const MAX_CACHED_TOKENS = 10_000;

interface VerifiedToken {
  clientId: string;
  /** ms since the epoch; the entry is good strictly before. */
  expires: number;
}

/**
 * Azure AD on the data plane: `Authorization: Bearer <token>` with a token from
 * this server's token endpoint for Azure Storage, and user delegation SAS, both
 * checked against the roles the principal holds at the request's scope (the
 * account, its blob or file service, the container or share); and the bearer
 * challenge that unsigned requests are refused with.
 *
 * Verified tokens are remembered until they expire, never past; principals
 * with their roles until any role changes (`forget`, which every node runs
 * before a role assignment is answered). So a request with a known token costs
 * two map lookups and the scope match.
 */
export class BearerAuth {
  private readonly tokens = new Map<string, VerifiedToken>();
  private readonly principals = new Map<string, Promise<Principal | undefined>>();
  /** The management endpoint's URL, which the challenge names; set once it listens. */
  authority = '';

  constructor(
    private readonly issuer: TokenService,
    private readonly directory: DirectoryStore,
    private readonly identity: { tenantId: string; subscriptionId: string },
  ) {}

  /** Drops every principal's cached roles: the next request of each reads them again. */
  forget(): void {
    this.principals.clear();
  }

  /** The `WWW-Authenticate` challenge Azure Storage sends: where to get a token, and for which resource. */
  challenge(): string {
    return `Bearer authorization_uri=${this.authority}/${this.identity.tenantId}/oauth2/authorize resource_id=${STORAGE_AUDIENCE}`;
  }

  /**
   * The refusal of an unsigned request that may not run. From the service
   * versions that know the bearer challenge on (Blob 2019-12-12, File
   * 2022-11-02), Azure answers 401 NoAuthenticationInformation with it, so a
   * client learns where to get a token; older versions keep their answer (404,
   * which tells nothing of what exists).
   */
  refuseAnonymous(ctx: StorageRequest, error: unknown): unknown {
    const version = ctx.req.headers['x-ms-version'];
    const since = ctx.service === 'blob' ? '2019-12-12' : '2022-11-02';
    if (!(error instanceof StorageError) || typeof version !== 'string' || version < since) return error;
    return new StorageError(
      401,
      'NoAuthenticationInformation',
      'Server failed to authenticate the request. Please refer to the information in the www-authenticate header. (Sign the request, use a SAS, or send a bearer token over HTTPS.)',
      {},
      { 'www-authenticate': this.challenge() },
    );
  }

  /** 401 with the challenge: a missing, malformed, expired or foreign token. */
  invalidToken(detail: string): StorageError {
    return new StorageError(
      401,
      'InvalidAuthenticationInfo',
      'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
      { AuthenticationErrorDetail: detail },
      { 'www-authenticate': this.challenge() },
    );
  }

  async authenticate(ctx: StorageRequest, keys: AccountKeys, access: OperationAccess, header: string): Promise<AuthOutcome> {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!match) throw this.invalidToken("The Authorization header must have the form 'Bearer <token>', with a token from the token endpoint.");
    const token = match[1]!;
    if (token.length > MAX_TOKEN_LENGTH) throw this.invalidToken(`The access token is longer than ${MAX_TOKEN_LENGTH} characters; no token of this server is.`);
    const version = ctx.req.headers['x-ms-version'];
    const since = ctx.service === 'blob' ? '2017-11-09' : '2022-11-02';
    if (typeof version !== 'string' || version < since) {
      throw errors.authFailed(`Authentication scheme Bearer is not supported in this version: send x-ms-version ${since} or later (every current SDK does).`);
    }
    // Azure Files took tokens for files and directories first; for shares and the service (management actions) only from 2024-11-04.
    if (ctx.service === 'file' && version < '2024-11-04' && access.rbac.some((need) => !need.data)) {
      throw new StorageError(
        409,
        'FileOAuthManagementApiRestrictedToSrp',
        `Share and service operations take a bearer token from service version 2024-11-04 on; this request has x-ms-version ${version}. Use a newer SDK, or the management plane (fileServices/shares).`,
      );
    }
    if (ctx.protocol !== 'https') {
      throw this.invalidToken('Bearer tokens are accepted only over HTTPS: use the blobHttps or fileHttps endpoint of endpoints.json.');
    }
    const verified = await this.verify(token);
    const principal = await this.principal(verified.clientId);
    if (!principal) throw this.invalidToken(`The access token is invalid: client '${verified.clientId}' no longer exists.`);
    if (ctx.service === 'file' && ctx.req.headers['x-ms-file-request-intent'] !== 'backup') {
      throw errors.missingHeader(
        'x-ms-file-request-intent',
        "Azure Files takes a bearer token only with 'x-ms-file-request-intent: backup' (ShareServiceClient option fileRequestIntent: 'backup').",
      );
    }
    this.requireRoles(principal, ctx, keys, access, 'The principal');
    return { kind: 'bearer', principalId: principal.clientId, tenantId: this.identity.tenantId };
  }

  /**
   * A user delegation SAS: verified as a SAS (user-delegation.ts), then the
   * principal whose key signed it must still exist and still hold the roles the
   * request needs, as Azure checks them at use, not only at signing.
   */
  async authenticateDelegatedSas(ctx: StorageRequest, keys: AccountKeys, access: OperationAccess): Promise<AuthOutcome> {
    const sas = verifyDelegatedSas(ctx, keys, access, this.identity.tenantId);
    const principal = await this.principal(sas.oid);
    if (!principal) throw errors.authFailed(`The principal '${sas.oid}' whose user delegation key signed this SAS no longer exists.`);
    this.requireRoles(principal, ctx, keys, access, 'The signer of this user delegation SAS,');
    return { kind: 'delegatedSas', principalId: principal.clientId, responseOverrides: sas.responseOverrides };
  }

  /** 403 AuthorizationPermissionMismatch unless the principal's roles at the request's scope allow every permission the operation needs. */
  private requireRoles(principal: Principal, ctx: StorageRequest, keys: AccountKeys, access: OperationAccess, who: string): void {
    const resource = resourceOf(ctx, keys, this.identity.subscriptionId);
    const missing = access.rbac.find((need) => !principalAllows(principal, need.action, resource, need.data));
    if (missing) {
      throw errors.permissionMismatch(
        `${who} '${principal.clientId}', has no role at scope '${resource}' or above that allows the ${missing.data ? 'data action' : 'action'} '${missing.action}'. ` +
          `Assign one (e.g. ${suggestedRole(missing.action, ctx.service)}): mlspace role assignment create.`,
      );
    }
  }

  private async verify(token: string): Promise<VerifiedToken> {
    const cached = this.tokens.get(token);
    if (cached !== undefined && Date.now() < cached.expires) return cached;
    let verified: VerifiedToken;
    try {
      verified = await this.issuer.verify(token, 'storage');
    } catch (error) {
      this.tokens.delete(token);
      throw this.invalidToken(`The access token is invalid: ${reason(error)}`);
    }
    if (this.tokens.size >= MAX_CACHED_TOKENS) this.tokens.clear();
    this.tokens.set(token, verified);
    return verified;
  }

  private principal(clientId: string): Promise<Principal | undefined> {
    let loaded = this.principals.get(clientId);
    if (!loaded) {
      loaded = loadPrincipal(this.directory, clientId);
      this.principals.set(clientId, loaded);
      // A failed read is not remembered; the next request tries again.
      void loaded.catch(() => this.principals.delete(clientId));
    }
    return loaded;
  }
}

/** A built-in role that grants `action`, for the message that says what to assign. */
function suggestedRole(action: string, service: 'blob' | 'file'): string {
  if (action.endsWith('/generateUserDelegationKey/action')) return 'Storage Blob Delegator, at the storage account or above';
  return service === 'blob' ? 'Storage Blob Data Contributor' : 'Storage File Data Privileged Contributor';
}

/** The ARM id of what a data-plane request acts on, as a scope key (lower case): the service, or the container or share. */
function resourceOf(ctx: StorageRequest, keys: AccountKeys, subscriptionId: string): string {
  const account = `/subscriptions/${subscriptionId}/resourcegroups/${keys.resourceGroup}/providers/microsoft.storage/storageaccounts/${keys.account}`;
  const service = ctx.service === 'blob' ? '/blobservices/default' : '/fileservices/default';
  const child = ctx.container === '' ? '' : ctx.service === 'blob' ? `/containers/${ctx.container}` : `/fileshares/${ctx.container}`;
  return (account + service + child).toLowerCase();
}
