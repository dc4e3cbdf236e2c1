import type { StorageRequest } from '../http/context.js';
import { errors } from '../http/errors.js';
import {
  checkPermissions,
  checkProtocol,
  checkSasSignature,
  checkSourceIp,
  checkTimeWindow,
  requiredParam,
} from './sas-conditions.js';
import { accountSasStringToSign, serviceSasStringToSign } from './string-to-sign.js';
import type { AccessPolicyLookup, AccountKeys, AuthOutcome, OperationAccess, SasResponseOverrides } from './types.js';

export type SasOutcome = Extract<AuthOutcome, { kind: 'sas' }>;

const NO_OVERRIDES: SasResponseOverrides = Object.freeze({});

/**
 * Account SAS (`ss` present): string-to-sign per signed version, with the
 * encryption scope line from 2020-12-06 on. Grants by service, resource type and
 * permission rather than by resource.
 */
export function verifyAccountSas(ctx: StorageRequest, keys: AccountKeys, access: OperationAccess): SasOutcome {
  const query = ctx.query;
  const sv = requiredParam(query, 'sv', 'signed version');
  const sig = requiredParam(query, 'sig', 'signature');
  const ss = requiredParam(query, 'ss', 'signed services');
  const srt = requiredParam(query, 'srt', 'signed resource types');
  const sp = requiredParam(query, 'sp', 'signed permissions');
  const se = requiredParam(query, 'se', 'signed expiry');
  if (sv < '2015-04-05') throw errors.authFailed(`An account SAS needs signed version sv=2015-04-05 or later; this one has sv=${sv}.`);
  const st = query.get('st') ?? '';
  const sip = query.get('sip');
  const spr = query.get('spr');
  const stringToSign = accountSasStringToSign({ account: ctx.account, sp, ss, srt, st, se, sip: sip ?? '', spr: spr ?? '', sv, ses: query.get('ses') ?? '' });
  const keyIndex = checkSasSignature(stringToSign, keys, sig);

  checkTimeWindow(st, se);
  checkProtocol(spr, ctx);
  checkSourceIp(sip, ctx);
  const service = ctx.service === 'blob' ? 'b' : 'f';
  if (!ss.includes(service)) {
    throw errors.serviceMismatch(`The account SAS grants ss=${ss}; the ${ctx.service} service needs '${service}'.`);
  }
  if (!srt.includes(access.resourceType)) {
    throw errors.resourceTypeMismatch(`The account SAS grants srt=${srt}; this operation needs '${access.resourceType}'.`);
  }
  checkPermissions(sp, access);
  return { kind: 'sas', keyIndex, responseOverrides: NO_OVERRIDES };
}

const SIGNED_RESOURCES = { blob: ['c', 'b', 'bs', 'bv', 'd'], file: ['s', 'f'] } as const;

/**
 * Service SAS (`sr` present): signed for one container/share (sr=c, s), one
 * blob, snapshot, version or file (b, bs, bv, f) or one directory (d), so the
 * resource it names is rebuilt from the request and covered by the signature.
 * Missing sp/st/se come from the stored access policy `si`.
 */
export function verifyServiceSas(
  ctx: StorageRequest,
  keys: AccountKeys,
  access: OperationAccess,
  lookupPolicy: AccessPolicyLookup,
): SasOutcome {
  const query = ctx.query;
  const sv = requiredParam(query, 'sv', 'signed version');
  const sig = requiredParam(query, 'sig', 'signature');
  const sr = requiredParam(query, 'sr', 'signed resource');
  if (!(SIGNED_RESOURCES[ctx.service] as readonly string[]).includes(sr)) {
    throw errors.authFailed(`The SAS signed resource sr=${sr} is not valid for the ${ctx.service} service (use one of ${SIGNED_RESOURCES[ctx.service].join(', ')}).`);
  }
  checkScope(access, sr);
  const si = query.get('si');
  const sp = query.get('sp');
  const st = query.get('st');
  const se = query.get('se');
  if (!si) {
    if (!sp) throw errors.authFailed('The SAS is missing its signed permissions (sp); it is required without a stored access policy (si).');
    if (!se) throw errors.authFailed('The SAS is missing its signed expiry (se); it is required without a stored access policy (si).');
  }
  const overrides = [query.get('rscc'), query.get('rscd'), query.get('rsce'), query.get('rscl'), query.get('rsct')] as const;
  const keyIndex = checkSasSignature(serviceStringToSign(ctx, sv, sr, overrides), keys, sig);

  let permissions = sp;
  let start = st;
  let expiry = se;
  if (si) {
    const policy = lookupPolicy(ctx.container, si);
    if (!policy) {
      throw errors.authFailed(`The stored access policy '${si}' named by the SAS (si) does not exist on '${ctx.container}'; removing a policy revokes its SAS.`);
    }
    permissions = fromSasOrPolicy('sp', sp, policy.permissions, si);
    start = fromSasOrPolicy('st', st, policy.start, si);
    expiry = fromSasOrPolicy('se', se, policy.expiry, si);
    if (!permissions) throw errors.authFailed(`Neither the SAS nor its stored access policy '${si}' gives the signed permissions (sp).`);
    if (!expiry) throw errors.authFailed(`Neither the SAS nor its stored access policy '${si}' gives the signed expiry (se).`);
  }
  checkTimeWindow(start ?? undefined, expiry!);
  checkProtocol(query.get('spr'), ctx);
  checkSourceIp(query.get('sip'), ctx);
  checkPermissions(permissions!, access);
  return { kind: 'sas', keyIndex, responseOverrides: responseOverrides(overrides) };
}

/** A service SAS never reaches the service level, and an object SAS never a whole container. */
export function checkScope(access: OperationAccess, sr: string): void {
  if (access.scope === 'service') {
    throw errors.resourceTypeMismatch(`A service SAS (sr=${sr}) cannot authorize service-level operations; use an account SAS with srt=s.`);
  }
  if (access.scope === 'container' && sr !== 'c' && sr !== 's') {
    throw errors.resourceTypeMismatch(`A SAS for a single blob, file or directory (sr=${sr}) cannot authorize container or share operations; use sr=c or sr=s.`);
  }
}

/** The snapshot or version a blob snapshot (bs) or version (bv) SAS names, as it is signed; '' for any other. */
export function signedSnapshotTime(query: URLSearchParams, sr: string): string {
  return (sr === 'bs' ? query.get('snapshot') : sr === 'bv' ? query.get('versionid') : null) ?? '';
}

/** Azure forbids stating a field both in the SAS and in its stored access policy. */
function fromSasOrPolicy(name: string, inSas: string | null, inPolicy: string | undefined, si: string): string | null {
  if (inSas && inPolicy) {
    throw errors.authFailed(`The SAS and its stored access policy '${si}' both specify ${name}; state it in only one of them.`);
  }
  return inSas || inPolicy || null;
}

type Overrides = readonly [string | null, string | null, string | null, string | null, string | null];

/** The verifier's view of the service string-to-sign: every field as the request carries it. */
function serviceStringToSign(ctx: StorageRequest, sv: string, sr: string, overrides: Overrides): string {
  const query = ctx.query;
  const [rscc, rscd, rsce, rscl, rsct] = overrides.map((value) => value ?? '');
  return serviceSasStringToSign({
    service: ctx.service,
    account: ctx.account,
    container: ctx.container,
    path: signedPath(ctx, sr),
    sp: query.get('sp') ?? '',
    st: query.get('st') ?? '',
    se: query.get('se') ?? '',
    si: query.get('si') ?? '',
    sip: query.get('sip') ?? '',
    spr: query.get('spr') ?? '',
    sv,
    sr,
    snapshotTime: signedSnapshotTime(query, sr),
    ses: query.get('ses') ?? '',
    rscc: rscc!,
    rscd: rscd!,
    rsce: rsce!,
    rscl: rscl!,
    rsct: rsct!,
  });
}

/**
 * The path below the container that the SAS names: none for sr=c/s, the object
 * itself for b/bs/bv/f, and for a directory SAS the first `sdd` segments of the
 * requested path, so a request outside that directory fails the signature.
 */
function signedPath(ctx: StorageRequest, sr: string): string {
  if (sr === 'c' || sr === 's') return '';
  if (sr !== 'd') return ctx.path;
  const sdd = requiredParam(ctx.query, 'sdd', 'signed directory depth');
  const depth = Number(sdd);
  if (!Number.isInteger(depth) || depth < 0) throw errors.authFailed(`The SAS signed directory depth sdd='${sdd}' is not a non-negative integer.`);
  let end = -1;
  for (let segment = 0; segment < depth; segment++) {
    if (end + 1 >= ctx.path.length) throw errors.authFailed(`The request is outside the directory (sdd=${depth}) that the SAS grants.`);
    const slash = ctx.path.indexOf('/', end + 1);
    end = slash < 0 ? ctx.path.length : slash;
  }
  return depth === 0 ? '' : ctx.path.slice(0, end);
}

export function responseOverrides([cacheControl, contentDisposition, contentEncoding, contentLanguage, contentType]: Overrides): SasResponseOverrides {
  if (cacheControl === null && contentDisposition === null && contentEncoding === null && contentLanguage === null && contentType === null) {
    return NO_OVERRIDES;
  }
  const overrides: { -readonly [K in keyof SasResponseOverrides]: string } = {};
  if (cacheControl !== null) overrides.cacheControl = cacheControl;
  if (contentDisposition !== null) overrides.contentDisposition = contentDisposition;
  if (contentEncoding !== null) overrides.contentEncoding = contentEncoding;
  if (contentLanguage !== null) overrides.contentLanguage = contentLanguage;
  if (contentType !== null) overrides.contentType = contentType;
  return overrides;
}
