import type { StorageRequest } from '../http/context.js';
import { errors } from '../http/errors.js';
import { decodeSignature, matchKey, sasSignatureText } from './signature.js';
import type { AccountKeys, OperationAccess } from './types.js';

/** The conditions every SAS, account or service, states and the server enforces. */

/** A query parameter the SAS must carry; `what` names it for the caller. */
export function requiredParam(query: URLSearchParams, name: string, what: string): string {
  const value = query.get(name);
  if (!value) throw errors.authFailed(`The SAS is missing its ${what} (${name}); it is required.`);
  return value;
}

/** The index of the key that signed the SAS; a mismatch reports the string-to-sign, never a signature. */
export function checkSasSignature(stringToSign: string, keys: AccountKeys, sig: string): 0 | 1 {
  const expected = decodeSignature(sasSignatureText(sig));
  if (!expected) throw errors.authFailed('The SAS signature (sig) is not the canonical base64 of an HMAC-SHA256 (44 characters ending in =); send it exactly as it was signed, URL-encoded.');
  const keyIndex = matchKey(stringToSign, keys.keys, expected);
  if (keyIndex === -1) {
    throw errors.authFailed(
      `Signature did not match. String to sign used was '${stringToSign}'. ` +
        'The SAS was signed with a key the account does not have (it may have been regenerated), or a signed parameter was changed.',
    );
  }
  return keyIndex;
}

export function parseSasTime(value: string, name: string): number {
  // Date.parse also accepts forms such as '1' or 'March 7'; a SAS time is ISO 8601.
  const code = value.charCodeAt(0);
  const time = code >= 0x30 && code <= 0x39 && value.charCodeAt(4) === 0x2d ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) throw errors.authFailed(`The SAS ${name}='${value}' is not an ISO 8601 UTC time such as 2030-01-31T23:59:59Z.`);
  return time;
}

/** Valid from `start` (inclusive, if given) until `expiry` (exclusive), with no clock skew allowance. */
export function checkTimeWindow(start: string | undefined, expiry: string): void {
  const now = Date.now();
  if (now >= parseSasTime(expiry, 'expiry (se)')) {
    throw errors.authFailed(
      `Signature not valid in the specified time frame: the SAS expired at ${expiry} (server time ${new Date(now).toISOString()}). Issue a new SAS.`,
    );
  }
  if (start && now < parseSasTime(start, 'start (st)')) {
    throw errors.authFailed(
      `Signature not valid in the specified time frame: the SAS is valid from ${start} (server time ${new Date(now).toISOString()}). ` +
        'Wait, or issue a SAS whose start is not in the future.',
    );
  }
}

/** `spr` is 'https' or 'https,http' (HTTP alone is not a permitted value). */
export function checkProtocol(spr: string | null, ctx: StorageRequest): void {
  if (spr === null || spr === 'https,http') return;
  if (spr !== 'https') throw errors.authFailed(`The SAS signed protocol spr='${spr}' is invalid; it must be 'https' or 'https,http'.`);
  if (ctx.protocol !== 'https') throw errors.protocolMismatch();
}

function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = -1;
  let octets = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (code === 0x2e) {
      if (octet < 0 || octet > 255 || ++octets > 4) return undefined;
      value = value * 256 + octet;
      octet = -1;
    } else if (code >= 0x30 && code <= 0x39) {
      octet = (octet < 0 ? 0 : octet * 10) + code - 0x30;
    } else {
      return undefined;
    }
  }
  return octets === 4 ? value : undefined;
}

/** `sip` is one IPv4 address or an inclusive range `low-high`. */
export function checkSourceIp(sip: string | null, ctx: StorageRequest): void {
  if (!sip) return;
  const dash = sip.indexOf('-');
  const low = parseIpv4(dash < 0 ? sip : sip.slice(0, dash));
  const high = dash < 0 ? low : parseIpv4(sip.slice(dash + 1));
  if (low === undefined || high === undefined) {
    throw errors.authFailed(`The SAS signed IP sip='${sip}' is invalid; it must be an IPv4 address or a range such as 10.0.0.1-10.0.0.255.`);
  }
  let remote = ctx.req.socket.remoteAddress ?? '';
  // An IPv4 client of a dual-stack listener shows up as an IPv4-mapped IPv6 address.
  if (remote.startsWith('::ffff:')) remote = remote.slice(7);
  const caller = parseIpv4(remote);
  if (caller === undefined || caller < low || caller > high) throw errors.sourceIpMismatch();
}

/** Any one of the operation's permission letters suffices. */
export function checkPermissions(granted: string, access: OperationAccess): void {
  for (let i = 0; i < access.permissions.length; i++) {
    if (granted.includes(access.permissions[i]!)) return;
  }
  throw errors.permissionMismatch(`The SAS grants sp=${granted}; this operation needs one of '${access.permissions}'.`);
}
