import type { WrittenContent } from '../../bytes/content-store.js';
import type { BlobRecord, BlockRecord, Extent } from '../../db/records.js';
import type { KeyRing } from '../auth/keyring.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors, escapeXml } from '../http/errors.js';
import { httpDate, readContentHeaders, readMetadata, requireNoBody } from '../http/headers.js';
import { parseXml, readSmallBody } from '../http/body.js';
import { receiveBody } from '../http/receive-body.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { blobNotFound, commitBlob, discard, findBlob, newBlobVersion } from './blobs.js';
import { copySourceRange } from './copy.js';
import { requireContainer } from './containers.js';
import { checkLeaseIdIfGiven, leaseAfterWrite } from './leases.js';
import { uploadTier } from './tiers.js';
import { tagsHeader } from './tag-set.js';
import { LIMITS, type BlobRequest } from './deps.js';

/** The `blockid` query parameter: base64 of at most 64 bytes, as Azure requires. */
function blockIdParam(ctx: BlobRequest): string {
  const id = ctx.query.get('blockid');
  if (id === null || id === '') throw errors.missingQuery('blockid', 'Put Block needs a base64 block id.');
  checkBlockId(id);
  return id;
}

function checkBlockId(id: string): void {
  const decoded = Buffer.from(id, 'base64');
  if (decoded.length === 0 || decoded.length > 64 || decoded.toString('base64') !== id) {
    throw new StorageError(400, 'InvalidBlockId', `The block id '${id}' is invalid: it must be base64 of 1 to 64 bytes, and all ids of a blob must have the same length.`);
  }
}

export async function putBlock(ctx: BlobRequest): Promise<void> {
  const staging = await prepareStaging(ctx);
  // As Azure does from version 2019-02-02 on, a block's MD5 is computed (and answered) only when the client sent one.
  const written = await receiveBody(ctx.req, ctx.deps.content, LIMITS.block, false);
  await stageBlock(ctx, staging, written);
}

/** Put Block From URL: a block made of bytes of a source blob (x-ms-source-range, or all of it). */
export function makePutBlockFromUrl(keyring: KeyRing) {
  return async function putBlockFromUrl(ctx: BlobRequest): Promise<void> {
    requireNoBody(ctx.req.headers, 'Put Block From URL takes its content from x-ms-copy-source');
    const staging = await prepareStaging(ctx);
    await stageBlock(ctx, staging, await copySourceRange(ctx, keyring, LIMITS.block));
  };
}

interface Staging {
  blockId: string;
  key: { account: string; container: string; name: string };
  mayStage: (blob: BlobRecord | undefined) => void;
}

/** What Put Block checks before reading any bytes: the block id, its length among the blob's others, and the lease. */
async function prepareStaging(ctx: BlobRequest): Promise<Staging> {
  const blockId = blockIdParam(ctx);
  await requireContainer(ctx);
  const key = { account: ctx.account, container: ctx.container, name: ctx.path };
  const sibling = await ctx.deps.repo.someUncommittedBlockId(key);
  if (sibling !== undefined && Buffer.from(sibling, 'base64').length !== Buffer.from(blockId, 'base64').length) {
    throw new StorageError(
      400,
      'InvalidBlobOrBlock',
      `The specified blob or block content is invalid: block id '${blockId}' is not as long as the blob's other uncommitted block ids (like '${sibling}'). Use ids of one length per blob.`,
    );
  }
  const mayStage = (blob: BlobRecord | undefined) => {
    if (blob?.blobType !== undefined) throw blobErrors.onlyBlockBlobs(blob.blobType);
    leaseAfterWrite(blob?.lease, ctx.req.headers, Date.now(), 'blob');
  };
  // A leased blob refuses before its bytes are read, and again at commit, should a lease have been taken meanwhile.
  mayStage(await ctx.deps.repo.getBlob(ctx.account, ctx.container, ctx.path));
  return { blockId, key, mayStage };
}

/** Records a written block as uncommitted; unlinks it if the commit fails. */
async function stageBlock(ctx: BlobRequest, { blockId, key, mayStage }: Staging, written: WrittenContent): Promise<void> {
  let result: Awaited<ReturnType<typeof ctx.deps.repo.putBlock>>;
  try {
    result = await ctx.deps.repo.putBlock(key, { blockId, contentId: written.id, size: written.size }, LIMITS.uncommittedBlocks, mayStage);
  } catch (error) {
    await ctx.deps.content.remove([written.id]);
    throw error;
  }
  if (result === undefined || result === 'tooMany') {
    await ctx.deps.content.remove([written.id]);
    if (result === undefined) throw blobErrors.containerNotFound(ctx.container);
    throw new StorageError(409, 'BlockCountExceedsLimit', `The blob has ${LIMITS.uncommittedBlocks} uncommitted blocks already; commit or discard them first.`);
  }
  discard(ctx.deps, result);
  const headers: Record<string, string> = { 'x-ms-request-server-encrypted': 'true' };
  if (written.md5) headers['content-md5'] = written.md5.toString('base64');
  if (written.crc64) headers['x-ms-content-crc64'] = written.crc64.toString('base64');
  respondEmpty(ctx, 201, headers);
}

type BlockSource = 'Committed' | 'Uncommitted' | 'Latest';
const BLOCK_SOURCES = new Set<string>(['Committed', 'Uncommitted', 'Latest']);

/** Reads `<BlockList>` keeping the order of its mixed Committed/Uncommitted/Latest children. */
function parseBlockList(body: Buffer): { source: BlockSource; id: string }[] {
  const doc = parseXml(body, 'ordered') as any[];
  const root = doc.find((node) => 'BlockList' in node);
  if (!root) throw errors.invalidXml('the root element must be <BlockList>.');
  const entries: { source: BlockSource; id: string }[] = [];
  for (const node of root.BlockList as any[]) {
    const source = Object.keys(node).find((key) => key !== ':@');
    if (source === undefined || source === '#text') continue;
    if (!BLOCK_SOURCES.has(source)) throw errors.invalidXml(`<${source}> is not allowed in <BlockList>; use <Committed>, <Uncommitted> or <Latest>.`);
    const id = String(node[source]?.[0]?.['#text'] ?? '');
    checkBlockId(id);
    entries.push({ source: source as BlockSource, id });
  }
  if (entries.length > LIMITS.blocksPerBlob) {
    throw new StorageError(400, 'BlockListTooLong', `The block list may contain at most ${LIMITS.blocksPerBlob} blocks.`);
  }
  return entries;
}

/** The extents a block list makes of the blob's committed and uncommitted blocks; 400 InvalidBlockList for a block it cannot find. */
function resolveBlockList(entries: { source: BlockSource; id: string }[], current: BlobRecord | undefined, uncommittedBlocks: BlockRecord[]): { extents: Extent[]; size: number } {
  const uncommitted = new Map(uncommittedBlocks.map((block) => [block.blockId, block]));
  const committed = new Map<string, BlockRecord>();
  for (const extent of current?.extents ?? []) {
    if (extent.blockId !== undefined) committed.set(extent.blockId, { blockId: extent.blockId, contentId: extent.id, size: extent.size });
  }
  const extents: Extent[] = [];
  let size = 0;
  for (const { source, id } of entries) {
    const block = source === 'Committed' ? committed.get(id) : source === 'Uncommitted' ? uncommitted.get(id) : (uncommitted.get(id) ?? committed.get(id));
    if (!block) {
      throw new StorageError(400, 'InvalidBlockList', `The block list names block '${id}' as ${source}, but no such block exists. Put the block first or fix its id.`);
    }
    extents.push({ id: block.contentId, size: block.size, blockId: id });
    size += block.size;
  }
  return { extents, size };
}

export async function putBlockList(ctx: BlobRequest): Promise<void> {
  const contentHeaders = readContentHeaders(ctx.req.headers, false);
  const metadata = readMetadata(ctx.req.headers);
  const body = await readSmallBody(ctx.req, LIMITS.xmlBody);
  const entries = parseBlockList(body);
  await requireContainer(ctx);
  const key = { account: ctx.account, container: ctx.container, name: ctx.path };
  const existing = await ctx.deps.repo.getBlob(ctx.account, ctx.container, ctx.path);
  if (existing?.blobType !== undefined) throw blobErrors.onlyBlockBlobs(existing.blobType);
  leaseAfterWrite(existing?.lease, ctx.req.headers, Date.now(), 'blob');
  checkConditions(ctx.req.headers, existing, 'create');

  // Checked here before the commit, and resolved again in it: the blocks the commit takes are those it reads.
  resolveBlockList(entries, existing, await ctx.deps.repo.uncommittedBlocks(key));
  const now = Date.now();
  const blob: BlobRecord = {
    ...newBlobVersion(ctx, now),
    ...uploadTier(ctx.req.headers, now),
    tags: tagsHeader(ctx.req.headers),
    size: 0,
    ...contentHeaders,
    metadata,
    extents: [],
  };
  await commitBlob(ctx, blob, [], { extentsFrom: (current, uncommitted) => resolveBlockList(entries, current, uncommitted) });
  respondEmpty(ctx, 201, { etag: blob.etag, 'last-modified': httpDate(blob.lastModified), 'x-ms-request-server-encrypted': 'true' });
}

export async function getBlockList(ctx: BlobRequest): Promise<void> {
  const type = (ctx.query.get('blocklisttype') ?? 'committed').toLowerCase();
  if (type !== 'committed' && type !== 'uncommitted' && type !== 'all') {
    throw errors.invalidQuery('blocklisttype', "use 'committed', 'uncommitted' or 'all'.");
  }
  const blob = await findBlob(ctx);
  const key = { account: ctx.account, container: ctx.container, name: ctx.path };
  // A snapshot has committed blocks only.
  const uncommitted = type === 'committed' || blob?.snapshot !== undefined ? [] : await ctx.deps.repo.uncommittedBlocks(key);
  if (!blob && (type === 'committed' || uncommitted.length === 0)) return blobNotFound(ctx);
  if (blob) {
    checkLeaseIdIfGiven(blob.lease, ctx.req.headers, Date.now(), 'blob');
    checkConditions(ctx.req.headers, blob, 'read');
  }
  const blockXml = (id: string, size: number) => `<Block><Name>${escapeXml(id)}</Name><Size>${size}</Size></Block>`;
  const committedXml =
    type === 'uncommitted' ? '' : `<CommittedBlocks>${(blob?.extents ?? []).filter((e) => e.blockId !== undefined).map((e) => blockXml(e.blockId!, e.size)).join('')}</CommittedBlocks>`;
  const uncommittedXml = type === 'committed' ? '' : `<UncommittedBlocks>${uncommitted.map((b) => blockXml(b.blockId, b.size)).join('')}</UncommittedBlocks>`;
  const headers: Record<string, string | number> = { 'x-ms-blob-content-length': blob?.size ?? 0 };
  if (blob) {
    headers.etag = blob.etag;
    headers['last-modified'] = httpDate(blob.lastModified);
  }
  respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?><BlockList>${committedXml}${uncommittedXml}</BlockList>`, headers);
}
