import { readSmallBody, parseXml } from '../http/body.js';
import { errors, escapeXml, StorageError, STORAGE_API_VERSION } from '../http/errors.js';
import { respondXml } from '../http/respond.js';
import { delegationKeyValue, delegationTime, MAX_KEY_LIFETIME_MS, type DelegationKeyFields } from '../auth/user-delegation.js';
import type { KeyRing } from '../auth/keyring.js';
import type { BlobRequest } from './deps.js';

const badTime = (node: 'Start' | 'Expiry', value: string, why: string) =>
  new StorageError(400, 'InvalidXmlNodeValue', `The value for one of the XML nodes is not in the correct format: ${node} ${why}`, { XmlNodeName: node, XmlNodeValue: value });

/**
 * Get User Delegation Key (`POST ?restype=service&comp=userdelegationkey`): a key
 * for the caller's principal, valid from Start (default: now) to Expiry, at
 * most seven days, as Azure allows. Only a bearer token may ask; the key signs
 * user delegation SAS, which the signer's roles must still allow when used.
 */
export function makeGetUserDelegationKey(keyring: KeyRing) {
  return (ctx: BlobRequest) => getUserDelegationKey(ctx, keyring);
}

async function getUserDelegationKey(ctx: BlobRequest, keyring: KeyRing): Promise<void> {
  const auth = ctx.auth;
  if (auth.kind !== 'bearer') {
    throw errors.authFailed('Get User Delegation Key takes a bearer token: call it with a token credential (Azure AD), over HTTPS; a key or SAS cannot ask for one.');
  }
  const info = parseXml(await readSmallBody(ctx.req, 4096))?.KeyInfo;
  if (typeof info !== 'object' || info === null) throw errors.invalidXml("the body must be <KeyInfo><Start>…</Start><Expiry>…</Expiry></KeyInfo>.");
  const now = Date.now();
  const time = (node: 'Start' | 'Expiry'): number | undefined => {
    const value = info[node];
    if (value === undefined || value === '') return undefined;
    const parsed = typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(parsed)) throw badTime(node, String(value), 'must be an ISO 8601 UTC time such as 2030-01-31T23:59:59Z.');
    return parsed;
  };
  const start = time('Start') ?? now;
  const expiry = time('Expiry');
  if (expiry === undefined) throw errors.invalidXml('<KeyInfo> must hold <Expiry>, the time the key stops being valid.');
  if (expiry <= start) throw badTime('Expiry', info.Expiry, 'must be after Start.');
  if (expiry <= now) throw badTime('Expiry', info.Expiry, 'is in the past.');
  if (expiry - start > MAX_KEY_LIFETIME_MS || expiry - now > MAX_KEY_LIFETIME_MS) {
    throw badTime('Expiry', info.Expiry, 'must be at most 7 days after Start and after the current time.');
  }
  const key: DelegationKeyFields = { oid: auth.principalId, tid: auth.tenantId, start: delegationTime(start), expiry: delegationTime(expiry), service: 'b', version: STORAGE_API_VERSION };
  const keys = keyring.get(ctx.account);
  if (!keys) throw errors.accountNotFound(ctx.account);
  const value = delegationKeyValue(keys.delegationRoot, key).toString('base64');
  respondXml(
    ctx,
    200,
    '<?xml version="1.0" encoding="utf-8"?><UserDelegationKey>' +
      `<SignedOid>${escapeXml(key.oid)}</SignedOid><SignedTid>${escapeXml(key.tid)}</SignedTid>` +
      `<SignedStart>${key.start}</SignedStart><SignedExpiry>${key.expiry}</SignedExpiry>` +
      `<SignedService>${key.service}</SignedService><SignedVersion>${key.version}</SignedVersion><Value>${value}</Value></UserDelegationKey>`,
  );
}
