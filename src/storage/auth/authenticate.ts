import type { StorageRequest } from '../http/context.js';
import { errors } from '../http/errors.js';
import { verifyAccountSas, verifyServiceSas } from './sas.js';
import { verifySharedKey } from './shared-key.js';
import { sasSignatureText } from './signature.js';
import { VerifiedSasCache } from './verified-sas-cache.js';
import type { AccessPolicyLookup, AccountKeys, AuthOutcome, OperationAccess } from './types.js';

const ANONYMOUS: AuthOutcome = Object.freeze({ kind: 'anonymous' });
const verifiedSas = new VerifiedSasCache();

/**
 * Who may perform `access` on this request: Shared Key / Shared Key Lite when an
 * Authorization header is present, else a SAS when the query carries `sig`
 * (an account SAS when it also carries `ss`), else anonymous, which the caller
 * checks against the container's public access level. Throws a StorageError
 * (403) when the credential is present but does not authorize the request.
 */
export function authenticate(
  ctx: StorageRequest,
  keys: AccountKeys,
  access: OperationAccess,
  lookupPolicy: AccessPolicyLookup,
): AuthOutcome {
  const authorization = ctx.req.headers.authorization;
  if (authorization !== undefined) {
    const space = authorization.indexOf(' ');
    const scheme = space < 0 ? '' : authorization.slice(0, space);
    if (scheme !== 'SharedKey' && scheme !== 'SharedKeyLite') throw unsupportedScheme(scheme);
    if (!keys.allowSharedKeyAccess) throw errors.keyBasedAuthNotPermitted();
    return { kind: 'sharedKey', keyIndex: verifySharedKey(ctx, keys, scheme === 'SharedKeyLite', authorization.slice(space + 1)) };
  }
  if (!ctx.query.has('sig')) return ANONYMOUS;
  // The request listener verifies a user delegation SAS itself (it needs the signer's roles); here it can only be a copy source's.
  if (ctx.query.has('skoid')) throw errors.authFailed('A user delegation SAS is not accepted on a copy source by this server; sign the source SAS with an account key.');
  if (!keys.allowSharedKeyAccess) throw errors.keyBasedAuthNotPermitted();
  // A request without a URL of its own (none today) is never cached: the URL is what an entry vouches for.
  const signature = sasSignatureText(ctx.query.get('sig')!);
  const url = ctx.req.url === undefined ? undefined : `${ctx.service} ${ctx.protocol} ${ctx.req.url}`;
  const verified = url === undefined ? undefined : verifiedSas.get(signature, url, keys, access);
  if (verified !== undefined) return verified;
  const outcome = ctx.query.has('ss') ? verifyAccountSas(ctx, keys, access) : verifyServiceSas(ctx, keys, access, lookupPolicy);
  if (url !== undefined) verifiedSas.remember(signature, url, keys, access, ctx.query, outcome);
  return outcome;
}

function unsupportedScheme(scheme: string): Error {
  // Name the scheme only when it looks like one: a header without a scheme may be a bare secret.
  const named = /^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(scheme) ? `'${scheme}' ` : '';
  return errors.authFailed(
    `The Authorization scheme ${named}is not supported: only Shared Key, Shared Key Lite, Bearer (over HTTPS) and SAS are supported. ` +
      'Sign the request with an account key, use a SAS token, or send a bearer token to the HTTPS endpoint.',
  );
}
