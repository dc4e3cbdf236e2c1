import type { StorageService } from '../http/context.js';

/**
 * The SAS strings-to-sign, shared by the verifier (sas.ts) and the issuer
 * (sas-issue.ts, behind listAccountSas/listServiceSas), so a SAS the server
 * hands out is signed exactly as it will be checked. Absent optional fields are ''.
 */

export interface AccountSasFields {
  account: string;
  sp: string;
  ss: string;
  srt: string;
  st: string;
  se: string;
  sip: string;
  spr: string;
  sv: string;
  ses: string;
}

/** Account SAS: the encryption scope line is signed from 2020-12-06 on. */
export function accountSasStringToSign(f: AccountSasFields): string {
  const stringToSign = `${f.account}\n${f.sp}\n${f.ss}\n${f.srt}\n${f.st}\n${f.se}\n${f.sip}\n${f.spr}\n${f.sv}\n`;
  return f.sv >= '2020-12-06' ? `${stringToSign}${f.ses}\n` : stringToSign;
}

export interface ServiceSasFields {
  service: StorageService;
  account: string;
  /** Container (blob) or share (file). */
  container: string;
  /** The signed path below the container; '' for a container/share SAS. */
  path: string;
  sp: string;
  st: string;
  se: string;
  si: string;
  sip: string;
  spr: string;
  sv: string;
  sr: string;
  /** The snapshot or version time a bs/bv SAS names. */
  snapshotTime: string;
  ses: string;
  rscc: string;
  rscd: string;
  rsce: string;
  rscl: string;
  rsct: string;
}

/**
 * Service SAS, the documented layouts by signed version:
 * - before 2013-08-15: sp, st, se, resource, si, sv;
 * - 2013-08-15 on: + rscc, rscd, rsce, rscl, rsct;
 * - 2015-04-05 on: + sip, spr before sv;
 * - blob, 2018-11-09 on: + sr and the snapshot/version time after sv;
 * - blob, 2020-12-06 on: + ses after those.
 * The resource is `/blob/account/...` (`/file/...`) from 2015-02-21, `/account/...` before.
 */
export function serviceSasStringToSign(f: ServiceSasFields): string {
  const account = f.sv >= '2015-02-21' ? `/${f.service}/${f.account}` : `/${f.account}`;
  const resource = f.path ? `${account}/${f.container}/${f.path}` : `${account}/${f.container}`;
  let stringToSign = `${f.sp}\n${f.st}\n${f.se}\n${resource}\n${f.si}\n`;
  if (f.sv < '2013-08-15') return stringToSign + f.sv;
  if (f.sv >= '2015-04-05') stringToSign += `${f.sip}\n${f.spr}\n`;
  stringToSign += `${f.sv}\n`;
  if (f.service === 'blob' && f.sv >= '2018-11-09') {
    stringToSign += `${f.sr}\n${f.snapshotTime}\n`;
    if (f.sv >= '2020-12-06') stringToSign += `${f.ses}\n`;
  }
  return stringToSign + [f.rscc, f.rscd, f.rsce, f.rscl, f.rsct].join('\n');
}

/** A user delegation SAS signs the same fields as a service SAS, but the resource whole and, instead of `si`, its key's. */
export interface UserDelegationSasFields
  extends Pick<ServiceSasFields, 'sp' | 'st' | 'se' | 'sip' | 'spr' | 'sv' | 'sr' | 'snapshotTime' | 'ses' | 'rscc' | 'rscd' | 'rsce' | 'rscl' | 'rsct'> {
  /** `/blob/account/container[/blob]`. */
  resource: string;
  skoid: string;
  sktid: string;
  skt: string;
  ske: string;
  sks: string;
  skv: string;
  saoid: string;
  suoid: string;
  scid: string;
  skdutid: string;
  sduoid: string;
}

/**
 * User delegation SAS (blob), the documented layouts by signed version: the key's
 * fields (skoid … skv) follow the resource; 2020-02-10 adds saoid, suoid and scid
 * after them, 2020-12-06 the encryption scope after the snapshot time, 2025-07-05
 * the delegated user's tenant and object (skdutid, sduoid), and 2026-04-06 the
 * signed request headers and query parameters (srh, srq; empty here, as this
 * server refuses a SAS that names any) before the response headers.
 */
export function userDelegationSasStringToSign(f: UserDelegationSasFields): string {
  const lines = [f.sp, f.st, f.se, f.resource, f.skoid, f.sktid, f.skt, f.ske, f.sks, f.skv];
  if (f.sv >= '2020-02-10') lines.push(f.saoid, f.suoid, f.scid);
  if (f.sv >= '2025-07-05') lines.push(f.skdutid, f.sduoid);
  lines.push(f.sip, f.spr, f.sv, f.sr, f.snapshotTime);
  if (f.sv >= '2020-12-06') lines.push(f.ses);
  if (f.sv >= '2026-04-06') lines.push('', '');
  lines.push(f.rscc, f.rscd, f.rsce, f.rscl, f.rsct);
  return lines.join('\n');
}
