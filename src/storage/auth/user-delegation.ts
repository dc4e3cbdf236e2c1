import { createHmac, timingSafeEqual } from 'node:crypto';
import type { StorageRequest } from '../http/context.js';
import { errors } from '../http/errors.js';
import { checkScope, responseOverrides, signedSnapshotTime } from './sas.js';
import { checkPermissions, checkProtocol, checkSourceIp, checkTimeWindow, parseSasTime, requiredParam } from './sas-conditions.js';
import { decodeSignature, hmacSha256, sasSignatureText } from './signature.js';
import { userDelegationSasStringToSign } from './string-to-sign.js';
import type { AccountKeys, OperationAccess, SasResponseOverrides } from './types.js';

/** Azure's limit: a user delegation key is valid for at most seven days. */
export const MAX_KEY_LIFETIME_MS = 7 * 24 * 3600_000;

/** What a user delegation key is issued for; the SAS repeats every field (skoid … skv). */
export interface DelegationKeyFields {
  /** The principal's object id and tenant. */
  oid: string;
  tid: string;
  /** Start and expiry, as `YYYY-MM-DDThh:mm:ssZ`. */
  start: string;
  expiry: string;
  /** The service, `b`. */
  service: string;
  /** The service version that issued it. */
  version: string;
}

/**
 * The key's value: an HMAC, under the account's delegation root, of every field
 * the key names. Nothing is stored: the server derives the same value again from
 * the fields a SAS carries. The root (see KeyRing) comes from the master key, the
 * account and the account's count of `revokeUserDelegationKeys`, so a revocation
 * changes every key of the account at once, and a key regeneration none.
 */
export function delegationKeyValue(root: Buffer, key: DelegationKeyFields): Buffer {
  return createHmac('sha256', root).update([key.oid, key.tid, key.start, key.expiry, key.service, key.version].join('\n'), 'utf8').digest();
}

/** The delegation root of an account: from the deployment's delegation secret, the account and its revocation count. */
export function delegationRoot(secret: Buffer, account: string, revocations: number): Buffer {
  return createHmac('sha256', secret).update(`${account}\n${revocations}`, 'utf8').digest();
}

/** An ISO time as keys and SAS state it: UTC, whole seconds. */
export function delegationTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface DelegatedSas {
  /** The principal that signed it, whose roles must allow the operation now. */
  oid: string;
  responseOverrides: SasResponseOverrides;
}

const BLOB_RESOURCES = ['c', 'b', 'bs', 'bv'];

/**
 * A user delegation SAS (`skoid` present), checked as far as it can be without
 * the directory: its key is this tenant's, within its lifetime, derived under
 * the account's current root; its signature; then, as every service SAS, its
 * time window, protocol, address and permissions. The caller checks the
 * signer's roles.
 */
export function verifyDelegatedSas(ctx: StorageRequest, keys: AccountKeys, access: OperationAccess, tenantId: string): DelegatedSas {
  const query = ctx.query;
  if (ctx.service !== 'blob') throw errors.authFailed('A user delegation SAS (skoid) authorizes Blob requests only; use a share SAS signed with an account key, or a bearer token.');
  const param = (name: string) => query.get(name) ?? '';
  const sv = requiredParam(query, 'sv', 'signed version');
  const sig = requiredParam(query, 'sig', 'signature');
  const sr = requiredParam(query, 'sr', 'signed resource');
  const sp = requiredParam(query, 'sp', 'signed permissions');
  const se = requiredParam(query, 'se', 'signed expiry');
  if (sv < '2018-11-09') throw errors.authFailed(`A user delegation SAS needs signed version sv=2018-11-09 or later; this one has sv=${sv}.`);
  if (query.has('si')) throw errors.authFailed('A user delegation SAS cannot name a stored access policy (si); state sp and se in the SAS itself.');
  if (query.has('srh') || query.has('srq')) throw errors.authFailed('SAS-signed request headers and query parameters (srh, srq) are not supported by this server; sign the SAS without them.');
  if (!BLOB_RESOURCES.includes(sr)) throw errors.authFailed(`The SAS signed resource sr=${sr} is not valid for a user delegation SAS (use one of ${BLOB_RESOURCES.join(', ')}).`);
  checkScope(access, sr);
  const key: DelegationKeyFields = {
    oid: requiredParam(query, 'skoid', 'signed key object id'),
    tid: requiredParam(query, 'sktid', 'signed key tenant id'),
    start: requiredParam(query, 'skt', 'signed key start'),
    expiry: requiredParam(query, 'ske', 'signed key expiry'),
    service: requiredParam(query, 'sks', 'signed key service'),
    version: requiredParam(query, 'skv', 'signed key version'),
  };
  if (key.tid.toLowerCase() !== tenantId.toLowerCase()) throw errors.authFailed(`The user delegation key was issued for tenant '${key.tid}', not this server's ('${tenantId}').`);
  const now = Date.now();
  if (now < parseSasTime(key.start, 'key start (skt)')) throw errors.authFailed('The user delegation key is not valid yet (skt is in the future).');
  if (now >= parseSasTime(key.expiry, 'key expiry (ske)')) throw errors.authFailed('The user delegation key has expired (ske); get a new one with Get User Delegation Key.');

  const path = sr === 'c' ? '' : `/${ctx.path}`;
  const overrides = [query.get('rscc'), query.get('rscd'), query.get('rsce'), query.get('rscl'), query.get('rsct')] as const;
  const stringToSign = userDelegationSasStringToSign({
    resource: `/blob/${ctx.account}/${ctx.container}${path}`,
    sp,
    st: param('st'),
    se,
    skoid: key.oid,
    sktid: key.tid,
    skt: key.start,
    ske: key.expiry,
    sks: key.service,
    skv: key.version,
    saoid: param('saoid'),
    suoid: param('suoid'),
    scid: param('scid'),
    skdutid: param('skdutid'),
    sduoid: param('sduoid'),
    sip: param('sip'),
    spr: param('spr'),
    sv,
    sr,
    snapshotTime: signedSnapshotTime(query, sr),
    ses: param('ses'),
    rscc: overrides[0] ?? '',
    rscd: overrides[1] ?? '',
    rsce: overrides[2] ?? '',
    rscl: overrides[3] ?? '',
    rsct: overrides[4] ?? '',
  });
  const expected = decodeSignature(sasSignatureText(sig));
  if (!expected) throw errors.authFailed('The SAS signature (sig) is not the canonical base64 of an HMAC-SHA256 (44 characters ending in =); send it exactly as it was signed, URL-encoded.');
  if (!timingSafeEqual(hmacSha256(delegationKeyValue(keys.delegationRoot, key), stringToSign), expected)) {
    throw errors.authFailed(
      `Signature did not match. String to sign used was '${stringToSign}'. ` +
        "The SAS was signed with a user delegation key this account does not know (the account's delegation keys may have been revoked), or a signed parameter was changed.",
    );
  }
  checkTimeWindow(query.get('st') ?? undefined, se);
  checkProtocol(query.get('spr'), ctx);
  checkSourceIp(query.get('sip'), ctx);
  checkPermissions(sp, access);
  return { oid: key.oid, responseOverrides: responseOverrides(overrides) };
}
