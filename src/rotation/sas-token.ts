import type { StorageService } from '../storage/http/context.js';
import { issueAccountSas, issueServiceSas } from '../storage/auth/sas-issue.js';
import { decodeSignature, matchKey } from '../storage/auth/signature.js';
import { accountSasStringToSign, serviceSasStringToSign } from '../storage/auth/string-to-sign.js';

/** What a datastore's SAS is for: the account, the service, and the container or share it names. */
export interface SasScope {
  account: string;
  service: StorageService;
  container: string;
}

/** A SAS token held by a consumer, read without ever logging or echoing it. */
export interface HeldSas {
  kind: 'account' | 'service';
  /** `se` as signed; absent when it comes from a stored access policy (`si`). */
  expiry?: string;
  expired: boolean;
  permissions?: string;
  /** `sr` of a service SAS, `srt` of an account SAS. */
  resource: string;
  /** Which key signed it: 0, 1, -1 (neither: stale), or undefined when it cannot be told (see `why`). */
  signedWith: 0 | 1 | -1 | undefined;
  why?: string;
  params: URLSearchParams;
}

/**
 * Rebuilds the string-to-sign of a consumer's SAS with the same code the Blob
 * and File services verify with (string-to-sign.ts), so "which key signed it"
 * is answered exactly as the data plane would answer it, with timing-safe
 * comparisons, and without the key ever leaving the server.
 *
 * A service SAS for one blob, file or directory (sr=b, f, d, ...) signs a path
 * a datastore does not record; its key cannot be told, and it is reported so.
 */
export function readHeldSas(token: string, scope: SasScope, keys: readonly [Buffer, Buffer], now = Date.now()): HeldSas {
  const params = new URLSearchParams(token.replace(/^\?/, ''));
  const get = (name: string) => params.get(name) ?? '';
  const se = params.get('se') ?? undefined;
  const expiry = se && !Number.isNaN(Date.parse(se)) ? se : undefined;
  const base = {
    expiry,
    expired: expiry !== undefined && Date.parse(expiry) <= now,
    permissions: params.get('sp') ?? undefined,
    params,
  };
  const sig = decodeSignature(get('sig').replaceAll(' ', '+'));
  if (params.has('ss')) {
    const held = { ...base, kind: 'account' as const, resource: get('srt') };
    if (!sig) return { ...held, signedWith: -1 };
    const stringToSign = accountSasStringToSign({
      account: scope.account,
      sp: get('sp'),
      ss: get('ss'),
      srt: get('srt'),
      st: get('st'),
      se: get('se'),
      sip: get('sip'),
      spr: get('spr'),
      sv: get('sv'),
      ses: get('ses'),
    });
    return { ...held, signedWith: matchKey(stringToSign, keys, sig) };
  }
  const sr = get('sr');
  const held = { ...base, kind: 'service' as const, resource: sr };
  if (sr !== 'c' && sr !== 's') {
    return { ...held, signedWith: undefined, why: `a SAS for a single ${sr === 'd' ? 'directory' : 'blob or file'} (sr=${sr}) names a path the datastore does not record` };
  }
  if (!sig) return { ...held, signedWith: -1 };
  const stringToSign = serviceSasStringToSign({
    service: scope.service,
    account: scope.account,
    container: scope.container,
    path: '',
    sp: get('sp'),
    st: get('st'),
    se: get('se'),
    si: get('si'),
    sip: get('sip'),
    spr: get('spr'),
    sv: get('sv'),
    sr,
    snapshotTime: '',
    ses: get('ses'),
    rscc: get('rscc'),
    rscd: get('rscd'),
    rsce: get('rsce'),
    rscl: get('rscl'),
    rsct: get('rsct'),
  });
  return { ...held, signedWith: matchKey(stringToSign, keys, sig) };
}

/**
 * A new token granting exactly what `held` grants (permissions, resource,
 * start, expiry, stored policy, IP range, protocol, response overrides),
 * signed with `key`; undefined when the token uses a field the issuer cannot
 * reproduce (an encryption scope), in which case it must be re-created by hand.
 */
export function reissueSas(held: HeldSas, scope: SasScope, key: string): string | undefined {
  const p = held.params;
  const optional = (name: string) => p.get(name) || undefined;
  if (p.get('ses')) return undefined;
  if (held.kind === 'account') {
    return issueAccountSas(scope.account, key, {
      services: p.get('ss') ?? '',
      resourceTypes: p.get('srt') ?? '',
      permissions: p.get('sp') ?? '',
      start: optional('st'),
      expiry: p.get('se') ?? '',
      ip: optional('sip'),
      protocol: optional('spr'),
    });
  }
  return issueServiceSas(scope.account, key, {
    service: scope.service,
    container: scope.container,
    path: '',
    resource: p.get('sr') ?? '',
    permissions: optional('sp'),
    start: optional('st'),
    expiry: optional('se'),
    identifier: optional('si'),
    ip: optional('sip'),
    protocol: optional('spr'),
    cacheControl: optional('rscc'),
    contentDisposition: optional('rscd'),
    contentEncoding: optional('rsce'),
    contentLanguage: optional('rscl'),
    contentType: optional('rsct'),
  });
}
