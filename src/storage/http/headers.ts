import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ContentHeaders, CopyInfo } from '../../db/records.js';
import type { AuthOutcome, SasResponseOverrides } from '../auth/types.js';
import { StorageError, errors } from './errors.js';

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

const METADATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const METADATA_LIMIT = 8 * 1024;

/** `x-ms-meta-*` request headers as a metadata map; names must be C# identifiers, as Azure requires. */
export function readMetadata(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  let size = 0;
  for (const name in headers) {
    if (!name.startsWith('x-ms-meta-')) continue;
    const key = name.slice(10);
    if (!METADATA_NAME.test(key)) {
      throw new StorageError(
        400,
        'InvalidMetadata',
        `The metadata name '${key}' is invalid: metadata names must be valid C# identifiers (letters, digits and underscores, not starting with a digit).`,
      );
    }
    const value = header(headers, name)!;
    metadata[key] = value;
    size += key.length + value.length;
  }
  if (size > METADATA_LIMIT) {
    throw new StorageError(400, 'MetadataTooLarge', `The metadata exceeds the maximum permissible size of ${METADATA_LIMIT} bytes.`);
  }
  return metadata;
}

export function writeMetadata(res: ServerResponse, metadata: Record<string, string>): void {
  for (const key in metadata) res.setHeader(`x-ms-meta-${key}`, metadata[key]!);
}

/**
 * Content headers as an upload reads them: `x-ms-blob-content-*` (Blob) or
 * `x-ms-content-*` (File, prefix 'x-ms-'), falling back to the plain HTTP header.
 */
export function readContentHeaders(headers: IncomingHttpHeaders, usePlainHeaders: boolean, prefix = 'x-ms-blob-'): ContentHeaders {
  const pick = (name: string) => header(headers, `${prefix}${name}`) ?? (usePlainHeaders ? header(headers, name) : undefined);
  const md5 = header(headers, `${prefix}content-md5`);
  if (md5 !== undefined) checkMd5Format(md5);
  return {
    contentType: pick('content-type'),
    contentEncoding: pick('content-encoding'),
    contentLanguage: pick('content-language'),
    cacheControl: pick('cache-control'),
    contentDisposition: pick('content-disposition'),
    contentMd5: md5,
  };
}

const NO_OVERRIDES: SasResponseOverrides = Object.freeze({});

/**
 * Adds what a read of a blob or file answers about its content: the content
 * headers (a SAS may override them with rsct, rsce, …) and its last copy's
 * x-ms-copy-* headers. Assigned one by one into `headers`: the read path builds
 * no intermediate objects.
 */
export function addContentHeaders(headers: OutgoingHttpHeaders, record: ContentHeaders & { copy?: CopyInfo }, auth: AuthOutcome): void {
  const overrides = auth.kind === 'sas' || auth.kind === 'delegatedSas' ? auth.responseOverrides : NO_OVERRIDES;
  headers['content-type'] = overrides.contentType ?? record.contentType ?? 'application/octet-stream';
  const encoding = overrides.contentEncoding ?? record.contentEncoding;
  if (encoding !== undefined) headers['content-encoding'] = encoding;
  const language = overrides.contentLanguage ?? record.contentLanguage;
  if (language !== undefined) headers['content-language'] = language;
  const cacheControl = overrides.cacheControl ?? record.cacheControl;
  if (cacheControl !== undefined) headers['cache-control'] = cacheControl;
  const disposition = overrides.contentDisposition ?? record.contentDisposition;
  if (disposition !== undefined) headers['content-disposition'] = disposition;
  const copy = record.copy;
  if (copy) {
    headers['x-ms-copy-id'] = copy.id;
    headers['x-ms-copy-source'] = copy.source;
    headers['x-ms-copy-status'] = copy.status;
    headers['x-ms-copy-progress'] = copy.progress;
    if (copy.completed !== undefined) headers['x-ms-copy-completion-time'] = httpDate(copy.completed);
    if (copy.statusDescription !== undefined) headers['x-ms-copy-status-description'] = copy.statusDescription;
  }
}

export function checkMd5Format(value: string): Buffer {
  const digest = Buffer.from(value, 'base64');
  if (digest.length !== 16 || digest.toString('base64') !== value) throw errors.invalidMd5();
  return digest;
}

/** The request's declared body length, required for uploads, as Azure requires. */
export function contentLength(headers: IncomingHttpHeaders, max: number): number {
  const raw = headers['content-length'];
  if (raw === undefined) {
    throw new StorageError(411, 'MissingContentLengthHeader', 'The Content-Length header is required for this request; chunked uploads are not supported.');
  }
  const length = Number(raw);
  if (!Number.isSafeInteger(length) || length < 0) throw errors.invalidHeader('Content-Length', 'it must be a non-negative integer.');
  if (length > max) throw errors.requestBodyTooLarge(max);
  return length;
}

const formattedDates = new Map<number, string>();

/** RFC 1123 date, memoized: every response formats a few, mostly the same ones (now, a blob's times). */
/** Operations whose content comes from elsewhere (a source URL) or nowhere take no request body. */
export function requireNoBody(headers: IncomingHttpHeaders, why: string): void {
  const declared = headers['content-length'];
  if ((declared !== undefined && declared !== '0') || headers['transfer-encoding'] !== undefined) {
    throw errors.invalidHeader('Content-Length', `${why}; send no body (Content-Length: 0).`);
  }
}

export function httpDate(ms: number): string {
  let text = formattedDates.get(ms);
  if (text === undefined) {
    if (formattedDates.size >= 4096) formattedDates.clear();
    text = new Date(ms).toUTCString();
    formattedDates.set(ms, text);
  }
  return text;
}

let lastTicks = 0n;
/** Azure-style quoted ETag, strictly increasing within this process. */
/** An ETag as listings write it: Azure leaves out the quotes its ETag headers carry. */
export function listedEtag(etag: string): string {
  return etag.startsWith('"') && etag.endsWith('"') ? etag.slice(1, -1) : etag;
}

export function newEtag(now = Date.now()): string {
  // 100 ns ticks since 0001-01-01, like .NET DateTime, which Azure's ETags encode.
  let ticks = BigInt(now) * 10000n + 621355968000000000n;
  if (ticks <= lastTicks) ticks = lastTicks + 1n;
  lastTicks = ticks;
  return `"0x${ticks.toString(16).toUpperCase()}"`;
}
