import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { collectPieces, sendPieces, type BodyPiece, type BodyPieces } from '../../bytes/body-pieces.js';
import type { WrittenContent } from '../../bytes/content-store.js';
import type { CommitOptions, InlineContent } from '../../db/blobs.js';
import { stitch } from '../../bytes/stitch.js';
import { isInline, newInlineId } from '../../db/content-refs.js';
import type { BlobRecord, Extent } from '../../db/records.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors } from '../http/errors.js';
import { readSmallBody } from '../http/body.js';
import { addContentHeaders, contentLength, header, httpDate, newEtag, readContentHeaders, readMetadata, writeMetadata } from '../http/headers.js';
import { requestedRange, type ByteRange } from '../http/range.js';
import { expectedCrc64, receiveBody } from '../http/receive-body.js';
import { crc64 } from '../../bytes/crc64.js';
import { respondEmpty, writeHead } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { snapshotErrors, snapshotParam } from './snapshots.js';
import { deletePolicy, isPreviousVersion, newVersionId, versionParam } from './versions.js';
import { addTierHeaders, checkOnline, tierOf, uploadTier } from './tiers.js';
import { addTagCount, tagsHeader } from './tag-set.js';
import { addLeaseHeaders, applyLeaseAction, checkLeaseIdIfGiven, leaseAfterWrite, type LeaseOutcome } from './leases.js';
import { requireContainer } from './containers.js';
import { LIMITS, type BlobDeps, type BlobRequest } from './deps.js';

/** The blob a read serves: it must exist, and a lease id the read names must be its lease's. */
export async function requireReadableBlob(ctx: BlobRequest): Promise<BlobRecord> {
  const blob = (await findBlob(ctx)) ?? (await blobNotFound(ctx));
  checkLeaseIdIfGiven(blob.lease, ctx.req.headers, Date.now(), 'blob');
  return blob;
}

/**
 * The blob, or the snapshot (`?snapshot=`) or version (`?versionid=`) of it that
 * the request names, if it exists. Not async itself: the common read (the blob)
 * is the store's own promise, with no frame of this function's around it.
 */
export function findBlob(ctx: BlobRequest): Promise<BlobRecord | undefined> {
  const snapshot = snapshotParam(ctx);
  if (snapshot !== undefined) return ctx.deps.repo.getSnapshot(ctx.account, ctx.container, ctx.path, snapshot);
  const version = versionParam(ctx);
  if (version === undefined) return ctx.deps.repo.getBlob(ctx.account, ctx.container, ctx.path);
  return findVersion(ctx, version);
}

async function findVersion(ctx: BlobRequest, version: string): Promise<BlobRecord | undefined> {
  const current = await ctx.deps.repo.getBlob(ctx.account, ctx.container, ctx.path);
  if (current?.versionId === version) return current;
  return ctx.deps.repo.getVersion({ account: ctx.account, container: ctx.container, name: ctx.path }, version);
}

export async function requireBlob(ctx: BlobRequest): Promise<BlobRecord> {
  return (await findBlob(ctx)) ?? blobNotFound(ctx);
}

/** BlobNotFound, or ContainerNotFound when the container is gone too, as Azure answers. */
export async function blobNotFound(ctx: BlobRequest): Promise<never> {
  await requireContainer(ctx);
  throw blobErrors.blobNotFound(ctx.path);
}

/**
 * Thrown by a store callback that finds no blob. The callback runs inside the
 * store's transaction, where it cannot ask the store whether the container is
 * gone too; `orMissing` asks once the transaction is over.
 */
export class NoBlob extends Error {}

/** A store call whose callback may throw NoBlob: that becomes BlobNotFound, or ContainerNotFound. */
export async function orMissing<T>(ctx: BlobRequest, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof NoBlob) return blobNotFound(ctx);
    throw error;
  }
}

/** Commits a new version of the blob; unlinks what it replaced, or the new content if the commit failed. */
export async function commitBlob(ctx: BlobRequest, blob: BlobRecord, newContent: string[], options: CommitOptions = {}): Promise<void> {
  // With versioning, the blob it replaces is kept as a previous version, and the store gives it its version id; none otherwise.
  blob.versionId = undefined;
  const versionId = newVersionId(ctx, blob.lastModified);
  if (versionId !== undefined) options = { ...options, retire: { kind: 'version' }, versionId };
  let orphans: string[] | undefined;
  try {
    orphans = await ctx.deps.repo.commitBlob(
      blob,
      newContent,
      (current) => {
        // The lease comes first, as in Azure: a leased blob refuses even an If-None-Match: * write with LeaseIdMissing.
        blob.lease = leaseAfterWrite(current?.lease, ctx.req.headers, Date.now(), 'blob');
        checkConditions(ctx.req.headers, current, 'create');
        // An overwrite keeps the creation time of the blob it replaces.
        if (current) blob.created = current.created;
      },
      options,
    );
  } catch (error) {
    await ctx.deps.content.remove(newContent);
    throw error;
  }
  if (orphans === undefined) {
    await ctx.deps.content.remove(newContent);
    throw blobErrors.containerNotFound(ctx.container);
  }
  discard(ctx.deps, orphans);
  if (blob.versionId !== undefined) ctx.res.setHeader('x-ms-version-id', blob.versionId);
}

/** Drops content files nothing refers to any more: from the cache now, from disk in the background (ContentPins.remove). */
export function discard(deps: BlobDeps, ids: string[]): void {
  for (const id of ids) deps.cache.delete(id);
  deps.pins.remove(ids);
}

/**
 * The identity and version of the blob a write commits: a new ETag and time.
 * Its creation time is now until commitBlob keeps the one of the blob it replaces.
 */
export function newBlobVersion(ctx: BlobRequest, now = Date.now()) {
  return blobVersionOver(ctx, undefined, now);
}

/** newBlobVersion, over the blob a store callback sees. */
export function blobVersionOver(ctx: BlobRequest, existing: BlobRecord | undefined, now: number) {
  return { account: ctx.account, container: ctx.container, name: ctx.path, created: existing?.created ?? now, lastModified: now, etag: newEtag(now) };
}

function checkBlockBlobType(ctx: BlobRequest): void {
  const type = header(ctx.req.headers, 'x-ms-blob-type');
  if (type === undefined) throw errors.missingHeader('x-ms-blob-type', "Put Blob needs 'x-ms-blob-type: BlockBlob' (or AppendBlob).");
  if (type !== 'BlockBlob') throw errors.invalidHeader('x-ms-blob-type', `use BlockBlob, AppendBlob or PageBlob, not '${type}'.`);
}

export async function putBlob(ctx: BlobRequest): Promise<void> {
  checkBlockBlobType(ctx);
  const contentHeaders = readContentHeaders(ctx.req.headers, true);
  const metadata = readMetadata(ctx.req.headers);
  // Validated before the body is read: a refused header must not leave a content file behind.
  const tier = uploadTier(ctx.req.headers, Date.now());
  const tags = tagsHeader(ctx.req.headers);
  const expectedCrc = expectedCrc64(ctx.req.headers);
  await requireContainer(ctx);
  // Fail fast on a lease or condition that already fails, before reading a large body.
  const existing = await ctx.deps.repo.getBlob(ctx.account, ctx.container, ctx.path);
  leaseAfterWrite(existing?.lease, ctx.req.headers, Date.now(), 'blob');
  checkConditions(ctx.req.headers, existing, 'create');
  // Small bodies are committed inside the blob's own row: one group-committed fsync
  // covers many of them, where a file each would cost an fsync each.
  const small = contentLength(ctx.req.headers, LIMITS.putBlob) <= LIMITS.smallContent;
  // Put Blob always records the blob's Content-MD5, as Azure does.
  const inline = small ? await receiveInline(ctx, expectedCrc, true) : undefined;
  const written = inline ?? (await receiveBody(ctx.req, ctx.deps.content, LIMITS.putBlob, true));
  const md5 = written.md5!.toString('base64');
  const now = Date.now();
  const blob: BlobRecord = {
    ...newBlobVersion(ctx, now),
    ...tier,
    tags,
    size: written.size,
    ...contentHeaders,
    contentMd5: contentHeaders.contentMd5 ?? md5,
    metadata,
    extents: [{ id: written.id, size: written.size }],
  };
  await commitBlob(ctx, blob, inline ? [] : [written.id], { inline, seen: { blob: existing } });
  respondEmpty(ctx, 201, {
    etag: blob.etag,
    'last-modified': httpDate(blob.lastModified),
    'content-md5': md5,
    ...(written.crc64 ? { 'x-ms-content-crc64': written.crc64.toString('base64') } : {}),
    'x-ms-request-server-encrypted': 'true',
  });
}

/**
 * A body small enough to commit inside the metadata store (readSmallBody checks
 * its Content-MD5), with its CRC-64 checked when the client sent one. Its MD5 is
 * computed when the client sent one or `alwaysMd5` asks, as receiveBody does.
 */
export async function receiveInline(ctx: BlobRequest, expectedCrc: Buffer | undefined, alwaysMd5: boolean): Promise<WrittenContent & InlineContent> {
  const data = await readSmallBody(ctx.req, LIMITS.smallContent);
  const crc = expectedCrc && crc64(data);
  if (crc && !crc.equals(expectedCrc!)) throw errors.crc64Mismatch();
  const md5 = alwaysMd5 || header(ctx.req.headers, 'content-md5') !== undefined ? createHash('md5').update(data).digest() : undefined;
  return { id: newInlineId(), size: data.length, md5, crc64: crc, data };
}

/** Headers Get Blob and Get Blob Properties share. */
function blobHeaders(blob: BlobRecord, ctx: BlobRequest): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'last-modified': httpDate(blob.lastModified),
    etag: blob.etag,
    'x-ms-creation-time': httpDate(blob.created),
    'x-ms-blob-type': blob.blobType ?? 'BlockBlob',
    'x-ms-server-encrypted': 'true',
    'accept-ranges': 'bytes',
  };
  if (blob.blobType === 'AppendBlob') {
    headers['x-ms-blob-committed-block-count'] = blob.committedBlockCount ?? 0;
    if (blob.sealed) headers['x-ms-blob-sealed'] = 'true';
  }
  if (blob.blobType === 'PageBlob') {
    headers['x-ms-blob-sequence-number'] = blob.sequenceNumber ?? 0;
    if (blob.incrementalCopy) {
      headers['x-ms-incremental-copy'] = 'true';
      headers['x-ms-copy-destination-snapshot'] = blob.incrementalCopy.destinationSnapshot;
    }
  }
  if (blob.versionId !== undefined) {
    headers['x-ms-version-id'] = blob.versionId;
    if (blob.snapshot === undefined) headers['x-ms-is-current-version'] = String(!isPreviousVersion(blob));
  }
  addLeaseHeaders(headers, blob.lease, Date.now());
  addContentHeaders(headers, blob, ctx.auth);
  writeMetadata(ctx.res, blob.metadata);
  return headers;
}

export async function getBlobProperties(ctx: BlobRequest): Promise<void> {
  const blob = await requireReadableBlob(ctx);
  checkConditions(ctx.req.headers, blob, 'read');
  const headers = blobHeaders(blob, ctx);
  headers['content-length'] = blob.size;
  addTagCount(headers, blob);
  // Page blobs of a standard account have no tier; append blobs none either.
  if (blob.blobType === undefined) addTierHeaders(headers, tierOf(blob, Date.now(), ctx.deps.defaultAccessTier(ctx.account)));
  if (blob.contentMd5) headers['content-md5'] = blob.contentMd5;
  writeHead(ctx, 200, headers);
  ctx.res.end();
}

export async function getBlob(ctx: BlobRequest): Promise<void> {
  const blob = await requireReadableBlob(ctx);
  checkConditions(ctx.req.headers, blob, 'read');
  checkOnline(blob, Date.now());
  const range = requestedRange(ctx.req.headers, blob.size);
  const headers = blobHeaders(blob, ctx);
  addTagCount(headers, blob);
  const start = range?.start ?? 0;
  const end = range?.end ?? blob.size - 1;
  headers['content-length'] = end - start + 1;
  if (range) {
    headers['content-range'] = `bytes ${start}-${end}/${blob.size}`;
    if (blob.contentMd5) headers['x-ms-blob-content-md5'] = blob.contentMd5;
  } else if (blob.contentMd5) {
    headers['content-md5'] = blob.contentMd5;
  }
  const wantsRangeMd5 = range !== undefined && header(ctx.req.headers, 'x-ms-range-get-content-md5') === 'true';
  if (wantsRangeMd5 && end - start + 1 > 4 * 1024 * 1024) {
    throw new StorageError(400, 'OutOfRangeInput', 'x-ms-range-get-content-md5 needs a range of at most 4 MiB.');
  }
  const status = range ? 206 : 200;
  const single = blob.blobType !== 'PageBlob' && blob.extents.length === 1 ? blob.extents[0]! : undefined;
  const cached = single && blob.size <= LIMITS.smallContent && !wantsRangeMd5 ? ctx.deps.cache.get(single.id) : undefined;
  if (cached) {
    writeHead(ctx, status, headers);
    ctx.res.end(cached.subarray(start, end + 1));
    return;
  }
  if (!wantsRangeMd5 && blob.blobType !== 'PageBlob' && blob.size <= LIMITS.smallContent && blob.extents.length <= 1) {
    // Pinned before the first await, so an overwrite or delete cannot unlink what this response still has to read.
    const release = ctx.deps.pins.pin(blob.extents.map((extent) => extent.id));
    try {
      const data = single ? await smallContent(ctx, single) : Buffer.alloc(0);
      writeHead(ctx, status, headers);
      ctx.res.end(data.subarray(start, end + 1));
    } finally {
      await release();
    }
    return;
  }
  const { pieces, release } = await openBlobBytes(ctx, blob, { start, end });
  try {
    if (wantsRangeMd5) {
      const data = await collectPieces(ctx.deps.content, pieces);
      headers['content-md5'] = createHash('md5').update(data).digest('base64');
      writeHead(ctx, 206, headers);
      ctx.res.end(data);
    } else {
      writeHead(ctx, status, headers);
      await sendPieces(ctx.deps.content, pieces, ctx.res);
    }
  } finally {
    await release();
  }
}

/**
 * Bytes [range.start, range.end] of a blob (or snapshot) of any type, as body
 * pieces: a page blob's written pages with zeros between them, another blob's
 * extents. Its content is pinned in the same tick as the lookup that named it,
 * so an overwrite or delete cannot unlink it mid-stream; call `release` once
 * the pieces are sent or abandoned.
 */
export async function openBlobBytes(ctx: BlobRequest, blob: BlobRecord, range: ByteRange): Promise<{ pieces: BodyPieces; release: () => Promise<void> }> {
  if (blob.blobType !== 'PageBlob') {
    return { pieces: inlineResolved(ctx, extentPieces(blob.extents, range)), release: ctx.deps.pins.pin(blob.extents.map((extent) => extent.id)) };
  }
  const pages = await ctx.deps.repo.pageRanges(blob, range.start, range.end);
  return { pieces: inlineResolved(ctx, stitch(pages, range.start, range.end)), release: ctx.deps.pins.pin(pages.map((page) => page.contentId)) };
}

/** Pieces with those of inline content (small bodies, appends and page writes) read from the metadata store. */
async function* inlineResolved(ctx: BlobRequest, pieces: Iterable<BodyPiece>): AsyncGenerator<BodyPiece> {
  for (const piece of pieces) yield Buffer.isBuffer(piece) || !isInline(piece.id) ? piece : (await inlineData(ctx, piece.id)).subarray(piece.start, piece.end + 1);
}

async function smallContent(ctx: BlobRequest, extent: Extent): Promise<Buffer> {
  let data = ctx.deps.cache.get(extent.id);
  if (data === undefined) {
    data = isInline(extent.id) ? await inlineData(ctx, extent.id) : await ctx.deps.content.readSmall(extent.id, extent.size);
    ctx.deps.cache.set(extent.id, data);
  }
  return data;
}

async function inlineData(ctx: BlobRequest, id: string): Promise<Buffer> {
  const data = await ctx.deps.repo.inlineData(id);
  // The blob's row and its inline body are written and deleted in one transaction.
  if (data === undefined) throw new Error(`inline content ${id} referenced by a blob is missing`);
  return data;
}

/** The bytes [range.start, range.end] of a blob made of `extents`, extent by extent. */
function* extentPieces(extents: Extent[], range: ByteRange): Generator<BodyPiece> {
  let offset = 0;
  for (const extent of extents) {
    const extentEnd = offset + extent.size - 1;
    if (extentEnd >= range.start && offset <= range.end) {
      const from = Math.max(range.start, offset) - offset;
      const to = Math.min(range.end, extentEnd) - offset;
      yield { id: extent.id, start: from, end: to };
    }
    offset += extent.size;
    if (offset > range.end) break;
  }
}

const DELETE_SNAPSHOTS = new Set(['include', 'only']);

/**
 * Delete Blob: the blob (with its snapshots, or only them, as
 * x-ms-delete-snapshots says), one snapshot, or one previous version. Under the
 * account's policy the blob is kept as a version, or soft-deleted with its
 * snapshots until the retention runs out.
 */
export async function deleteBlob(ctx: BlobRequest): Promise<void> {
  const withSnapshots = header(ctx.req.headers, 'x-ms-delete-snapshots');
  if (withSnapshots !== undefined && !DELETE_SNAPSHOTS.has(withSnapshots)) {
    throw errors.invalidHeader('x-ms-delete-snapshots', "use 'include' (the blob and its snapshots) or 'only' (just the snapshots).");
  }
  const snapshot = snapshotParam(ctx);
  const version = versionParam(ctx);
  if ((snapshot !== undefined || version !== undefined) && withSnapshots !== undefined) {
    throw errors.invalidHeader('x-ms-delete-snapshots', 'a request that deletes one snapshot or version cannot also name the snapshots to delete.');
  }
  const now = Date.now();
  const policy = deletePolicy(ctx, now);
  const key = { account: ctx.account, container: ctx.container, name: ctx.path };
  const current = version === undefined ? undefined : await ctx.deps.repo.getBlobProperties(ctx.account, ctx.container, ctx.path);
  const orphans =
    snapshot !== undefined
      ? await ctx.deps.repo.deleteSnapshot(ctx.account, ctx.container, ctx.path, snapshot, policy.soft)
      : version !== undefined && current?.versionId !== version
        ? await ctx.deps.repo.deleteVersion(key, version, policy.soft)
        : await ctx.deps.repo.deleteBlob(
            ctx.account,
            ctx.container,
            ctx.path,
            (current, hasSnapshots) => {
              if (!current) return;
              leaseAfterWrite(current.lease, ctx.req.headers, now, 'blob');
              checkConditions(ctx.req.headers, current, 'write');
              if (withSnapshots === undefined && hasSnapshots) throw snapshotErrors.snapshotsPresent();
            },
            withSnapshots as 'include' | 'only' | undefined,
            policy,
          );
  if (orphans === undefined) return blobNotFound(ctx);
  discard(ctx.deps, orphans);
  respondEmpty(ctx, 202, { 'x-ms-delete-type-permanent': String(policy.retire === undefined && policy.soft === undefined) });
}

/** Set Blob Properties: content headers the request omits are cleared, as Azure documents. */
export async function setBlobProperties(ctx: BlobRequest): Promise<void> {
  const contentHeaders = readContentHeaders(ctx.req.headers, false);
  const blob = await updateBlob(ctx, (current) => ({ ...current, ...contentHeaders }));
  respondEmpty(ctx, 200, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified) });
}

export async function getBlobMetadata(ctx: BlobRequest): Promise<void> {
  const blob = await requireReadableBlob(ctx);
  checkConditions(ctx.req.headers, blob, 'read');
  writeMetadata(ctx.res, blob.metadata);
  respondEmpty(ctx, 200, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified) });
}

export async function setBlobMetadata(ctx: BlobRequest): Promise<void> {
  const metadata = readMetadata(ctx.req.headers);
  const blob = await updateBlob(ctx, (current) => ({ ...current, metadata }), true);
  respondEmpty(ctx, 200, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified), 'x-ms-request-server-encrypted': 'true' });
}

/**
 * Changes a blob's properties or metadata; `versioned` changes (metadata) make a
 * new version where the account keeps them. The change is applied to the blob as
 * it is inside the write's transaction, under its lock: what another request
 * changed meanwhile (other properties, the tier, tags, the lease) is kept, as
 * Azure serializes such writes rather than refusing one.
 */
async function updateBlob(ctx: BlobRequest, change: (current: BlobRecord) => BlobRecord, versioned = false): Promise<BlobRecord> {
  const current = await requireBlob(ctx);
  const now = Date.now();
  checkOnline(current, now);
  const versionId = versioned ? newVersionId(ctx, now) : undefined;
  const next: BlobRecord = { ...change(current), lastModified: now, etag: newEtag(now) };
  const updated = await ctx.deps.repo.updateBlob(next, (latest) => {
    if (!latest) return;
    checkOnline(latest, now);
    checkConditions(ctx.req.headers, latest, 'write');
    Object.assign(next, change(latest), { lastModified: now, etag: next.etag, lease: leaseAfterWrite(latest.lease, ctx.req.headers, now, 'blob') });
  }, versionId);
  if (!updated) throw blobErrors.blobNotFound(ctx.path);
  if (versionId !== undefined) ctx.res.setHeader('x-ms-version-id', next.versionId!);
  return next;
}

/** Lease Blob: acquire, renew, change, release or break, applied to the blob's current lease in one transaction. */
export async function leaseBlob(ctx: BlobRequest): Promise<void> {
  let outcome: LeaseOutcome | undefined;
  const { blob } = await orMissing(
    ctx,
    ctx.deps.repo.changeBlob(ctx.account, ctx.container, ctx.path, (current) => {
      if (!current) throw new NoBlob();
      checkConditions(ctx.req.headers, current, 'write');
      outcome = applyLeaseAction(ctx.req.headers, current.lease, Date.now(), 'blob');
      return { ...current, lease: outcome.lease };
    }),
  );
  // A lease changes neither the blob's ETag nor its Last-Modified time.
  respondEmpty(ctx, outcome!.status, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified), ...outcome!.headers });
}
