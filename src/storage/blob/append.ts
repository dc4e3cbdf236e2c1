import type { IncomingHttpHeaders } from 'node:http';
import type { WrittenContent } from '../../bytes/content-store.js';
import type { InlineContent } from '../../db/blobs.js';
import type { BlobRecord } from '../../db/records.js';
import type { KeyRing } from '../auth/keyring.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors } from '../http/errors.js';
import { contentLength, header, httpDate, newEtag, readContentHeaders, readMetadata, requireNoBody } from '../http/headers.js';
import { expectedCrc64, receiveBody } from '../http/receive-body.js';
import { respondEmpty } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { NoBlob, commitBlob, newBlobVersion, orMissing, receiveInline } from './blobs.js';
import { copySourceRange } from './copy.js';
import { requireContainer } from './containers.js';
import { LIMITS, type BlobRequest } from './deps.js';
import { leaseAfterWrite } from './leases.js';
import { tagsHeader } from './tag-set.js';

/**
 * Append blobs: created empty by Put Blob, grown by Append Block, each block
 * landing whole at the end, and sealed against more. Blocks of up to 64 KiB
 * are committed in the metadata store with the append itself (one
 * group-committed fsync for many appenders), larger ones as content files.
 */

const MAX_BLOCKS = 50_000;
/** Service versions from 2022-11-02 take blocks of up to 100 MiB; older ones 4 MiB. */
const LARGE_BLOCKS_SINCE = '2022-11-02';

/** Put Blob with x-ms-blob-type: AppendBlob: a new, empty append blob (replacing whatever had the name). */
export async function createAppendBlob(ctx: BlobRequest): Promise<void> {
  requireNoBody(ctx.req.headers, 'an append blob is created empty; add content with Append Block');
  const now = Date.now();
  const blob: BlobRecord = {
    ...newBlobVersion(ctx, now),
    ...readContentHeaders(ctx.req.headers, true),
    blobType: 'AppendBlob',
    committedBlockCount: 0,
    tags: tagsHeader(ctx.req.headers),
    size: 0,
    metadata: readMetadata(ctx.req.headers),
    extents: [],
  };
  await requireContainer(ctx);
  await commitBlob(ctx, blob, []);
  respondEmpty(ctx, 201, { etag: blob.etag, 'last-modified': httpDate(now), 'x-ms-request-server-encrypted': 'true' });
}

/** What an append may do to the blob as it is: its type, seal, lease, conditions, and the append conditions. */
function checkAppend(ctx: BlobRequest, current: BlobRecord | undefined, length: number, now: number): BlobRecord {
  if (!current) throw new NoBlob();
  if (current.blobType !== 'AppendBlob') throw blobErrors.notAppendBlob();
  if (current.sealed) throw blobErrors.sealed();
  leaseAfterWrite(current.lease, ctx.req.headers, now, 'blob');
  checkConditions(ctx.req.headers, current, 'write');
  const maxSize = numberHeader(ctx.req.headers, 'x-ms-blob-condition-maxsize');
  if (maxSize !== undefined && current.size + length > maxSize) {
    throw new StorageError(412, 'MaxBlobSizeConditionNotMet', `The max blob size condition specified was not met: the blob would grow to ${current.size + length} bytes, past ${maxSize}.`);
  }
  checkAppendPosition(ctx, current);
  if ((current.committedBlockCount ?? 0) >= MAX_BLOCKS) {
    throw new StorageError(409, 'BlockCountExceedsLimit', `The committed block count cannot exceed the maximum limit of ${MAX_BLOCKS} blocks.`);
  }
  return current;
}

/** x-ms-blob-condition-appendpos: the blob must end exactly there. */
function checkAppendPosition(ctx: BlobRequest, current: BlobRecord): void {
  const position = numberHeader(ctx.req.headers, 'x-ms-blob-condition-appendpos');
  if (position !== undefined && current.size !== position) {
    throw new StorageError(412, 'AppendPositionConditionNotMet', `The append position condition specified was not met: the blob ends at ${current.size}, not ${position}.`);
  }
}

function numberHeader(headers: IncomingHttpHeaders, name: string): number | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw errors.invalidHeader(name, 'it must be a non-negative whole number of bytes.');
  return n;
}

function maxAppendBlock(ctx: BlobRequest): number {
  const version = header(ctx.req.headers, 'x-ms-version') ?? LARGE_BLOCKS_SINCE;
  return version >= LARGE_BLOCKS_SINCE ? 100 * 1024 * 1024 : 4 * 1024 * 1024;
}

/** Append Block: the body lands whole at the blob's end, at the offset answered in x-ms-blob-append-offset. */
export async function appendBlock(ctx: BlobRequest): Promise<void> {
  const maxBlock = maxAppendBlock(ctx);
  const length = contentLength(ctx.req.headers, maxBlock);
  const expectedCrc = expectedCrc64(ctx.req.headers);
  // Refuse before reading the body what would be refused after it.
  await orMissing(ctx, ctx.deps.repo.getBlobProperties(ctx.account, ctx.container, ctx.path).then((current) => checkAppend(ctx, current, length, Date.now())));
  const inline = length <= LIMITS.smallContent ? await receiveInline(ctx, expectedCrc, false) : undefined;
  await commitAppend(ctx, inline ?? (await receiveBody(ctx.req, ctx.deps.content, maxBlock, false)), inline);
}

/** Append Block From URL: bytes of a source blob (x-ms-source-range, or all of it) appended as one block. */
export function makeAppendBlockFromUrl(keyring: KeyRing) {
  return async function appendBlockFromUrl(ctx: BlobRequest): Promise<void> {
    requireNoBody(ctx.req.headers, 'Append Block From URL takes its content from x-ms-copy-source');
    await orMissing(ctx, ctx.deps.repo.getBlobProperties(ctx.account, ctx.container, ctx.path).then((current) => checkAppend(ctx, current, 0, Date.now())));
    await commitAppend(ctx, await copySourceRange(ctx, keyring, maxAppendBlock(ctx)));
  };
}

/** Appends written content as the blob's next block, checking everything again inside the transaction. */
async function commitAppend(ctx: BlobRequest, written: WrittenContent, inline?: InlineContent): Promise<void> {
  let blob: BlobRecord;
  let offset = 0;
  try {
    blob = await orMissing(
      ctx,
      ctx.deps.repo.appendBlock(
        { account: ctx.account, container: ctx.container, name: ctx.path },
        { id: written.id, size: written.size },
        (current) => {
          const now = Date.now();
          const checked = checkAppend(ctx, current, written.size, now);
          offset = checked.size;
          return { ...checked, size: checked.size + written.size, committedBlockCount: (checked.committedBlockCount ?? 0) + 1, lastModified: now, etag: newEtag(now) };
        },
        inline,
      ),
    );
  } catch (error) {
    if (!inline) await ctx.deps.content.remove([written.id]);
    throw error;
  }
  const headers: Record<string, string | number> = {
    etag: blob.etag,
    'last-modified': httpDate(blob.lastModified),
    'x-ms-blob-append-offset': offset,
    'x-ms-blob-committed-block-count': blob.committedBlockCount!,
    'x-ms-request-server-encrypted': 'true',
  };
  if (written.md5) headers['content-md5'] = written.md5.toString('base64');
  if (written.crc64) headers['x-ms-content-crc64'] = written.crc64.toString('base64');
  respondEmpty(ctx, 201, headers);
}

/** Append Blob Seal: no more appends, ever. */
export async function sealBlob(ctx: BlobRequest): Promise<void> {
  const now = Date.now();
  const { blob } = await orMissing(
    ctx,
    ctx.deps.repo.changeBlob(ctx.account, ctx.container, ctx.path, (current) => {
      if (!current) throw new NoBlob();
      if (current.blobType !== 'AppendBlob') throw blobErrors.notAppendBlob();
      const lease = leaseAfterWrite(current.lease, ctx.req.headers, now, 'blob');
      checkConditions(ctx.req.headers, current, 'write');
      checkAppendPosition(ctx, current);
      return { ...current, lease, sealed: true, lastModified: now, etag: newEtag(now) };
    }),
  );
  respondEmpty(ctx, 200, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified), 'x-ms-blob-sealed': 'true' });
}
