import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { WrittenContent } from '../../bytes/content-store.js';
import type { InlineContent, PageEdit } from '../../db/blobs.js';
import { coalesce, diffRanges } from '../../db/range-math.js';
import type { BlobRecord, ContentHeaders } from '../../db/records.js';
import type { KeyRing } from '../auth/keyring.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors } from '../http/errors.js';
import { contentLength, header, httpDate, newEtag, readContentHeaders, readMetadata, requireNoBody } from '../http/headers.js';
import { maxResults } from '../http/listing-params.js';
import { writeRange } from '../http/range.js';
import { expectedCrc64, receiveBody } from '../http/receive-body.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { NoBlob, blobVersionOver, commitBlob, discard, newBlobVersion, orMissing, receiveInline, requireReadableBlob } from './blobs.js';
import { contentOf, copySourceRange, readSource } from './copy.js';
import { requireContainer } from './containers.js';
import type { BlobRequest } from './deps.js';
import { leaseAfterWrite } from './leases.js';
import { snapshotParam, snapshotTime } from './snapshots.js';
import { tagsHeader } from './tag-set.js';

/**
 * Page blobs: a declared length of 512-byte pages, written and cleared a range
 * at a time. Only written pages are stored, as ranges over content: inline,
 * committed with the write itself, up to 8 KiB; appended to a shared segment up
 * to 1 MiB (where the node keeps segments, segments.ts); a content file of its
 * own beyond. Every other page reads as zeros, so a new page blob of any size
 * costs no disk.
 */

const PAGE = 512;
const MAX_SIZE = 8 * 1024 ** 4;
/** Put Page writes at most 4 MiB. */
const MAX_WRITE = 4 * 1024 * 1024;
/** Page writes up to this size are kept in the metadata store, larger ones as content files. */
const MAX_INLINE_WRITE = 8 * 1024;
/** Sequence numbers are 63-bit in Azure; this server keeps them exact up to 2^53 - 1. */
const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

export const pageErrors = {
  invalidRange: (why: string) => new StorageError(416, 'InvalidPageRange', `The page range specified is invalid: ${why}`),
  sequenceNotMet: () => new StorageError(412, 'SequenceNumberConditionNotMet', 'The sequence number condition specified was not met.'),
  incrementalCopyBlob: () =>
    new StorageError(409, 'OperationNotAllowedOnIncrementalCopyBlob', 'The specified operation is not allowed on an incremental copy blob: it changes only through Incremental Copy. Copy it to a new blob to write to it.'),
};

/** A whole number header in [0, max]; undefined when absent. */
function wholeNumber(headers: IncomingHttpHeaders, name: string, max: number, what: string): number | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > max) throw errors.invalidHeader(name, `it must be ${what}.`);
  return n;
}

/** x-ms-blob-content-length: a page blob's length, 512-aligned, at most 8 TiB. */
function blobLength(headers: IncomingHttpHeaders): number | undefined {
  const length = wholeNumber(headers, 'x-ms-blob-content-length', MAX_SIZE, 'the page blob length in bytes, at most 8 TiB');
  if (length !== undefined && length % PAGE !== 0) throw errors.invalidHeader('x-ms-blob-content-length', `a page blob's length must be a multiple of 512 bytes; ${length} is not.`);
  return length;
}

function sequenceHeader(headers: IncomingHttpHeaders, name: string): number | undefined {
  return wholeNumber(headers, name, MAX_SEQUENCE, `a sequence number from 0 to ${MAX_SEQUENCE}`);
}

/** Put Blob with x-ms-blob-type: PageBlob: a new page blob of zeros (replacing whatever had the name). */
export async function createPageBlob(ctx: BlobRequest): Promise<void> {
  requireNoBody(ctx.req.headers, 'a page blob is created empty, as zeros; write pages with Put Page');
  const size = blobLength(ctx.req.headers);
  if (size === undefined) throw errors.missingHeader('x-ms-blob-content-length', 'A page blob is created with its length: a multiple of 512 bytes, at most 8 TiB.');
  if (header(ctx.req.headers, 'x-ms-access-tier') !== undefined) {
    throw errors.invalidHeader('x-ms-access-tier', 'page blobs of a standard account have no access tier; leave the header out.');
  }
  const blob: BlobRecord = {
    ...newBlobVersion(ctx),
    ...readContentHeaders(ctx.req.headers, true),
    blobType: 'PageBlob',
    sequenceNumber: sequenceHeader(ctx.req.headers, 'x-ms-blob-sequence-number') ?? 0,
    tags: tagsHeader(ctx.req.headers),
    size,
    metadata: readMetadata(ctx.req.headers),
    extents: [],
  };
  await requireContainer(ctx);
  await commitBlob(ctx, blob, []);
  respondEmpty(ctx, 201, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified), 'x-ms-request-server-encrypted': 'true' });
}

/** The pages a write names (x-ms-range, or Range): both ends given, on page boundaries. */
function pageRange(headers: IncomingHttpHeaders): { first: number; last: number } {
  const { first, last } = writeRange(headers, "Name the pages as 'bytes=START-END', START a multiple of 512 and END one less than a multiple of 512.");
  if (first % PAGE !== 0 || (last + 1) % PAGE !== 0) {
    throw pageErrors.invalidRange(`bytes ${first}-${last} are not whole pages: START must be a multiple of 512 and END one less than a multiple of 512.`);
  }
  return { first, last };
}

/** x-ms-if-sequence-number-le/lt/eq against the blob's sequence number. */
function checkSequenceConditions(headers: IncomingHttpHeaders, sequence: number): void {
  const le = sequenceHeader(headers, 'x-ms-if-sequence-number-le');
  const lt = sequenceHeader(headers, 'x-ms-if-sequence-number-lt');
  const eq = sequenceHeader(headers, 'x-ms-if-sequence-number-eq');
  if ((le !== undefined && sequence > le) || (lt !== undefined && sequence >= lt) || (eq !== undefined && sequence !== eq)) throw pageErrors.sequenceNotMet();
}

/** What a page write may do to the blob as it is: its type, lease, conditions, and whether the pages are inside it. */
function checkPageWrite(ctx: BlobRequest, current: BlobRecord | undefined, pages: { first: number; last: number }, now: number): BlobRecord {
  const blob = currentPageBlob(current);
  if (blob.incrementalCopy) throw pageErrors.incrementalCopyBlob();
  const lease = leaseAfterWrite(blob.lease, ctx.req.headers, now, 'blob');
  checkSequenceConditions(ctx.req.headers, blob.sequenceNumber ?? 0);
  checkConditions(ctx.req.headers, blob, 'write');
  if (pages.last >= blob.size) throw pageErrors.invalidRange(`bytes ${pages.first}-${pages.last} reach past the blob's end at ${blob.size} bytes; resize it first (Set Blob Properties, x-ms-blob-content-length).`);
  return { ...blob, lease };
}

function currentPageBlob(current: BlobRecord | undefined): BlobRecord {
  if (!current) throw new NoBlob();
  if (current.blobType !== 'PageBlob') throw blobErrors.notPageBlob();
  return current;
}

/** Put Page: x-ms-page-write update stores the body over the pages, clear forgets them (they read as zeros again). */
export function makePutPage(keyring: KeyRing) {
  return async function putPage(ctx: BlobRequest): Promise<void> {
    const mode = header(ctx.req.headers, 'x-ms-page-write');
    if (mode === undefined) throw errors.missingHeader('x-ms-page-write', "Put Page needs 'x-ms-page-write: update' or 'x-ms-page-write: clear'.");
    if (mode !== 'update' && mode !== 'clear') throw errors.invalidHeader('x-ms-page-write', `use update or clear, not '${mode}'.`);
    const pages = pageRange(ctx.req.headers);
    const span = pages.last - pages.first + 1;
    // Refuse before reading the body what would be refused after it.
    await orMissing(ctx, ctx.deps.repo.getBlobProperties(ctx.account, ctx.container, ctx.path).then((current) => checkPageWrite(ctx, current, pages, Date.now())));
    if (mode === 'clear') {
      requireNoBody(ctx.req.headers, 'clearing pages takes no content');
      return commitPages(ctx, (current, now) => ({ blob: touched(checkPageWrite(ctx, current, pages, now), now), clear: pages }));
    }
    let written: WrittenContent;
    let inline: (WrittenContent & InlineContent) | undefined;
    if (ctx.req.headers['x-ms-copy-source'] !== undefined) {
      requireNoBody(ctx.req.headers, 'Put Page From URL takes its content from x-ms-copy-source');
      if (header(ctx.req.headers, 'x-ms-source-range') === undefined) throw errors.missingHeader('x-ms-source-range', "Name the source's bytes as 'bytes=START-END', as many as the pages written.");
      written = await copySourceRange(ctx, keyring, MAX_WRITE);
    } else {
      const length = contentLength(ctx.req.headers, MAX_WRITE);
      if (length !== span) throw errors.invalidHeader('Content-Length', `it must equal the ${span} bytes of the pages written (bytes ${pages.first}-${pages.last}).`);
      const expectedCrc = expectedCrc64(ctx.req.headers);
      // Small writes are committed inside the metadata store with the write itself: one group-committed fsync for many
      // writers. Larger ones go to segments or content files: a page blob is bulk data, which would bloat the metadata
      // store and be written twice there (log and checkpoint); measured, 64 KiB writes ran 1.2-1.6x faster as files.
      inline = length <= MAX_INLINE_WRITE ? await receiveInline(ctx, expectedCrc, false) : undefined;
      written = inline ?? (await receiveBody(ctx.req, ctx.deps.content, MAX_WRITE, false, true));
    }
    try {
      if (written.size !== span) {
        throw errors.invalidHeader('x-ms-source-range', `the source range has ${written.size} bytes, but the pages written have ${span}.`);
      }
      const write = { first: pages.first, last: pages.last, contentId: written.id, contentOffset: written.offset ?? 0 };
      await commitPages(ctx, (current, now) => ({ blob: touched(checkPageWrite(ctx, current, pages, now), now), write }), inline, written);
    } catch (error) {
      if (!inline) await ctx.deps.content.remove([written.id]);
      throw error;
    } finally {
      written.settle?.();
    }
  };
}

/** The blob's next version after a write: a new ETag and time. */
function touched(blob: BlobRecord, now: number): BlobRecord {
  return { ...blob, lastModified: now, etag: newEtag(now) };
}

/** Commits a page edit (everything checked again inside the transaction) and answers Put Page. */
async function commitPages(ctx: BlobRequest, edit: (current: BlobRecord | undefined, now: number) => PageEdit, inline?: InlineContent, written?: WrittenContent): Promise<void> {
  const { blob, orphans } = await orMissing(
    ctx,
    ctx.deps.repo.editPageBlob({ account: ctx.account, container: ctx.container, name: ctx.path }, (current) => edit(current, Date.now()), inline),
  );
  discard(ctx.deps, orphans);
  const headers: Record<string, string | number> = {
    etag: blob.etag,
    'last-modified': httpDate(blob.lastModified),
    'x-ms-blob-sequence-number': blob.sequenceNumber ?? 0,
    'x-ms-request-server-encrypted': 'true',
  };
  if (written?.md5) headers['content-md5'] = written.md5.toString('base64');
  if (written?.crc64) headers['x-ms-content-crc64'] = written.crc64.toString('base64');
  respondEmpty(ctx, 201, headers);
}

/** Set Blob Properties on a page blob: resize (x-ms-blob-content-length) and/or its sequence number, besides the content headers. */
export async function setPageBlobProperties(ctx: BlobRequest): Promise<void> {
  const contentHeaders: ContentHeaders = readContentHeaders(ctx.req.headers, false);
  const size = blobLength(ctx.req.headers);
  const action = header(ctx.req.headers, 'x-ms-sequence-number-action');
  const given = sequenceHeader(ctx.req.headers, 'x-ms-blob-sequence-number');
  if (action !== undefined && !SEQUENCE_ACTIONS.has(action)) throw errors.invalidHeader('x-ms-sequence-number-action', `use max, update or increment, not '${action}'.`);
  if (action === 'increment' && given !== undefined) throw errors.invalidHeader('x-ms-blob-sequence-number', 'increment adds one to the current number; send no number with it.');
  if ((action === 'max' || action === 'update') && given === undefined) throw errors.missingHeader('x-ms-blob-sequence-number', `The ${action} action needs the number to compare or set.`);
  const { blob, orphans } = await orMissing(ctx, ctx.deps.repo.editPageBlob({ account: ctx.account, container: ctx.container, name: ctx.path }, (current) => {
    const now = Date.now();
    const blob = currentPageBlob(current);
    if (blob.incrementalCopy) throw pageErrors.incrementalCopyBlob();
    const lease = leaseAfterWrite(blob.lease, ctx.req.headers, now, 'blob');
    checkConditions(ctx.req.headers, blob, 'write');
    const sequence = blob.sequenceNumber ?? 0;
    const nextSequence = action === 'increment' ? sequence + 1 : action === 'max' ? Math.max(sequence, given!) : action === 'update' ? given! : sequence;
    if (nextSequence > MAX_SEQUENCE) throw new StorageError(409, 'SequenceNumberIncrementTooLarge', 'The sequence number increment cannot be performed because it would result in overflow of the sequence number.');
    const next = touched({ ...blob, ...contentHeaders, lease, size: size ?? blob.size, sequenceNumber: nextSequence }, now);
    // Shrinking forgets the pages past the new end; growing adds zeros, which cost nothing.
    return { blob: next, clear: size !== undefined && size < blob.size ? { first: size, last: blob.size - 1 } : undefined };
  }));
  discard(ctx.deps, orphans);
  respondEmpty(ctx, 200, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified), 'x-ms-blob-sequence-number': blob.sequenceNumber ?? 0 });
}

const SEQUENCE_ACTIONS = new Set(['max', 'update', 'increment']);

/** Whether a Set Blob Properties request changes what only page blobs have. */
export function setsPageProperties(headers: IncomingHttpHeaders): boolean {
  return headers['x-ms-blob-content-length'] !== undefined || headers['x-ms-sequence-number-action'] !== undefined;
}

/**
 * Get Page Ranges: the written pages (touching ones joined), within Range if
 * given; with prevsnapshot, the pages written and cleared since that snapshot.
 * Pages of at most maxresults ranges, the marker naming the next one's start.
 */
export async function getPageRanges(ctx: BlobRequest): Promise<void> {
  const blob = await requireReadableBlob(ctx);
  if (blob.blobType !== 'PageBlob') throw blobErrors.notPageBlob();
  checkConditions(ctx.req.headers, blob, 'read');
  if (ctx.query.has('prevsnapshoturl')) {
    throw new StorageError(409, 'PreviousSnapshotOperationNotSupported', 'prevsnapshoturl applies to managed disks only; use prevsnapshot with a snapshot of this blob.');
  }
  const window = listWindow(ctx.req.headers, blob.size);
  const limit = maxResults(ctx.query);
  const marker = ctx.query.get('marker');
  const from = marker ? decodeMarker(marker) : window.first;
  const pages = (owner: BlobRecord) => ctx.deps.repo.pageRanges(owner, from, window.last);
  const current = await pages(blob);
  const previous = await previousSnapshot(ctx, blob);
  const diff = previous ? diffRanges(await pages(previous), current) : { changed: coalesce(current), cleared: [] };
  type Entry = { first: number; last: number; clear: boolean };
  const entries: Entry[] = [...diff.changed.map((span) => ({ ...span, clear: false })), ...diff.cleared.map((span) => ({ ...span, clear: true }))]
    .map((entry) => ({ ...entry, first: Math.max(entry.first, from), last: Math.min(entry.last, window.last) }))
    .filter((entry) => entry.first <= entry.last)
    .sort((a, b) => a.first - b.first);
  const shown = entries.slice(0, limit);
  const next = entries.length > limit ? entries[limit]!.first : undefined;
  const body = shown
    .map((entry) => (entry.clear ? `<ClearRange><Start>${entry.first}</Start><End>${entry.last}</End></ClearRange>` : `<PageRange><Start>${entry.first}</Start><End>${entry.last}</End></PageRange>`))
    .join('');
  const nextMarker = next === undefined ? '' : `<NextMarker>${Buffer.from(`p:${next}`).toString('base64url')}</NextMarker>`;
  respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?><PageList>${body}${nextMarker}</PageList>`, {
    etag: blob.etag,
    'last-modified': httpDate(blob.lastModified),
    'x-ms-blob-content-length': blob.size,
  });
}

/** The bytes Get Page Ranges looks at: Range (or x-ms-range) if given, else the whole blob. */
function listWindow(headers: IncomingHttpHeaders, size: number): { first: number; last: number } {
  const name = headers['x-ms-range'] !== undefined ? 'x-ms-range' : 'range';
  const value = header(headers, name);
  if (value === undefined) return { first: 0, last: size - 1 };
  const match = /^bytes=(\d+)-(\d*)$/.exec(value.trim());
  if (!match) throw errors.invalidHeader(name, "use 'bytes=START-END' or 'bytes=START-'.");
  const first = Number(match[1]);
  const last = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (last < first && first < size) throw errors.invalidHeader(name, 'the end offset is before the start offset.');
  return { first, last };
}

function decodeMarker(marker: string): number {
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  const offset = Number(text.slice(2));
  if (!text.startsWith('p:') || !/^\d+$/.test(text.slice(2)) || !Number.isSafeInteger(offset)) {
    throw errors.invalidQuery('marker', 'pass back the NextMarker of the previous page unchanged.');
  }
  return offset;
}

/** The snapshot a diff starts from (prevsnapshot): it must exist and be older than what it is compared with. */
async function previousSnapshot(ctx: BlobRequest, blob: BlobRecord): Promise<BlobRecord | undefined> {
  const time = ctx.query.get('prevsnapshot');
  if (time === null) return undefined;
  if (Number.isNaN(Date.parse(time))) throw errors.invalidQuery('prevsnapshot', 'it must be the x-ms-snapshot time of a snapshot of this blob.');
  const against = snapshotParam(ctx);
  if (against !== undefined && time >= against) {
    throw new StorageError(400, 'PreviousSnapshotCannotBeNewer', 'The prevsnapshot query parameter value cannot be newer than snapshot query parameter value.');
  }
  const previous = await ctx.deps.repo.getSnapshot(ctx.account, ctx.container, ctx.path, time);
  if (!previous) throw new StorageError(409, 'PreviousSnapshotNotFound', `The previous snapshot ${time} of this blob does not exist.`);
  if (previous.created !== blob.created || previous.blobType !== 'PageBlob') {
    throw new StorageError(409, 'BlobOverwritten', 'The blob has been recreated since the previous snapshot was taken; list its pages without prevsnapshot.');
  }
  return previous;
}

/**
 * Incremental Copy Blob: the destination, a page blob only this operation
 * writes, gets a snapshot of a page blob's pages, and a snapshot of its own is
 * taken (x-ms-copy-destination-snapshot); Get Page Ranges Diff between two such
 * snapshots shows what each copy brought. It completes before the answer.
 */
export function makeIncrementalCopy(keyring: KeyRing) {
  return async function incrementalCopy(ctx: BlobRequest): Promise<void> {
    const sourceUrl = header(ctx.req.headers, 'x-ms-copy-source');
    if (sourceUrl === undefined) throw errors.missingHeader('x-ms-copy-source', 'Name the snapshot of a page blob to copy, by its URL with ?snapshot=.');
    const { source } = await readSource(ctx, keyring, sourceUrl);
    if (source.blobType !== 'PageBlob') throw blobErrors.notPageBlob();
    if (source.snapshot === undefined) {
      throw new StorageError(409, 'IncrementalCopySourceMustBeSnapshot', 'The source for an incremental copy request must be a snapshot: add ?snapshot= to its URL.');
    }
    await requireContainer(ctx);
    const now = Date.now();
    const copyId = randomUUID();
    const copied = await ctx.deps.repo.commitIncrementalCopy(
      { account: ctx.account, container: ctx.container, name: ctx.path },
      source,
      (time) => snapshotTime(now, time),
      (existing, destinationSnapshot) => {
        if (existing) checkIncrementalDestination(existing, source, sourceUrl);
        const lease = leaseAfterWrite(existing?.lease, ctx.req.headers, now, 'blob');
        checkConditions(ctx.req.headers, existing, 'create');
        return {
          ...blobVersionOver(ctx, existing, now),
          ...contentOf(source),
          created: existing?.created ?? now,
          lease,
          blobType: 'PageBlob',
          size: source.size,
          sequenceNumber: source.sequenceNumber ?? 0,
          metadata: source.metadata,
          extents: [],
          incrementalCopy: { destinationSnapshot },
          copy: { id: copyId, source: sourceUrl, status: 'success', progress: `${source.size}/${source.size}`, completed: now },
        };
      },
    );
    if (!copied) throw blobErrors.containerNotFound(ctx.container);
    discard(ctx.deps, copied.orphans);
    const destination = copied.blob;
    respondEmpty(ctx, 202, {
      etag: destination.etag,
      'last-modified': httpDate(destination.lastModified),
      'x-ms-copy-id': copyId,
      'x-ms-copy-status': 'success',
    });
  };
}

/** An existing destination takes another incremental copy only from the same blob, of a newer snapshot. */
function checkIncrementalDestination(existing: BlobRecord, source: BlobRecord, sourceUrl: string): void {
  if (!existing.incrementalCopy) throw new StorageError(409, 'InvalidBlobType', 'The destination exists and is not an incremental copy blob; delete it or copy to another name.');
  const previous = new URL(existing.copy!.source);
  if (previous.pathname !== new URL(sourceUrl).pathname) {
    throw new StorageError(409, 'IncrementalCopyBlobMismatch', 'The specified source blob is different than the copy source of the existing incremental copy blob.');
  }
  const last = previous.searchParams.get('snapshot') ?? '';
  if (source.snapshot! <= last) {
    // Azure's code is spelled so.
    throw new StorageError(409, 'IncrementalCopyOfEralierVersionSnapshotNotAllowed', `The snapshot ${source.snapshot} is not newer than ${last}, which this blob already copied.`);
  }
}
