import type { StorageService } from '../http/context.js';
import { hmacSha256 } from './signature.js';
import { accountSasStringToSign, serviceSasStringToSign } from './string-to-sign.js';

/** The signed version of the SAS tokens the server issues; the verifier accepts it and every older one. */
const ISSUED_SAS_VERSION = '2022-11-02';

/** A SAS time as the verifier reads it: ISO 8601 UTC to the second. */
export function sasTime(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface AccountSasRequest {
  /** Signed services, e.g. 'b' or 'bf'. */
  services: string;
  /** Signed resource types, e.g. 'sco'. */
  resourceTypes: string;
  permissions: string;
  start?: string;
  expiry: string;
  ip?: string;
  protocol?: string;
}

/** An account SAS query string (without '?') signed with `key` (base64, as listKeys shows it). */
export function issueAccountSas(account: string, key: string, request: AccountSasRequest): string {
  const fields = {
    account,
    sp: request.permissions,
    ss: request.services,
    srt: request.resourceTypes,
    st: request.start ?? '',
    se: request.expiry,
    sip: request.ip ?? '',
    spr: request.protocol ?? '',
    sv: ISSUED_SAS_VERSION,
    ses: '',
  };
  const sig = hmacSha256(Buffer.from(key, 'base64'), accountSasStringToSign(fields)).toString('base64');
  return query([
    ['sv', fields.sv],
    ['ss', fields.ss],
    ['srt', fields.srt],
    ['sp', fields.sp],
    ['st', fields.st],
    ['se', fields.se],
    ['sip', fields.sip],
    ['spr', fields.spr],
    ['sig', sig],
  ]);
}

export interface ServiceSasRequest {
  service: StorageService;
  container: string;
  /** The blob or file path for sr=b/f; '' for a container or share. */
  path: string;
  /** 'c' or 'b' (blob), 's' or 'f' (file). */
  resource: string;
  permissions?: string;
  start?: string;
  expiry?: string;
  /** A stored access policy on the container/share. */
  identifier?: string;
  ip?: string;
  protocol?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentType?: string;
}

/** A service SAS query string (without '?') for one container, share, blob or file. */
export function issueServiceSas(account: string, key: string, request: ServiceSasRequest): string {
  const fields = {
    service: request.service,
    account,
    container: request.container,
    path: request.path,
    sp: request.permissions ?? '',
    st: request.start ?? '',
    se: request.expiry ?? '',
    si: request.identifier ?? '',
    sip: request.ip ?? '',
    spr: request.protocol ?? '',
    sv: ISSUED_SAS_VERSION,
    sr: request.resource,
    snapshotTime: '',
    ses: '',
    rscc: request.cacheControl ?? '',
    rscd: request.contentDisposition ?? '',
    rsce: request.contentEncoding ?? '',
    rscl: request.contentLanguage ?? '',
    rsct: request.contentType ?? '',
  };
  const sig = hmacSha256(Buffer.from(key, 'base64'), serviceSasStringToSign(fields)).toString('base64');
  return query([
    ['sv', fields.sv],
    ['sr', fields.sr],
    ['si', fields.si],
    ['sp', fields.sp],
    ['st', fields.st],
    ['se', fields.se],
    ['sip', fields.sip],
    ['spr', fields.spr],
    ['rscc', fields.rscc],
    ['rscd', fields.rscd],
    ['rsce', fields.rsce],
    ['rscl', fields.rscl],
    ['rsct', fields.rsct],
    ['sig', sig],
  ]);
}

/** Empty fields are left out of the token: the verifier reads an absent parameter as ''. */
function query(pairs: [string, string][]): string {
  return new URLSearchParams(pairs.filter(([, value]) => value !== '')).toString();
}
