import { randomUUID } from 'node:crypto';
import { Transform } from 'node:stream';
import { sendPieces } from '../../bytes/body-pieces.js';
import type { WrittenContent } from '../../bytes/content-store.js';
import type { IncomingMessage } from 'node:http';
import type { BlobRecord, ContentHeaders } from '../../db/records.js';
import { authenticate } from '../auth/authenticate.js';
import type { KeyRing } from '../auth/keyring.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors } from '../http/errors.js';
import { checkMd5Format, header, httpDate, readContentHeaders, readMetadata, requireNoBody } from '../http/headers.js';
import { parseBothEnds, type ByteRange } from '../http/range.js';
import { parseLocalUrl } from '../http/request-url.js';
import { respondEmpty } from '../http/respond.js';
import { NoBlob, commitBlob, discard, newBlobVersion, openBlobBytes, orMissing, requireBlob } from './blobs.js';
import { leaseAfterWrite } from './leases.js';
import { requireContainer } from './containers.js';
import { checkOnline, uploadTier } from './tiers.js';
import { tagsHeader } from './tag-set.js';
import { LIMITS, type BlobRequest } from './deps.js';
import { READ_BLOB } from './access.js';

const cannotVerify = (status: 401 | 403 | 404, why: string) => new StorageError(status, 'CannotVerifyCopySource', `Could not verify the copy source: ${why}`);

/** The source's own authorization: a refusal (401, 403) is CannotVerifyCopySource with its status, saying what refused and why. */
async function asCopySourceCheck<T>(check: Promise<T>, what: string): Promise<T> {
  try {
    return await check;
  } catch (error) {
    if (error instanceof StorageError && (error.status === 401 || error.status === 403)) {
      throw cannotVerify(error.status, `${what} does not allow reading it (${error.code}: ${error.message})`);
    }
    throw error;
  }
}

/**
 * Copy Blob and Copy Blob From URL within this server. The destination shares
 * the source's content files, so a copy costs one metadata commit whatever the
 * size. Within an account, and for Copy Blob From URL, it completes before the
 * answer. Across accounts Copy Blob is asynchronous, as Azure's is: it answers
 * `pending`, its content arrives after the server's --async-copy-delay, and
 * Abort Copy Blob can stop it until then. The content is captured when the copy
 * starts, so what arrives is the source as it was.
 */
export function makeCopyBlob(keyring: KeyRing) {
  return async function copyBlob(ctx: BlobRequest): Promise<void> {
    const sourceUrl = header(ctx.req.headers, 'x-ms-copy-source')!;
    const { source, account } = await readSource(ctx, keyring, sourceUrl);
    const now = Date.now();
    const sourceMd5 = checkSourceMd5(ctx, source);
    await requireContainer(ctx);
    const metadata = readMetadata(ctx.req.headers);
    const copyId = randomUUID();
    // Append blocks and written pages live in tables of their own, which a pending copy has no place in: their copies complete at once.
    const asynchronous = account !== ctx.account && header(ctx.req.headers, 'x-ms-requires-sync')?.toLowerCase() !== 'true' && source.blobType === undefined;
    const base: BlobRecord = {
      ...source,
      // Copying a snapshot promotes it: the destination is a blob like any other, in the tier the copy asks for.
      snapshot: undefined,
      accessTier: undefined,
      accessTierChangeTime: undefined,
      rehydrate: undefined,
      pendingCopy: undefined,
      incrementalCopy: undefined,
      pagesKey: undefined,
      ...uploadTier(ctx.req.headers, now),
      tags: tagsHeader(ctx.req.headers),
      ...newBlobVersion(ctx, now),
      metadata: Object.keys(metadata).length > 0 ? metadata : source.metadata,
    };
    const blob: BlobRecord = asynchronous
      ? {
          ...base,
          ...NO_CONTENT,
          size: 0,
          extents: [],
          pendingCopy: { completesAt: now + ctx.deps.asyncCopyDelayMs, size: source.size, extents: source.extents, content: contentOf(source) },
          copy: { id: copyId, source: sourceUrl, status: 'pending', progress: `0/${source.size}` },
        }
      : { ...base, copy: { id: copyId, source: sourceUrl, status: 'success', progress: `${source.size}/${source.size}`, completed: now } };
    // A page blob's copy gets the source's written pages, sharing their content.
    await commitBlob(ctx, blob, [], { pagesFrom: source.blobType === 'PageBlob' ? source : undefined });
    const headers: Record<string, string> = { etag: blob.etag, 'last-modified': httpDate(now), 'x-ms-copy-id': copyId, 'x-ms-copy-status': blob.copy!.status };
    if (sourceMd5 !== undefined) headers['content-md5'] = sourceMd5;
    respondEmpty(ctx, 202, headers);
  };
}

const NO_CONTENT: ContentHeaders = {
  contentType: undefined,
  contentEncoding: undefined,
  contentLanguage: undefined,
  contentMd5: undefined,
  cacheControl: undefined,
  contentDisposition: undefined,
};

export function contentOf(blob: BlobRecord): ContentHeaders {
  const { contentType, contentEncoding, contentLanguage, contentMd5, cacheControl, contentDisposition } = blob;
  return { contentType, contentEncoding, contentLanguage, contentMd5, cacheControl, contentDisposition };
}

/**
 * Put Blob From URL: a new block blob made of the source's content, at once.
 * The source's content headers come along unless x-ms-copy-source-blob-properties
 * is false; headers the request gives win, and metadata is the request's own.
 */
export function makePutBlobFromUrl(keyring: KeyRing) {
  return async function putBlobFromUrl(ctx: BlobRequest): Promise<void> {
    if (header(ctx.req.headers, 'x-ms-blob-type') !== 'BlockBlob') throw errors.invalidHeader('x-ms-blob-type', 'Put Blob From URL creates block blobs: send BlockBlob.');
    requireNoBody(ctx.req.headers, 'Put Blob From URL takes its content from x-ms-copy-source');
    const given = readContentHeaders(ctx.req.headers, false);
    const metadata = readMetadata(ctx.req.headers);
    const { source } = await readSource(ctx, keyring, header(ctx.req.headers, 'x-ms-copy-source')!);
    const now = Date.now();
    const sourceMd5 = checkSourceMd5(ctx, source);
    await requireContainer(ctx);
    const inherited = header(ctx.req.headers, 'x-ms-copy-source-blob-properties')?.toLowerCase() === 'false' ? NO_CONTENT : contentOf(source);
    const content: ContentHeaders = { ...inherited };
    for (const [name, value] of Object.entries(given) as [keyof ContentHeaders, string | undefined][]) if (value !== undefined) content[name] = value;
    if (source.size > LIMITS.putBlob) throw errors.requestBodyTooLarge(LIMITS.putBlob);
    // A page blob's pages are not a block blob's extents: its bytes, zeros and all, are copied into one file.
    const written = source.blobType === 'PageBlob' ? await copyBytes(ctx, source, { start: 0, end: source.size - 1 }, source.size, false) : undefined;
    const blob: BlobRecord = {
      ...newBlobVersion(ctx, now),
      ...uploadTier(ctx.req.headers, now),
      ...content,
      tags: tagsHeader(ctx.req.headers),
      size: source.size,
      metadata,
      extents: written ? [{ id: written.id, size: written.size }] : source.extents,
    };
    await commitBlob(ctx, blob, written ? [written.id] : []);
    const headers: Record<string, string> = { etag: blob.etag, 'last-modified': httpDate(now), 'x-ms-request-server-encrypted': 'true' };
    const md5 = sourceMd5 ?? blob.contentMd5;
    if (md5 !== undefined) headers['content-md5'] = md5;
    respondEmpty(ctx, 201, headers);
  };
}

/** Abort Copy Blob: a pending copy ends with the destination empty; one already done cannot be undone. */
export async function abortCopyBlob(ctx: BlobRequest): Promise<void> {
  const copyId = ctx.query.get('copyid');
  if (!copyId) throw errors.missingQuery('copyid', 'Name the copy to abort by the x-ms-copy-id Copy Blob answered.');
  const action = header(ctx.req.headers, 'x-ms-copy-action');
  if (action === undefined) throw errors.missingHeader('x-ms-copy-action', "Abort Copy Blob needs 'x-ms-copy-action: abort'.");
  if (action.toLowerCase() !== 'abort') throw errors.invalidHeader('x-ms-copy-action', "the only action is 'abort'.");
  const now = Date.now();
  const { orphans } = await orMissing(ctx, ctx.deps.repo.changeBlob(ctx.account, ctx.container, ctx.path, (current) => {
    if (!current) throw new NoBlob();
    const lease = leaseAfterWrite(current.lease, ctx.req.headers, now, 'blob');
    if (!current.pendingCopy) throw new StorageError(409, 'NoPendingCopyOperation', 'There is currently no pending copy operation.');
    if (current.copy?.id !== copyId) throw new StorageError(409, 'CopyIdMismatch', 'The specified copy ID did not match the copy ID for the pending copy operation.');
    return { ...current, lease, pendingCopy: undefined, copy: { ...current.copy, status: 'aborted', completed: now, statusDescription: 'Aborted by Abort Copy Blob.' } };
  }));
  discard(ctx.deps, orphans);
  respondEmpty(ctx, 204);
}

/**
 * The copy source, authorized on its own: by a bearer token in
 * x-ms-copy-source-authorization (its principal's roles must allow reading the
 * source), by the SAS its URL carries (a user delegation SAS too), or, with
 * none, by the destination's Shared Key when both are in one account, or by a
 * public container. A credential that does not let its holder read the source
 * is 401 or 403 CannotVerifyCopySource, whatever signed the destination request. The
 * x-ms-source-if-* conditions are evaluated against the source, and an archived
 * source cannot be copied.
 */
export async function readSource(ctx: BlobRequest, keyring: KeyRing, sourceUrl: string): Promise<{ source: BlobRecord; account: string }> {
  let url: URL;
  try {
    url = new URL(sourceUrl);
  } catch {
    throw errors.invalidHeader('x-ms-copy-source', 'it must be an absolute URL of a blob.');
  }
  const parsed = parseLocalUrl(url, ctx.req.headers.host, 'blob');
  if (!parsed) throw cannotVerify(404, `only blobs on this server (${ctx.req.headers.host}) can be copied; '${url.host}' is another host.`);
  const keys = keyring.get(parsed.account);
  if (!keys || !parsed.container || !parsed.path) throw cannotVerify(404, 'the URL does not name a blob of an account on this server.');
  const sourceRequest = (headers: IncomingMessage['headers']) => ({ method: 'GET', url: url.pathname + url.search, headers, socket: ctx.req.socket }) as IncomingMessage;
  const sourceCtx: BlobRequest = {
    ...ctx,
    ...parsed,
    req: sourceRequest({}),
  };
  const sourceAuthorization = header(ctx.req.headers, 'x-ms-copy-source-authorization');
  const sameAccountKey = parsed.account === ctx.account && ctx.auth.kind === 'sharedKey';
  if (sourceAuthorization !== undefined) {
    if (!/^bearer /i.test(sourceAuthorization)) {
      throw errors.invalidHeader('x-ms-copy-source-authorization', "only the Bearer scheme is supported: 'Bearer <token>', a token for the source's account.");
    }
    // The token travels with this request, so its version and protocol are this request's.
    const tokenCtx = { ...sourceCtx, req: sourceRequest({ 'x-ms-version': ctx.req.headers['x-ms-version'] }) };
    await asCopySourceCheck(ctx.deps.bearer.authenticate(tokenCtx, keys, READ_BLOB, sourceAuthorization), "the source's bearer token");
  } else if (parsed.query.has('skoid')) {
    await asCopySourceCheck(ctx.deps.bearer.authenticateDelegatedSas(sourceCtx, keys, READ_BLOB), "the source URL's user delegation SAS");
  } else if (parsed.query.has('sig') || !sameAccountKey) {
    // Read first: the check itself does not wait, and a SAS's stored policy is the source container's.
    const container = await ctx.deps.repo.getContainer(parsed.account, parsed.container);
    const auth = await asCopySourceCheck(
      Promise.resolve().then(() =>
        authenticate(sourceCtx, keys, READ_BLOB, (named, id) => (named === parsed.container ? container?.signedIdentifiers.find((identifier) => identifier.id === id) : undefined)),
      ),
      "the source URL's SAS",
    );
    if (auth.kind === 'anonymous' && !container?.publicAccess) {
      throw cannotVerify(404, 'the source is private: append a SAS with read permission to the source URL, or send x-ms-copy-source-authorization.');
    }
  }
  let source: BlobRecord;
  try {
    source = await requireBlob(sourceCtx);
  } catch (error) {
    if (error instanceof StorageError && error.status === 404) {
      throw new StorageError(404, 'CannotVerifyCopySource', `The copy source '${parsed.container}/${parsed.path}' does not exist.`);
    }
    throw error;
  }
  checkSourceConditions(ctx, source);
  checkOnline(source, Date.now());
  return { source, account: parsed.account };
}

const SOURCE_CONDITIONS = [
  ['x-ms-source-if-match', 'if-match'],
  ['x-ms-source-if-none-match', 'if-none-match'],
  ['x-ms-source-if-modified-since', 'if-modified-since'],
  ['x-ms-source-if-unmodified-since', 'if-unmodified-since'],
  ['x-ms-source-if-tags', 'x-ms-if-tags'],
] as const;

/** x-ms-source-if-*: the usual conditions, read against the source; one not met is 412 SourceConditionNotMet. */
function checkSourceConditions(ctx: BlobRequest, source: BlobRecord): void {
  const conditions: Record<string, string> = {};
  for (const [sourceName, name] of SOURCE_CONDITIONS) {
    const value = header(ctx.req.headers, sourceName);
    if (value !== undefined) conditions[name] = value;
  }
  try {
    checkConditions(conditions, source, 'write');
  } catch (error) {
    if (error instanceof StorageError && error.status === 412) {
      throw new StorageError(412, 'SourceConditionNotMet', 'The source condition specified using HTTP conditional header(s) is not met.');
    }
    throw error;
  }
}

/**
 * Copy Blob From URL's x-ms-source-content-md5: checked against the source's
 * recorded MD5 and echoed as Content-MD5. A source whose MD5 was never recorded
 * (a blob built from blocks without one) is taken as it is.
 */
function checkSourceMd5(ctx: BlobRequest, source: BlobRecord): string | undefined {
  const given = header(ctx.req.headers, 'x-ms-source-content-md5');
  if (given === undefined) return undefined;
  const digest = checkMd5Format(given);
  if (source.contentMd5 !== undefined && !digest.equals(Buffer.from(source.contentMd5, 'base64'))) throw errors.md5Mismatch();
  return given;
}

/**
 * The bytes of a source blob that a From-URL block or page operation takes
 * (x-ms-source-range, or all of it), copied into a content file of its own,
 * since a block is one whole file, and checked against x-ms-source-content-md5.
 */
export async function copySourceRange(ctx: BlobRequest, keyring: KeyRing, maxLength: number): Promise<WrittenContent> {
  const { source } = await readSource(ctx, keyring, header(ctx.req.headers, 'x-ms-copy-source')!);
  const range = sourceRange(ctx, source.size);
  const length = source.size === 0 ? 0 : range.end - range.start + 1;
  if (length > maxLength) throw errors.requestBodyTooLarge(maxLength);
  const expected = header(ctx.req.headers, 'x-ms-source-content-md5');
  const written = await copyBytes(ctx, source, range, length, expected !== undefined);
  if (expected !== undefined && !checkMd5Format(expected).equals(written.md5!)) {
    await ctx.deps.content.remove([written.id]);
    throw errors.md5Mismatch();
  }
  return written;
}

/**
 * Bytes [range.start, range.end] of `source` (`length` of them: 0 for an empty
 * source) written into a new content file. They stream through a buffer copied
 * as it passes: the reader's pooled buffers are reused as soon as they are taken.
 */
async function copyBytes(ctx: BlobRequest, source: BlobRecord, range: ByteRange, length: number, md5: boolean): Promise<WrittenContent> {
  const bytes = new Transform({ transform: (chunk: Buffer, _encoding, done) => done(null, Buffer.from(chunk)) });
  const writing = ctx.deps.content.write(bytes, length, { md5 });
  // A write that fails stops the reading too; the source's files are pinned, so an overwrite cannot unlink them midway.
  writing.catch(() => bytes.destroy());
  const { pieces, release } = length === 0 ? { pieces: [], release: async () => {} } : await openBlobBytes(ctx, source, range);
  try {
    const [written] = await Promise.all([writing, sendPieces(ctx.deps.content, pieces, bytes)]);
    return written;
  } finally {
    await release();
  }
}

/** x-ms-source-range: `bytes=start-end` within the source; absent, the whole source. */
function sourceRange(ctx: BlobRequest, size: number): ByteRange {
  const value = header(ctx.req.headers, 'x-ms-source-range');
  if (value === undefined) return { start: 0, end: Math.max(0, size - 1) };
  const { first, last } = parseBothEnds(value, 'x-ms-source-range');
  const range = { start: first, end: last };
  if (range.end >= size) throw new StorageError(416, 'InvalidSourceBlobRange', `The range specified is invalid for the source blob's size of ${size} bytes.`);
  return range;
}
