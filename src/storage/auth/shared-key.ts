import type { IncomingHttpHeaders } from 'node:http';
import type { StorageRequest } from '../http/context.js';
import { errors } from '../http/errors.js';
import { compareHeaderNames } from './header-order.js';
import { decodeSignature, matchKey } from './signature.js';
import type { AccountKeys } from './types.js';

/** Azure refuses a Shared Key request dated more than 15 minutes from its clock, either way. */
const DATE_WINDOW_MS = 15 * 60 * 1000;

/**
 * Verifies `Authorization: SharedKey account:signature` (or `SharedKeyLite`) for
 * the Blob and File services and returns the index of the key that signed it.
 * `credential` is the header value after the scheme.
 *
 * The exact string-to-sign is ambiguous in practice: the JS SDK puts
 * Content-Language before Content-Encoding, signs a path-style URL's account
 * twice, and keeps header values as they are, while the documentation, Azurite
 * and other SDKs differ on each point. The SDK's form is tried first; the others
 * only when it fails, so a valid SDK request costs one HMAC.
 */
export function verifySharedKey(ctx: StorageRequest, keys: AccountKeys, lite: boolean, credential: string): 0 | 1 {
  const colon = credential.lastIndexOf(':');
  if (colon <= 0) {
    throw errors.authFailed(`The Authorization header must have the form '${lite ? 'SharedKeyLite' : 'SharedKey'} account:signature'.`);
  }
  const account = credential.slice(0, colon).trim();
  if (account !== ctx.account) {
    throw errors.authFailed(`The Authorization header is signed for account '${account}', but the request is for account '${ctx.account}'.`);
  }
  const expected = decodeSignature(credential.slice(colon + 1));
  if (!expected) throw errors.authFailed('The signature in the Authorization header is not the canonical base64 of an HMAC-SHA256 (44 characters ending in =).');
  checkRequestDate(ctx.req.headers);

  let reported: string | undefined;
  for (const stringToSign of lite ? liteStringsToSign(ctx) : stringsToSign(ctx)) {
    reported ??= stringToSign;
    const keyIndex = matchKey(stringToSign, keys.keys, expected);
    if (keyIndex !== -1) return keyIndex;
  }
  throw errors.authFailed(
    'The MAC signature found in the HTTP request is not the same as any computed signature. ' +
      `Server used following string to sign: '${redactSecrets(reported!)}'.`,
  );
}

function checkRequestDate(headers: IncomingHttpHeaders): void {
  const sent = (headers['x-ms-date'] as string | undefined) ?? headers.date;
  if (!sent) throw errors.authFailed('Request date header not specified: send x-ms-date (or Date) with the request time in RFC 1123 format.');
  const time = Date.parse(sent);
  if (Number.isNaN(time)) throw errors.authFailed(`The request date '${sent}' is not a valid RFC 1123 date.`);
  if (Math.abs(Date.now() - time) > DATE_WINDOW_MS) {
    throw errors.authFailed(
      `The request date '${sent}' is outside the allowed 15-minute window around the server time ` +
        `(${new Date().toUTCString()}). Check the client's clock.`,
    );
  }
}

function header(headers: IncomingHttpHeaders, name: string): string {
  return (headers[name] as string | undefined) ?? '';
}

/** Shared Key: VERB, eleven standard headers, canonicalized headers, canonicalized resource. */
function* stringsToSign(ctx: StorageRequest): Generator<string> {
  const headers = ctx.req.headers;
  const verb = `${ctx.req.method}\n`;
  const encoding = header(headers, 'content-encoding');
  const language = header(headers, 'content-language');
  const date = header(headers, 'date');
  const beforeDate = `\n${contentLength(headers)}\n${header(headers, 'content-md5')}\n${header(headers, 'content-type')}\n`;
  const afterDate =
    `\n${header(headers, 'if-modified-since')}\n${header(headers, 'if-match')}\n${header(headers, 'if-none-match')}\n` +
    `${header(headers, 'if-unmodified-since')}\n${header(headers, 'range')}\n`;
  const names = xmsHeaderNames(headers);
  const canonicalHeaders = canonicalize(headers, names, false);
  const sdkForm = `${verb}${language}\n${encoding}${beforeDate}${date}${afterDate}${canonicalHeaders}/${ctx.account}${ctx.rawPath}${canonicalQuery(ctx.query, false)}`;
  yield sdkForm;

  const heads = [`${verb}${encoding}\n${language}${beforeDate}`, `${verb}${language}\n${encoding}${beforeDate}`];
  const tails: string[] = [];
  for (const resource of resourceVariants(ctx)) for (const query of queryVariants(ctx.query)) tails.push(resource + query);
  yield* unique(sdkForm, heads, datesToSign(headers), headerVariants(headers, names, canonicalHeaders), tails, (head, dateLine, block, tail) =>
    `${head}${dateLine}${afterDate}${block}${tail}`,
  );
}

/** Shared Key Lite: VERB, Content-MD5, Content-Type, Date, canonicalized headers, resource with `?comp=` only. */
function* liteStringsToSign(ctx: StorageRequest): Generator<string> {
  const headers = ctx.req.headers;
  const head = `${ctx.req.method}\n${header(headers, 'content-md5')}\n${header(headers, 'content-type')}\n`;
  const names = xmsHeaderNames(headers);
  const canonicalHeaders = canonicalize(headers, names, false);
  const comp = ctx.query.get('comp');
  const query = comp === null ? '' : `?comp=${comp}`;
  const dates = datesToSign(headers);
  const first = `${head}${dates[0]}\n${canonicalHeaders}/${ctx.account}${ctx.rawPath}${query}`;
  yield first;
  const tails = resourceVariants(ctx).map((resource) => resource + query);
  yield* unique(first, [head], dates, headerVariants(headers, names, canonicalHeaders), tails, (start, dateLine, block, tail) =>
    `${start}${dateLine}\n${block}${tail}`,
  );
}

/** Every combination of the parts, each string once, leaving out the one already tried. */
function* unique(
  tried: string,
  heads: readonly string[],
  dates: readonly string[],
  blocks: readonly string[],
  tails: readonly string[],
  join: (head: string, date: string, block: string, tail: string) => string,
): Generator<string> {
  const seen = new Set([tried]);
  for (const head of heads) {
    for (const date of dates) {
      for (const block of blocks) {
        for (const tail of tails) {
          const candidate = join(head, date, block, tail);
          if (!seen.has(candidate)) {
            seen.add(candidate);
            yield candidate;
          }
        }
      }
    }
  }
}

/** The Date line is the Date header; with x-ms-date present the documentation leaves it empty. */
function datesToSign(headers: IncomingHttpHeaders): string[] {
  const date = header(headers, 'date');
  return date && headers['x-ms-date'] ? [date, ''] : [date];
}

/** Since version 2015-02-21 a zero Content-Length signs as empty; older clients sign '0'. */
function contentLength(headers: IncomingHttpHeaders): string {
  const length = header(headers, 'content-length');
  if (length !== '0') return length;
  const version = headers['x-ms-version'];
  return version !== undefined && version < '2015-02-21' ? '0' : '';
}

function xmsHeaderNames(headers: IncomingHttpHeaders): string[] {
  const names: string[] = [];
  for (const name in headers) if (name.startsWith('x-ms-')) names.push(name);
  return names.sort(compareHeaderNames);
}

/**
 * `name:value\n` per header. node:http already lowercases names and trims values;
 * `collapse` also folds inner runs of whitespace, as the documentation asks and
 * the JS SDK does not.
 */
function canonicalize(headers: IncomingHttpHeaders, names: readonly string[], collapse: boolean): string {
  let block = '';
  for (const name of names) {
    const value = header(headers, name);
    block += `${name}:${collapse ? value.replace(/\s+/g, ' ') : value}\n`;
  }
  return block;
}

/** The SDK's block, then an ordinal sort (other SDKs) and collapsed whitespace (documentation). */
function headerVariants(headers: IncomingHttpHeaders, cultureOrder: readonly string[], sdkBlock: string): string[] {
  const ordinalOrder = [...cultureOrder].sort();
  const variants = [sdkBlock, canonicalize(headers, ordinalOrder, false), canonicalize(headers, cultureOrder, true), canonicalize(headers, ordinalOrder, true)];
  return [...new Set(variants)];
}

/**
 * `/account` + the path as sent. For a path-style URL the path already starts with
 * the account, which the SDK (and the documentation, for the emulator) therefore
 * signs twice; Azurite-style clients sign it once.
 */
function resourceVariants(ctx: StorageRequest): string[] {
  const doubled = `/${ctx.account}${ctx.rawPath}`;
  const prefix = `/${ctx.account}`;
  if (ctx.rawPath === prefix) return [doubled, `${prefix}/`];
  if (ctx.rawPath.startsWith(`${prefix}/`)) return [doubled, ctx.rawPath];
  return [doubled];
}

/** Names lowercased and sorted, values decoded, repeated names' values sorted and joined by ','. */
function canonicalQuery(query: URLSearchParams, includeEmpty: boolean): string {
  if (query.size === 0) return '';
  const values = new Map<string, string[]>();
  for (const [rawName, value] of query) {
    // The JS SDK leaves out parameters without a name or a value.
    if (!includeEmpty && (rawName === '' || value === '')) continue;
    const name = rawName.toLowerCase();
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  let canonical = '';
  for (const name of [...values.keys()].sort()) canonical += `\n${name}:${values.get(name)!.sort().join(',')}`;
  return canonical;
}

function queryVariants(query: URLSearchParams): string[] {
  const withoutEmpty = canonicalQuery(query, false);
  const withEmpty = canonicalQuery(query, true);
  return withEmpty === withoutEmpty ? [withoutEmpty] : [withoutEmpty, withEmpty];
}

/**
 * Copy sources may carry a SAS or bearer token and x-ms-encryption-key is a
 * customer's key: the error detail must not echo them.
 */
function redactSecrets(stringToSign: string): string {
  return stringToSign.replace(/^(x-ms-(?:copy-source[a-z-]*|(?:source-)?encryption-key)):.*$/gm, '$1:(redacted)');
}
