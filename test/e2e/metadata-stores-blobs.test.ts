import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncStore } from '../../src/db/async-store.js';
import { extentIds, timeId } from '../../src/db/blob-history.js';
import { BlobRepo, type BlobStore } from '../../src/db/blobs.js';
import { PgBlobRepo } from '../../src/db/postgres/blobs.js';
import type { BlobRecord, ContainerRecord, Extent } from '../../src/db/records.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/**
 * The Blob service's metadata store, the same over SQLite and over PostgreSQL
 * (as test/e2e/metadata-stores.test.ts): return values, orphaned content and
 * its order, listing order. Then, over PostgreSQL only, what several nodes
 * writing at once must not break.
 */
interface Dialect {
  store: BlobStore;
  /** Raw rows, for checking the reference counts against what refers to content. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function sqliteDialect(): Promise<Dialect> {
  const { db, close } = sqliteScratch();
  return { store: asyncStore(new BlobRepo(db)), rows: async (sql) => db.prepare(sql).all() as Record<string, unknown>[], close };
}

async function postgresDialect(poolSize = 2): Promise<Dialect> {
  const { pool, close } = await postgresScratch('mlspace_stores_blobs', poolSize);
  return { store: new PgBlobRepo(pool), rows: async (sql) => (await pool.query(sql)).rows, close };
}

const T = 1_700_000_000_000;
const ACCOUNT = 'blobacct';

function container(name: string, fields: Partial<ContainerRecord> = {}, account = ACCOUNT): ContainerRecord {
  return { account, name, created: T, lastModified: T, etag: '"0x1"', metadata: {}, signedIdentifiers: [], ...fields };
}

function blob(containerName: string, name: string, fields: Partial<BlobRecord> = {}, account = ACCOUNT): BlobRecord {
  return { account, container: containerName, name, created: T, lastModified: T, etag: '"0x1"', size: 0, metadata: {}, extents: [], ...fields };
}

function extents(...ids: string[]): { extents: Extent[]; size: number } {
  return { extents: ids.map((id) => ({ id, size: 4 })), size: 4 * ids.length };
}

/** A snapshot or version id picker as the service's: the first free tick of one millisecond. */
function pick(ms: number) {
  return (taken: (id: string) => boolean) => {
    for (let tick = 0; ; tick++) if (!taken(timeId(ms, tick))) return timeId(ms, tick);
  };
}

function failUnless(expectedEtag: string) {
  return (current: { etag: string } | undefined) => {
    if (current?.etag !== expectedEtag) throw new Error('ConditionNotMet');
  };
}

/** Names in the order SQLite compares them: UTF-8 bytes (not JavaScript's UTF-16 order). */
function byteOrder(names: string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Every content row counts exactly the rows and records that refer to it, and nothing referred to lacks one. */
async function expectReferencesCounted(dialect: Dialect): Promise<Map<string, number>> {
  const expected = new Map<string, number>();
  const count = (id: string) => expected.set(id, (expected.get(id) ?? 0) + 1);
  for (const table of ['blobs', 'blob_snapshots', 'blob_versions', 'deleted_blobs']) {
    for (const row of await dialect.rows(`SELECT doc FROM ${table}`)) extentIds(JSON.parse(row.doc as string)).forEach(count);
  }
  for (const table of ['blocks', 'append_blocks', 'page_ranges']) for (const row of await dialect.rows(`SELECT content_id FROM ${table}`)) count(row.content_id as string);
  const actual = new Map((await dialect.rows('SELECT id, refs FROM content')).map((row) => [row.id as string, Number(row.refs)]));
  const sorted = (map: Map<string, number>) => Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1)));
  expect(sorted(actual)).toEqual(sorted(expected));
  return actual;
}

describe.each([
  ['SQLite', () => sqliteDialect()],
  ['PostgreSQL', () => postgresDialect()],
])('the Blob store over %s', (_name, open) => {
  let dialect: Dialect;
  let store: BlobStore;
  beforeAll(async () => {
    dialect = await open();
    store = dialect.store;
  });
  afterAll(() => dialect?.close());

  it('create, get, update and change containers', async () => {
    const alpha = container('alpha');
    expect(await store.createContainer(alpha)).toBe(true);
    expect(await store.createContainer({ ...alpha, etag: '"0x2"' })).toBe(false);
    expect(await store.getContainer(ACCOUNT, 'alpha')).toEqual(alpha);
    expect(await store.getContainer(ACCOUNT, 'missing')).toBeUndefined();
    expect(await store.getContainer('otheracct', 'alpha')).toBeUndefined();

    await expect(store.updateContainer({ ...alpha, etag: '"0x2"' }, failUnless('"0xF"'))).rejects.toThrow('ConditionNotMet');
    expect(await store.getContainer(ACCOUNT, 'alpha')).toEqual(alpha);
    const updated = { ...alpha, etag: '"0x2"', metadata: { team: 'ml' }, publicAccess: 'blob' as const };
    await store.updateContainer(updated, failUnless('"0x1"'));
    expect(await store.getContainer(ACCOUNT, 'alpha')).toEqual(updated);

    const seen: (ContainerRecord | undefined)[] = [];
    const leased = await store.changeContainer(ACCOUNT, 'alpha', (current) => {
      seen.push(current);
      return { ...current!, lease: { id: 'lease-1', duration: -1 } };
    });
    expect(seen).toEqual([updated]);
    expect(leased).toEqual({ ...updated, lease: { id: 'lease-1', duration: -1 } });
    expect(await store.getContainer(ACCOUNT, 'alpha')).toEqual(leased);
    await expect(store.changeContainer(ACCOUNT, 'alpha', () => {
      throw new Error('LeaseAlreadyPresent');
    })).rejects.toThrow('LeaseAlreadyPresent');
    expect(await store.getContainer(ACCOUNT, 'alpha')).toEqual(leased);
  });

  it('list containers by prefix, page by page, without hidden ones or other accounts', async () => {
    for (const name of ['alpha-2', 'beta', 'gamma', 'alphabet']) await store.createContainer(container(name));
    await store.createContainer(container('~hidden-1'));
    await store.createContainer(container('aardvark', {}, 'otheracct'));
    const names = (page: { items: ContainerRecord[] }) => page.items.map((each) => each.name);
    const first = await store.listContainers(ACCOUNT, '', '', 2);
    expect(names(first)).toEqual(['alpha', 'alpha-2']);
    expect(first.next).toBe('alpha-2');
    const second = await store.listContainers(ACCOUNT, '', first.next!, 10);
    expect(names(second)).toEqual(['alphabet', 'beta', 'gamma']);
    expect(second.next).toBeUndefined();
    const prefixed = await store.listContainers(ACCOUNT, 'alpha', '', 2);
    expect(names(prefixed)).toEqual(['alpha', 'alpha-2']);
    expect(prefixed.next).toBe('alpha-2');
    expect(names(await store.listContainers(ACCOUNT, 'alpha', 'alpha-2', 2))).toEqual(['alphabet']);
    expect(names(await store.listContainers(ACCOUNT, 'zeta', '', 2))).toEqual([]);
    expect((await store.hiddenContainers(ACCOUNT)).map((each) => each.hiddenName)).toEqual(['~hidden-1']);
  });

  it('move a container with everything in it; a move onto a taken name changes nothing', async () => {
    await store.createContainer(container('moving'));
    expect(await store.commitBlob(blob('moving', 'a.txt', extents('mv-1')), ['mv-1'])).toEqual([]);
    await store.putBlock({ account: ACCOUNT, container: 'moving', name: 'staged' }, { blockId: 'QQ==', contentId: 'mv-2', size: 4 }, 10);
    const moved = await store.moveContainer(ACCOUNT, 'moving', '~moving-1', (source, target) => {
      expect(target).toBeUndefined();
      return { ...source!, deletedTime: T, retentionExpires: T + 1000 };
    });
    expect(moved).toEqual({ ...container('~moving-1'), deletedTime: T, retentionExpires: T + 1000 });
    expect(await store.getContainer(ACCOUNT, 'moving')).toBeUndefined();
    expect(await store.hiddenContainers(ACCOUNT)).toEqual([
      { hiddenName: '~hidden-1', container: container('~hidden-1') },
      { hiddenName: '~moving-1', container: moved },
    ]);
    expect(await store.getBlob(ACCOUNT, '~moving-1', 'a.txt')).toEqual(blob('~moving-1', 'a.txt', extents('mv-1')));
    expect(await store.uncommittedBlocks({ account: ACCOUNT, container: '~moving-1', name: 'staged' })).toEqual([{ blockId: 'QQ==', contentId: 'mv-2', size: 4 }]);

    await store.createContainer(container('moving'));
    await expect(
      store.moveContainer(ACCOUNT, '~moving-1', 'moving', (_source, target) => {
        if (target) throw new Error('ContainerAlreadyExists');
        return _source!;
      }),
    ).rejects.toThrow('ContainerAlreadyExists');
    expect(await store.getBlob(ACCOUNT, '~moving-1', 'a.txt')).toBeDefined();
    expect(await store.deleteContainer(ACCOUNT, 'moving')).toEqual([]);
    const restored = await store.moveContainer(ACCOUNT, '~moving-1', 'moving', (source) => ({ ...source!, deletedTime: undefined, retentionExpires: undefined }));
    expect(restored).toEqual(container('moving'));
    expect(await store.getContainer(ACCOUNT, 'moving')).toEqual(container('moving'));
    expect(await store.getBlob(ACCOUNT, 'moving', 'a.txt')).toEqual(blob('moving', 'a.txt', extents('mv-1')));
    await expectReferencesCounted(dialect);
  });

  it('delete a container: its blobs, blocks, snapshots and versions go, their content orphaned', async () => {
    await store.createContainer(container('doomed'));
    await store.commitBlob(blob('doomed', 'b', extents('d-2', 'd-3')), ['d-2', 'd-3']);
    await store.commitBlob(blob('doomed', 'a', extents('d-1')), ['d-1']);
    await store.snapshotBlob(ACCOUNT, 'doomed', 'a', pick(T), undefined);
    await store.commitBlob(blob('doomed', 'a', extents('d-4')), ['d-4'], undefined, { retire: { kind: 'version' }, versionId: pick(T + 1) });
    await store.putBlock({ account: ACCOUNT, container: 'doomed', name: 'a' }, { blockId: 'QQ==', contentId: 'd-5', size: 4 }, 10);
    await expect(store.deleteContainer(ACCOUNT, 'doomed', failUnless('"0xF"'))).rejects.toThrow('ConditionNotMet');
    expect(await store.getBlob(ACCOUNT, 'doomed', 'a')).toBeDefined();
    // Records first (blobs, snapshots, versions), then blocks: the order BlobRepo releases them in.
    expect(await store.deleteContainer(ACCOUNT, 'doomed', failUnless('"0x1"'))).toEqual(['d-4', 'd-2', 'd-3', 'd-1', 'd-5']);
    expect(await store.getContainer(ACCOUNT, 'doomed')).toBeUndefined();
    expect(await store.getBlob(ACCOUNT, 'doomed', 'a')).toBeUndefined();
    expect(await store.deleteContainer(ACCOUNT, 'doomed')).toBeUndefined();
    await store.createContainer(container('doomed'));
    expect(await store.snapshotsOf(ACCOUNT, 'doomed', 'a', true)).toEqual([]);
    expect(await store.versionsOf({ account: ACCOUNT, container: 'doomed', name: 'a' }, true)).toEqual([]);
    await expectReferencesCounted(dialect);
  });

  it('commit blobs with and without a precondition; read them and their inline content', async () => {
    await store.createContainer(container('docs'));
    const first = blob('docs', 'doc.txt', { ...extents('c-1'), contentType: 'text/plain', tags: undefined });
    expect(await store.commitBlob(first, ['c-1'])).toEqual([]);
    expect(await store.getBlob(ACCOUNT, 'docs', 'doc.txt')).toEqual(first);
    expect(await store.getBlobProperties(ACCOUNT, 'docs', 'doc.txt')).toEqual(first);
    expect(await store.getBlob(ACCOUNT, 'docs', 'missing')).toBeUndefined();

    await expect(store.commitBlob(blob('docs', 'doc.txt', { etag: '"0x2"', ...extents('c-2') }), ['c-2'], failUnless('"0xF"'))).rejects.toThrow('ConditionNotMet');
    expect(await store.getBlob(ACCOUNT, 'docs', 'doc.txt')).toEqual(first);

    const second = blob('docs', 'doc.txt', { etag: '"0x3"', ...extents('c-3') });
    const seen: (BlobRecord | undefined)[] = [];
    const orphans = await store.commitBlob(second, ['c-3'], (current) => {
      seen.push(current);
      second.lease = { id: 'kept-lease', duration: -1 };
    });
    expect(seen).toEqual([first]);
    expect(orphans).toEqual(['c-1']);
    expect(await store.getBlob(ACCOUNT, 'docs', 'doc.txt')).toEqual({ ...second, lease: { id: 'kept-lease', duration: -1 } });

    expect(await store.commitBlob(blob('nowhere', 'x', extents('c-9')), ['c-9'])).toBeUndefined();

    const data = Buffer.from('small body');
    const inline = blob('docs', 'small.txt', { extents: [{ id: 'inline:aa', size: data.length }], size: data.length });
    expect(await store.commitBlob(inline, [], undefined, { inline: { id: 'inline:aa', data } })).toEqual([]);
    expect(await store.inlineData('inline:aa')).toEqual(data);
    // Inline content nothing refers to goes with the transaction; only files are the caller's to unlink.
    expect(await store.commitBlob(blob('docs', 'small.txt', extents('c-4')), ['c-4'])).toEqual([]);
    expect(await store.inlineData('inline:aa')).toBeUndefined();

    // Content a copy reuses gains a reference; the source's overwrite leaves it.
    await store.commitBlob(blob('docs', 'copy.txt', extents('c-3')), []);
    expect(await store.commitBlob(blob('docs', 'doc.txt', extents('c-5')), ['c-5'])).toEqual([]);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'copy.txt')).toEqual(['c-3']);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'copy.txt')).toBeUndefined();
    await expectReferencesCounted(dialect);
  });

  it('commit over the blob the caller read: over it while unchanged, over the blob as it is now once changed', async () => {
    await store.createContainer(container('seen'));
    expect(await store.commitBlob(blob('seen', 'a', extents('s-1')), ['s-1'], undefined, { seen: { blob: undefined } })).toEqual([]);
    const read = await store.getBlob(ACCOUNT, 'seen', 'a');
    const preconditionSaw: (BlobRecord | undefined)[] = [];
    const second = blob('seen', 'a', { etag: '"0x2"', ...extents('s-2') });
    const orphans = await store.commitBlob(second, ['s-2'], (current) => void preconditionSaw.push(current), { seen: { blob: read } });
    expect(orphans).toEqual(['s-1']);
    expect(preconditionSaw).toEqual([read]);
    expect(await store.getBlob(ACCOUNT, 'seen', 'a')).toEqual(second);

    // A lease taken since the read (the ETag stays): the precondition sees it.
    const stale = await store.getBlob(ACCOUNT, 'seen', 'a');
    await store.changeBlob(ACCOUNT, 'seen', 'a', (current) => ({ ...current!, lease: { id: 'l-1', duration: -1 } }));
    const refuseLeased = (current: BlobRecord | undefined) => {
      if (current?.lease) throw new Error('LeaseIdMissing');
    };
    await expect(store.commitBlob(blob('seen', 'a', { etag: '"0x3"', ...extents('s-3') }), ['s-3'], refuseLeased, { seen: { blob: stale } })).rejects.toThrow('LeaseIdMissing');
    expect(await store.getBlob(ACCOUNT, 'seen', 'a')).toEqual({ ...second, lease: { id: 'l-1', duration: -1 } });

    // Seen absent, made since: an If-None-Match: * write finds it.
    await store.commitBlob(blob('seen', 'b', extents('s-4')), ['s-4']);
    const refuseExisting = (current: BlobRecord | undefined) => {
      if (current) throw new Error('BlobAlreadyExists');
    };
    await expect(store.commitBlob(blob('seen', 'b', extents('s-5')), ['s-5'], refuseExisting, { seen: { blob: undefined } })).rejects.toThrow('BlobAlreadyExists');

    // Inline content over a read blob; replaced in turn, it is deleted with the commit. A missing container is still undefined.
    const data = Buffer.from('seen inline');
    const small = blob('seen', 'b', { extents: [{ id: 'inline:5e', size: data.length }], size: data.length });
    expect(await store.commitBlob(small, [], undefined, { inline: { id: 'inline:5e', data }, seen: { blob: await store.getBlob(ACCOUNT, 'seen', 'b') } })).toEqual(['s-4']);
    expect(await store.inlineData('inline:5e')).toEqual(data);
    expect(await store.commitBlob(blob('seen', 'b', extents('s-6')), ['s-6'], undefined, { seen: { blob: await store.getBlob(ACCOUNT, 'seen', 'b') } })).toEqual([]);
    expect(await store.inlineData('inline:5e')).toBeUndefined();
    expect(await store.commitBlob(blob('nowhere', 'x', extents('s-9')), ['s-9'], undefined, { seen: { blob: undefined } })).toBeUndefined();
    await expectReferencesCounted(dialect);
  });

  it('change a blob: its extents stay, content only a dropped pending copy held is orphaned, a completed copy reads as done', async () => {
    const pending = blob('docs', 'copying', { pendingCopy: { completesAt: T * 2, size: 8, extents: [{ id: 'pc-1', size: 8 }], content: { contentType: 'x/y' } } });
    await store.commitBlob(pending, []);
    const { blob: aborted, orphans } = await store.changeBlob(ACCOUNT, 'docs', 'copying', (current) => ({ ...current!, pendingCopy: undefined, etag: '"0x9"' }));
    expect(orphans).toEqual(['pc-1']);
    expect(aborted).toEqual({ ...pending, pendingCopy: undefined, etag: '"0x9"' });
    expect(await store.getBlob(ACCOUNT, 'docs', 'copying')).toEqual(aborted);

    const done = blob('docs', 'copied', { copy: { id: 'cp', source: 'src', status: 'pending', progress: '0/8' }, pendingCopy: { completesAt: T, size: 8, extents: [{ id: 'pc-2', size: 8 }], content: { contentType: 'x/y' } } });
    await store.commitBlob(done, []);
    expect(await store.getBlob(ACCOUNT, 'docs', 'copied')).toEqual({
      ...blob('docs', 'copied'),
      contentType: 'x/y',
      size: 8,
      extents: [{ id: 'pc-2', size: 8 }],
      copy: { id: 'cp', source: 'src', status: 'success', progress: '8/8', completed: T },
    });
    await expect(store.changeBlob(ACCOUNT, 'docs', 'copied', () => {
      throw new Error('LeaseIdMismatch');
    })).rejects.toThrow('LeaseIdMismatch');
    await expectReferencesCounted(dialect);
  });

  it('stage blocks and commit a block list from them', async () => {
    const key = { account: ACCOUNT, container: 'docs', name: 'blocks.bin' };
    expect(await store.putBlock(key, { blockId: 'QUFB', contentId: 'b-1', size: 10 }, 3)).toEqual([]);
    expect(await store.putBlock(key, { blockId: 'QkJC', contentId: 'b-2', size: 20 }, 3)).toEqual([]);
    expect(await store.putBlock(key, { blockId: 'QUFB', contentId: 'b-3', size: 30 }, 3)).toEqual(['b-1']);
    expect(await store.putBlock(key, { blockId: 'Q0ND', contentId: 'b-4', size: 40 }, 3)).toEqual([]);
    expect(await store.putBlock(key, { blockId: 'RERE', contentId: 'b-5', size: 50 }, 3)).toBe('tooMany');
    // A block replaced moves to the end of the upload order.
    expect(await store.uncommittedBlocks(key)).toEqual([
      { blockId: 'QkJC', contentId: 'b-2', size: 20 },
      { blockId: 'QUFB', contentId: 'b-3', size: 30 },
      { blockId: 'Q0ND', contentId: 'b-4', size: 40 },
    ]);
    expect(['QUFB', 'QkJC', 'Q0ND']).toContain(await store.someUncommittedBlockId(key));
    expect(await store.someUncommittedBlockId({ ...key, name: 'none' })).toBeUndefined();
    expect(await store.putBlock({ ...key, container: 'nowhere' }, { blockId: 'QUFB', contentId: 'b-6', size: 1 }, 3)).toBeUndefined();
    await expect(store.putBlock(key, { blockId: 'QUFB', contentId: 'b-7', size: 1 }, 3, () => {
      throw new Error('LeaseIdMissing');
    })).rejects.toThrow('LeaseIdMissing');

    const list = blob('docs', 'blocks.bin', { etag: '"0x7"' });
    const seen: unknown[] = [];
    const orphans = await store.commitBlob(list, [], undefined, {
      extentsFrom: (current, uncommitted) => {
        seen.push(current, uncommitted);
        const chosen = ['QUFB', 'QkJC'].map((id) => uncommitted.find((block) => block.blockId === id)!);
        return { extents: chosen.map((block) => ({ id: block.contentId, size: block.size, blockId: block.blockId })), size: 50 };
      },
    });
    expect(seen).toEqual([undefined, [
      { blockId: 'QkJC', contentId: 'b-2', size: 20 },
      { blockId: 'QUFB', contentId: 'b-3', size: 30 },
      { blockId: 'Q0ND', contentId: 'b-4', size: 40 },
    ]]);
    expect(orphans).toEqual(['b-4']);
    expect(await store.uncommittedBlocks(key)).toEqual([]);
    expect(await store.getBlob(ACCOUNT, 'docs', 'blocks.bin')).toEqual({
      ...list,
      size: 50,
      extents: [
        { id: 'b-3', size: 30, blockId: 'QUFB' },
        { id: 'b-2', size: 20, blockId: 'QkJC' },
      ],
    });
    await expectReferencesCounted(dialect);
  });

  it('append blocks: each lands at the end, concurrent ones too; a refused one changes nothing', async () => {
    const key = { account: ACCOUNT, container: 'docs', name: 'log' };
    await store.commitBlob(blob('docs', 'log', { blobType: 'AppendBlob', committedBlockCount: 0 }), []);
    const append = (id: string, size: number) => (current: BlobRecord | undefined) => {
      if (!current) throw new Error('BlobNotFound');
      return { ...current, size: current.size + size, committedBlockCount: current.committedBlockCount! + 1, etag: `"${id}"` };
    };
    const offsets = await Promise.all(['a-1', 'a-2', 'a-3', 'a-4', 'a-5'].map((id) => store.appendBlock(key, { id, size: 4 }, append(id, 4)).then((next) => next.size - 4)));
    expect([...offsets].sort((a, b) => a - b)).toEqual([0, 4, 8, 12, 16]);
    const data = Buffer.from('tail');
    await store.appendBlock(key, { id: 'inline:tail', size: 4 }, append('inline:tail', 4), { id: 'inline:tail', data });
    await expect(store.appendBlock(key, { id: 'a-x', size: 4 }, () => {
      throw new Error('AppendPositionConditionNotMet');
    })).rejects.toThrow('AppendPositionConditionNotMet');
    await expect(store.appendBlock({ ...key, name: 'nolog' }, { id: 'a-y', size: 4 }, append('a-y', 4))).rejects.toThrow('BlobNotFound');

    const properties = await store.getBlobProperties(ACCOUNT, 'docs', 'log');
    expect(properties).toMatchObject({ size: 24, committedBlockCount: 6, blobType: 'AppendBlob', extents: [] });
    const full = await store.getBlob(ACCOUNT, 'docs', 'log');
    expect(full!.extents.map((extent) => extent.id).slice(5)).toEqual(['inline:tail']);
    expect(full!.extents.map((extent) => extent.size)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(full!.extents.map((extent) => extent.id).slice(0, 5).sort()).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'a-5']);
    expect(await store.inlineData('inline:tail')).toEqual(data);
    await expectReferencesCounted(dialect);

    // A copy of an append blob gets the blocks as its own, and a soft-deleted one gets them back when undeleted.
    const copyKey = { ...key, name: 'log-copy' };
    await store.commitBlob(blob('docs', 'log-copy', { blobType: 'AppendBlob', committedBlockCount: 6, size: 24, extents: full!.extents }), []);
    expect((await store.getBlob(ACCOUNT, 'docs', 'log-copy'))!.extents).toEqual(full!.extents);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'log-copy', undefined, undefined, { retire: { kind: 'deleted', deletedTime: T, expires: T * 2 } })).toEqual([]);
    expect(await store.getBlob(ACCOUNT, 'docs', 'log-copy')).toBeUndefined();
    expect((await store.deletedOf(copyKey))[0]!.extents).toEqual(full!.extents);
    expect(await store.undeleteBlob(copyKey)).toBe(true);
    expect((await store.getBlob(ACCOUNT, 'docs', 'log-copy'))!.extents).toEqual(full!.extents);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'log-copy')).toEqual([]);
    await expectReferencesCounted(dialect);

    // A snapshot keeps the appended blocks in its record; the blob's overwrite releases its own.
    const snapshot = await store.snapshotBlob(ACCOUNT, 'docs', 'log', pick(T), undefined);
    expect(snapshot!.extents).toEqual(full!.extents);
    expect(await store.commitBlob(blob('docs', 'log', extents('a-new')), ['a-new'])).toEqual([]);
    expect(await store.deleteSnapshot(ACCOUNT, 'docs', 'log', snapshot!.snapshot!)).toEqual(full!.extents.map((extent) => extent.id).filter((id) => !id.startsWith('inline:')));
    expect(await store.inlineData('inline:tail')).toBeUndefined();
    await expectReferencesCounted(dialect);
  });

  it('edit page blobs: write, overwrite, clear, list ranges, copy, snapshot, incremental copy', async () => {
    const key = { account: ACCOUNT, container: 'docs', name: 'disk' };
    await store.commitBlob(blob('docs', 'disk', { blobType: 'PageBlob', size: 2048, sequenceNumber: 0 }), []);
    const edit = (fields: { write?: { first: number; last: number; contentId: string; contentOffset: number }; clear?: { first: number; last: number } }) => (current: BlobRecord | undefined) => ({
      blob: { ...current!, etag: `"${JSON.stringify(fields).length}"` },
      ...fields,
    });
    expect((await store.editPageBlob(key, edit({ write: { first: 0, last: 1023, contentId: 'p-1', contentOffset: 0 } }))).orphans).toEqual([]);
    expect((await store.editPageBlob(key, edit({ write: { first: 512, last: 1535, contentId: 'p-2', contentOffset: 0 } }))).orphans).toEqual([]);
    expect((await store.editPageBlob(key, edit({ clear: { first: 600, last: 700 } }))).orphans).toEqual([]);
    expect(await store.pageRanges(key, 0, 2047)).toEqual([
      { first: 0, last: 511, contentId: 'p-1', contentOffset: 0 },
      { first: 512, last: 599, contentId: 'p-2', contentOffset: 0 },
      { first: 701, last: 1535, contentId: 'p-2', contentOffset: 189 },
    ]);
    expect(await store.pageRanges(key, 650, 800)).toEqual([{ first: 701, last: 1535, contentId: 'p-2', contentOffset: 189 }]);
    const data = Buffer.alloc(512, 7);
    const { blob: edited, orphans } = await store.editPageBlob(key, edit({ write: { first: 1536, last: 2047, contentId: 'inline:page', contentOffset: 0 } }), { id: 'inline:page', data });
    expect(orphans).toEqual([]);
    expect(await store.getBlob(ACCOUNT, 'docs', 'disk')).toEqual(edited);
    expect(await store.inlineData('inline:page')).toEqual(data);
    await expect(store.editPageBlob(key, () => {
      throw new Error('SequenceNumberConditionNotMet');
    })).rejects.toThrow('SequenceNumberConditionNotMet');

    const snapshot = await store.snapshotBlob(ACCOUNT, 'docs', 'disk', pick(T), { kind: 'snap' });
    expect(snapshot).toEqual({ ...edited, metadata: { kind: 'snap' }, snapshot: timeId(T, 0) });
    expect(await store.pageRanges({ ...key, snapshot: timeId(T, 0) }, 0, 2047)).toEqual(await store.pageRanges(key, 0, 2047));
    // A copy shares the pages' content.
    await store.commitBlob(blob('docs', 'disk-copy', { blobType: 'PageBlob', size: 2048 }), [], undefined, { pagesFrom: key });
    expect(await store.pageRanges({ ...key, name: 'disk-copy' }, 0, 2047)).toEqual(await store.pageRanges(key, 0, 2047));
    await expectReferencesCounted(dialect);

    const times: string[] = [];
    const incremental = await store.commitIncrementalCopy(
      { ...key, name: 'disk-inc' },
      { ...key, snapshot: timeId(T, 0) },
      (taken) => {
        const time = pick(T + 5)(taken);
        times.push(time);
        return time;
      },
      (current, time) => blob('docs', 'disk-inc', { blobType: 'PageBlob', size: 2048, incrementalCopy: { destinationSnapshot: time }, etag: current ? '"0xA"' : '"0xB"' }),
    );
    expect(times).toEqual([timeId(T + 5, 0)]);
    expect(incremental).toEqual({ blob: blob('docs', 'disk-inc', { blobType: 'PageBlob', size: 2048, incrementalCopy: { destinationSnapshot: timeId(T + 5, 0) }, etag: '"0xB"' }), orphans: [] });
    expect((await store.snapshotsOf(ACCOUNT, 'docs', 'disk-inc')).map((each) => each.snapshot)).toEqual([timeId(T + 5, 0)]);
    expect(await store.pageRanges({ ...key, name: 'disk-inc', snapshot: timeId(T + 5, 0) }, 0, 2047)).toEqual(await store.pageRanges(key, 0, 2047));
    expect(await store.commitIncrementalCopy({ ...key, container: 'nowhere' }, key, pick(T), (_c, time) => blob('nowhere', 'disk', { incrementalCopy: { destinationSnapshot: time } }))).toBeUndefined();

    // Overwriting every page: p-1 loses its last reference, p-2 keeps the snapshot's and the copies'.
    const whole = await store.editPageBlob(key, edit({ write: { first: 0, last: 2047, contentId: 'p-3', contentOffset: 0 } }));
    expect(whole.orphans).toEqual([]);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'disk-copy')).toEqual([]);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'disk-inc', undefined, 'include')).toEqual([]);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'disk', undefined, 'include')).toEqual(['p-1', 'p-2', 'p-3']);
    expect(await store.inlineData('inline:page')).toBeUndefined();
    await expectReferencesCounted(dialect);
  });

  it('take, list, soft-delete, restore and delete snapshots', async () => {
    const key = { account: ACCOUNT, container: 'docs', name: 'snap.txt' };
    const base = blob('docs', 'snap.txt', { ...extents('s-1'), lease: { id: 'held', duration: -1 } });
    await store.commitBlob(base, ['s-1']);
    const first = await store.snapshotBlob(ACCOUNT, 'docs', 'snap.txt', pick(T), { m: '1' });
    expect(first).toEqual({ ...base, lease: undefined, metadata: { m: '1' }, snapshot: timeId(T, 0) });
    const second = await store.snapshotBlob(ACCOUNT, 'docs', 'snap.txt', pick(T), undefined, failUnless('"0x1"'));
    expect(second).toEqual({ ...base, lease: undefined, snapshot: timeId(T, 1) });
    await expect(store.snapshotBlob(ACCOUNT, 'docs', 'snap.txt', pick(T), undefined, failUnless('"0xF"'))).rejects.toThrow('ConditionNotMet');
    expect(await store.snapshotBlob(ACCOUNT, 'docs', 'none', pick(T), undefined)).toBeUndefined();
    expect(await store.getSnapshot(ACCOUNT, 'docs', 'snap.txt', timeId(T, 0))).toEqual(first);
    expect(await store.snapshotsOf(ACCOUNT, 'docs', 'snap.txt')).toEqual([first, second]);
    expect(await store.hasSnapshots(ACCOUNT, 'docs', 'snap.txt')).toBe(true);

    expect(await store.deleteSnapshot(ACCOUNT, 'docs', 'snap.txt', timeId(T, 0), { deletedTime: T + 1, expires: T + 2 })).toEqual([]);
    expect(await store.getSnapshot(ACCOUNT, 'docs', 'snap.txt', timeId(T, 0))).toBeUndefined();
    expect(await store.snapshotsOf(ACCOUNT, 'docs', 'snap.txt')).toEqual([second]);
    expect(await store.snapshotsOf(ACCOUNT, 'docs', 'snap.txt', true)).toEqual([{ ...first, deletedTime: T + 1, retentionExpires: T + 2 }, second]);
    expect(await store.deleteSnapshot(ACCOUNT, 'docs', 'snap.txt', timeId(T, 0))).toBeUndefined();
    // A soft-deleted snapshot's time stays taken.
    expect((await store.snapshotBlob(ACCOUNT, 'docs', 'snap.txt', pick(T), undefined))!.snapshot).toBe(timeId(T, 2));
    expect(await store.deleteSnapshot(ACCOUNT, 'docs', 'snap.txt', timeId(T, 2))).toEqual([]);

    expect(await store.undeleteBlob(key)).toBe(true);
    expect(await store.snapshotsOf(ACCOUNT, 'docs', 'snap.txt')).toEqual([first, second]);

    const told: [BlobRecord | undefined, boolean][] = [];
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'snap.txt', (current, has) => told.push([current, has]), 'only')).toEqual([]);
    expect(told).toEqual([[base, true]]);
    expect(await store.hasSnapshots(ACCOUNT, 'docs', 'snap.txt')).toBe(false);
    expect(await store.getBlob(ACCOUNT, 'docs', 'snap.txt')).toEqual(base);
    await store.snapshotBlob(ACCOUNT, 'docs', 'snap.txt', pick(T + 9), undefined);
    await expect(store.deleteBlob(ACCOUNT, 'docs', 'snap.txt', (_current, has) => {
      if (has) throw new Error('SnapshotsPresent');
    })).rejects.toThrow('SnapshotsPresent');
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'snap.txt', undefined, 'include')).toEqual(['s-1']);
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'snap.txt', (current, has) => told.push([current, has]))).toBeUndefined();
    expect(told[1]).toEqual([undefined, false]);
    await expectReferencesCounted(dialect);
  });

  it('keep versions and soft-deleted copies; undelete them; purge what expired', async () => {
    await store.createContainer(container('versioned'));
    const key = { account: ACCOUNT, container: 'versioned', name: 'v.txt' };
    const a = blob('versioned', 'v.txt', { ...extents('v-a'), lastModified: T + 1 });
    expect(await store.commitBlob(a, ['v-a'], undefined, { retire: { kind: 'version' }, versionId: pick(T + 1) })).toEqual([]);
    expect(a.versionId).toBe(timeId(T + 1, 0));
    const b = blob('versioned', 'v.txt', { ...extents('v-b'), lastModified: T + 2 });
    expect(await store.commitBlob(b, ['v-b'], undefined, { retire: { kind: 'version' }, versionId: pick(T + 2) })).toEqual([]);
    expect(b.versionId).toBe(timeId(T + 2, 0));
    const c = { ...b, metadata: { changed: 'yes' }, etag: '"0xC"' };
    // A's version holds the first id of its millisecond: the picker is told so, and takes the next.
    expect(await store.updateBlob(c, failUnless('"0x1"'), pick(T + 1))).toBe(true);
    expect(c.versionId).toBe(timeId(T + 1, 1));
    expect(await store.updateBlob({ ...c, name: 'none' }, undefined, pick(T + 3))).toBe(false);
    await expect(store.updateBlob(c, failUnless('"0xF"'))).rejects.toThrow('ConditionNotMet');
    expect(await store.getBlob(ACCOUNT, 'versioned', 'v.txt')).toEqual(c);

    const versionA = { ...a, pagesKey: `version:${a.versionId}` };
    const versionB = { ...b, pagesKey: `version:${b.versionId}` };
    expect(await store.versionsOf(key, false)).toEqual([versionA, versionB]);
    expect(await store.getVersion(key, a.versionId!)).toEqual(versionA);
    expect(await store.hasVersion(key, b.versionId!)).toBe(true);
    expect(await store.hasVersion(key, timeId(T, 0))).toBe(false);

    expect(await store.deleteVersion(key, a.versionId!)).toEqual(['v-a']);
    expect(await store.deleteVersion(key, a.versionId!)).toBeUndefined();
    expect(await store.deleteVersion(key, b.versionId!, { deletedTime: T + 4, expires: T + 100 })).toEqual([]);
    expect(await store.versionsOf(key, false)).toEqual([]);
    expect(await store.versionsOf(key, true)).toEqual([{ ...versionB, deletedTime: T + 4, retentionExpires: T + 100 }]);
    expect(await store.getVersion(key, b.versionId!)).toBeUndefined();
    expect(await store.hasVersion(key, b.versionId!)).toBe(true);

    expect(await store.deleteBlob(ACCOUNT, 'versioned', 'v.txt', undefined, undefined, { retire: { kind: 'deleted', deletedTime: T + 6, expires: T + 100 } })).toEqual([]);
    expect(await store.getBlob(ACCOUNT, 'versioned', 'v.txt')).toBeUndefined();
    expect(await store.deletedOf(key)).toEqual([{ ...c, deletedId: timeId(T + 6, 0), deletedTime: T + 6, retentionExpires: T + 100 }]);
    expect(await store.historyNames(ACCOUNT, 'versioned', '', '', '', 10, false)).toEqual(['v.txt']);

    expect(await store.undeleteBlob(key)).toBe(true);
    expect(await store.getBlob(ACCOUNT, 'versioned', 'v.txt')).toEqual(c);
    expect(await store.versionsOf(key, false)).toEqual([versionB]);
    expect(await store.deletedOf(key)).toEqual([]);

    // Deleted twice in one millisecond: the copies get ids of their own.
    await store.deleteBlob(ACCOUNT, 'versioned', 'v.txt', undefined, undefined, { retire: { kind: 'deleted', deletedTime: T + 7, expires: T + 50 } });
    await store.commitBlob(blob('versioned', 'v.txt', extents('v-d')), ['v-d']);
    await store.deleteBlob(ACCOUNT, 'versioned', 'v.txt', undefined, undefined, { retire: { kind: 'deleted', deletedTime: T + 7, expires: T + 60 } });
    expect((await store.deletedOf(key)).map((each) => (each as BlobRecord & { deletedId: string }).deletedId)).toEqual([timeId(T + 7, 0), timeId(T + 7, 1)]);
    await store.deleteVersion(key, b.versionId!, { deletedTime: T + 8, expires: T + 50 });
    await store.commitBlob(blob('versioned', 'other', extents('v-e')), ['v-e']);
    await store.snapshotBlob(ACCOUNT, 'versioned', 'other', pick(T), undefined);
    await store.deleteBlob(ACCOUNT, 'versioned', 'other', undefined, 'include', { soft: { deletedTime: T + 8, expires: T + 50 } });
    await expectReferencesCounted(dialect);

    expect(await store.purgeExpired(T + 10)).toEqual([]);
    // The version, then the first deleted copy (both v-b: the last one orphans it), then the snapshot.
    expect(await store.purgeExpired(T + 55)).toEqual(['v-b', 'v-e']);
    expect(await store.purgeExpired(T + 55)).toEqual([]);
    expect(await store.versionsOf(key, true)).toEqual([]);
    expect((await store.deletedOf(key)).length).toBe(1);
    expect(await store.undeleteBlob(key)).toBe(true);
    expect(await store.getBlob(ACCOUNT, 'versioned', 'v.txt')).toEqual(blob('versioned', 'v.txt', extents('v-d')));
    expect(await store.undeleteBlob({ ...key, name: 'never' })).toBe(false);
    await expectReferencesCounted(dialect);
  });

  it('purge soft-deleted containers whose retention ran out', async () => {
    await store.createContainer(container('kept'));
    await store.commitBlob(blob('kept', 'k', extents('k-1')), ['k-1']);
    await store.moveContainer(ACCOUNT, 'kept', '~kept-1', (source) => ({ ...source!, deletedTime: T, retentionExpires: T + 20 }));
    expect(await store.purgeExpired(T + 10)).toEqual([]);
    expect(await store.purgeExpired(T + 20)).toEqual(['k-1']);
    expect(await store.getContainer(ACCOUNT, '~kept-1')).toBeUndefined();
    await expectReferencesCounted(dialect);
  });

  it('find tagged blobs across an account, or in one container, page by page', async () => {
    const account = 'tagacct';
    for (const name of ['tags-a', 'tags-b']) await store.createContainer(container(name, {}, account));
    const tagged = (containerName: string, name: string, tags?: Record<string, string>) => store.commitBlob(blob(containerName, name, { tags }, account), []);
    await tagged('tags-a', 'x', { k: '1' });
    await tagged('tags-a', 'y');
    await tagged('tags-a', 'Z', { k: '2' });
    await tagged('tags-b', 'n', {});
    await tagged('tags-b', 'm', { k: '3' });
    const keys = (list: BlobRecord[]) => list.map((each) => `${each.container}/${each.name}`);
    expect(keys(await store.scanTaggedBlobs(account, undefined, ['', ''], 2))).toEqual(['tags-a/Z', 'tags-a/x']);
    expect(keys(await store.scanTaggedBlobs(account, undefined, ['tags-a', 'x'], 5))).toEqual(['tags-b/m', 'tags-b/n']);
    expect(keys(await store.scanTaggedBlobs(account, 'tags-b', ['tags-b', 'm'], 5))).toEqual(['tags-b/n']);
    expect(keys(await store.scanTaggedBlobs(account, 'tags-b', ['tags-a', 'x'], 5))).toEqual(['tags-b/m', 'tags-b/n']);
    expect((await store.scanTaggedBlobs(account, 'tags-a', ['', ''], 1))[0]).toEqual(blob('tags-a', 'Z', { tags: { k: '2' } }, account));
  });

  it('list names in byte order, whatever their case and script, with prefixes and paging', async () => {
    await store.createContainer(container('names'));
    const names = ['b', 'B', 'a', 'Z', 'é', 'ａ', '😀', 'a/b', 'a-b', 'ab', 'a~', '\u{FFFD}x', 'É'];
    for (const name of names) await store.commitBlob(blob('names', name), []);
    const ordered = byteOrder(names);
    // JavaScript's own order differs (UTF-16: the emoji's surrogates sort before U+FF41): the stores must not use it.
    expect(ordered).not.toEqual([...names].sort());
    const scan = async (prefix: string, after: string, from: string, limit: number) => (await store.scanBlobs(ACCOUNT, 'names', prefix, after, from, limit)).map((each) => each.name);
    expect(await scan('', '', '', 100)).toEqual(ordered);
    expect(await scan('a', '', '', 100)).toEqual(['a', 'a-b', 'a/b', 'ab', 'a~']);
    expect(await scan('a', 'a-b', '', 2)).toEqual(['a/b', 'ab']);
    expect(await scan('', '', 'b', 3)).toEqual(ordered.slice(ordered.indexOf('b'), ordered.indexOf('b') + 3));
    expect(await scan('', 'é', '', 100)).toEqual(ordered.slice(ordered.indexOf('é') + 1));
    expect(await scan('\u{FFFD}', '', '', 100)).toEqual(['\u{FFFD}x']);

    await store.putBlock({ account: ACCOUNT, container: 'names', name: 'Staged' }, { blockId: 'QQ==', contentId: 'n-1', size: 1 }, 10);
    await store.commitBlob(blob('names', 'gone', extents('n-2')), ['n-2']);
    await store.deleteBlob(ACCOUNT, 'names', 'gone', undefined, undefined, { retire: { kind: 'deleted', deletedTime: T, expires: T * 2 } });
    const history = (prefix: string, after: string, from: string, limit: number, staged: boolean) => store.historyNames(ACCOUNT, 'names', prefix, after, from, limit, staged);
    expect(await history('', '', '', 100, false)).toEqual(byteOrder([...names, 'gone']));
    expect(await history('', '', '', 100, true)).toEqual(byteOrder([...names, 'gone', 'Staged']));
    expect(await history('', 'Z', '', 3, true)).toEqual(byteOrder([...names, 'gone', 'Staged']).filter((name) => Buffer.compare(Buffer.from(name), Buffer.from('Z')) > 0).slice(0, 3));
    expect(await history('S', '', '', 10, true)).toEqual(['Staged']);
    expect(await history('a', '', 'a/', 10, false)).toEqual(['a/b', 'ab', 'a~']);
  });

  it('delete an account: everything it holds goes, its content orphaned; other accounts keep theirs', async () => {
    const account = 'goneacct';
    await store.createContainer(container('one', {}, account));
    await store.createContainer(container('two', {}, account));
    await store.commitBlob(blob('one', 'a', extents('g-1'), account), ['g-1']);
    await store.commitBlob(blob('two', 'b', { blobType: 'PageBlob', size: 512 }, account), []);
    await store.editPageBlob({ account, container: 'two', name: 'b' }, (current) => ({ blob: current!, write: { first: 0, last: 511, contentId: 'g-2', contentOffset: 0 } }));
    await store.putBlock({ account, container: 'one', name: 'staged' }, { blockId: 'QQ==', contentId: 'g-3', size: 1 }, 10);
    await store.snapshotBlob(account, 'one', 'a', pick(T), undefined);
    // Shared with another account's blob (a copy across accounts): it stays.
    await store.commitBlob(blob('docs', 'from-gone', extents('g-1')), []);
    expect(await store.deleteAccountData(account)).toEqual(['g-3', 'g-2']);
    expect(await store.listContainers(account, '', '', 10)).toEqual({ items: [], next: undefined });
    expect(await store.getBlob(account, 'one', 'a')).toBeUndefined();
    expect(await store.deleteAccountData(account)).toEqual([]);
    expect(await store.getBlob(ACCOUNT, 'docs', 'from-gone')).toEqual(blob('docs', 'from-gone', extents('g-1')));
    expect(await store.deleteBlob(ACCOUNT, 'docs', 'from-gone')).toEqual(['g-1']);
    await expectReferencesCounted(dialect);
  });
});

describe('the Blob store over PostgreSQL, several writers at once', () => {
  let dialect: Dialect;
  let store: BlobStore;
  beforeAll(async () => {
    // Connections enough for the writers to really run side by side, as several nodes' would.
    dialect = await postgresDialect(12);
    store = dialect.store;
    await store.createContainer(container('race'));
  });
  afterAll(() => dialect?.close());

  it('twenty creates of one container: exactly one creates it', async () => {
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => store.createContainer(container('contested', { etag: `"${i}"` }))));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect((await store.getContainer(ACCOUNT, 'contested'))!.etag).toBe(`"${created.indexOf(true)}"`);
  });

  it('twenty conditional commits on one ETag: exactly one wins, the others change nothing', async () => {
    await store.commitBlob(blob('race', 'cond', { ...extents('cond-base'), etag: '"e0"' }), ['cond-base']);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.commitBlob(blob('race', 'cond', { ...extents(`cond-${i}`), etag: `"e${i + 1}"` }), [`cond-${i}`], failUnless('"e0"'))),
    );
    const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect((results[won[0]!] as PromiseFulfilledResult<string[]>).value).toEqual(['cond-base']);
    for (const result of results) if (result.status === 'rejected') expect(String(result.reason)).toContain('ConditionNotMet');
    expect(await store.getBlob(ACCOUNT, 'race', 'cond')).toEqual(blob('race', 'cond', { ...extents(`cond-${won[0]}`), etag: `"e${won[0]! + 1}"` }));
    await expectReferencesCounted(dialect);
  });

  it('twenty commits over one blob they all read, each conditional on its ETag: exactly one wins, the others change nothing', async () => {
    await store.commitBlob(blob('race', 'seen', { ...extents('seen-base'), etag: '"s0"' }), ['seen-base']);
    const read = await store.getBlob(ACCOUNT, 'race', 'seen');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.commitBlob(blob('race', 'seen', { ...extents(`seen-${i}`), etag: `"s${i + 1}"` }), [`seen-${i}`], failUnless('"s0"'), { seen: { blob: read } }),
      ),
    );
    const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect((results[won[0]!] as PromiseFulfilledResult<string[]>).value).toEqual(['seen-base']);
    for (const result of results) if (result.status === 'rejected') expect(String(result.reason)).toContain('ConditionNotMet');
    expect((await store.getBlob(ACCOUNT, 'race', 'seen'))!.etag).toBe(`"s${won[0]! + 1}"`);
    await expectReferencesCounted(dialect);
  });

  it('twenty lease acquisitions on one blob: exactly one gets it', async () => {
    await store.commitBlob(blob('race', 'leased'), []);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.changeBlob(ACCOUNT, 'race', 'leased', (current) => {
          if (current!.lease) throw new Error('LeaseAlreadyPresent');
          return { ...current!, lease: { id: `lease-${i}`, duration: -1 } };
        }),
      ),
    );
    const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect((await store.getBlob(ACCOUNT, 'race', 'leased'))!.lease).toEqual({ id: `lease-${won[0]}`, duration: -1 });
  });

  it('twenty container lease acquisitions: exactly one gets it', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.changeContainer(ACCOUNT, 'race', (current) => {
          if (current!.lease) throw new Error('LeaseAlreadyPresent');
          return { ...current!, lease: { id: `lease-${i}`, duration: -1 } };
        }),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
  });

  it('concurrent appends each land whole at their own offset', async () => {
    const key = { account: ACCOUNT, container: 'race', name: 'log' };
    await store.commitBlob(blob('race', 'log', { blobType: 'AppendBlob', committedBlockCount: 0 }), []);
    const offsets = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store
          .appendBlock(key, { id: `log-${i}`, size: i + 1 }, (current) => ({ ...current!, size: current!.size + i + 1, committedBlockCount: current!.committedBlockCount! + 1 }))
          .then((next) => ({ id: `log-${i}`, offset: next.size - (i + 1) })),
      ),
    );
    const full = await store.getBlob(ACCOUNT, 'race', 'log');
    expect(full!.committedBlockCount).toBe(20);
    expect(full!.size).toBe(210);
    let at = 0;
    for (const extent of full!.extents) {
      expect(offsets.find((each) => each.id === extent.id)!.offset).toBe(at);
      at += extent.size;
    }
    await expectReferencesCounted(dialect);
  });

  it('commits, blocks, snapshots and deletes of blobs sharing content never leave a reference count wrong', async () => {
    // A blob no writer touches keeps `shared` referenced: content orphaned and then referenced again is the caller's race, not the store's.
    await store.commitBlob(blob('race', 'keeper', extents('shared')), ['shared']);
    await store.commitBlob(blob('race', 'r0', extents('shared')), []);
    const created = new Set(['shared']);
    const orphans: string[] = [];
    const fresh = (i: number) => {
      const id = `mix-${i}`;
      created.add(id);
      return id;
    };
    const operations = Array.from({ length: 60 }, (_, i) => {
      const name = `r${i % 3}`;
      const key = { account: ACCOUNT, container: 'race', name };
      switch (i % 6) {
        case 0:
        case 1: {
          const id = fresh(i);
          return store.commitBlob(blob('race', name, extents('shared', id)), [id]);
        }
        case 2: {
          const id = fresh(i);
          return store.putBlock(key, { blockId: Buffer.from(`b${i % 4}`).toString('base64'), contentId: id, size: 4 }, 1000);
        }
        case 3:
          return store.commitBlob(blob('race', name), [], undefined, {
            extentsFrom: (_current, uncommitted) => ({ extents: uncommitted.slice(0, 1).map((block) => ({ id: block.contentId, size: block.size })), size: 4 }),
          });
        case 4:
          return store.snapshotBlob(ACCOUNT, 'race', name, pick(T + i), undefined).then(() => []);
        default:
          return store.deleteBlob(ACCOUNT, 'race', name, undefined, 'include');
      }
    });
    for (const result of await Promise.all(operations)) if (Array.isArray(result)) orphans.push(...result);
    const counted = await expectReferencesCounted(dialect);
    // Each file that lost its last reference was reported once, and only those.
    expect(new Set(orphans).size).toBe(orphans.length);
    expect(orphans.sort()).toEqual([...created].filter((id) => !counted.has(id)).sort());
  });

  it('page blob copies racing writes to their source: no content is orphaned while a copy still refers to it', async () => {
    const pageBlob = (name: string) => blob('race', name, { blobType: 'PageBlob', size: 1024 });
    const write = (contentId: string) => (current: BlobRecord | undefined) => ({ blob: current!, write: { first: 0, last: 1023, contentId, contentOffset: 0 } });
    await store.commitBlob(pageBlob('disk-a'), []);
    await store.commitBlob(pageBlob('disk-b'), []);
    await store.editPageBlob({ account: ACCOUNT, container: 'race', name: 'disk-a' }, write('page-0'));
    const orphans: string[] = [];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const [from, to] = i % 2 === 0 ? ['disk-a', 'disk-b'] : ['disk-b', 'disk-a'];
        if (i % 3 === 0) return store.editPageBlob({ account: ACCOUNT, container: 'race', name: from }, write(`page-${i + 1}`)).then((edit) => edit.orphans);
        // Copies both ways at once: the two blobs' locks are taken in one order, so neither waits on the other forever.
        return store.commitBlob(pageBlob(i % 5 === 0 ? `disk-copy-${i}` : to), [], undefined, { pagesFrom: { account: ACCOUNT, container: 'race', name: from } });
      }),
    );
    for (const result of results) orphans.push(...(result ?? []));
    const counted = await expectReferencesCounted(dialect);
    expect(orphans.filter((id) => counted.has(id))).toEqual([]);
    expect(new Set(orphans).size).toBe(orphans.length);
  });

  it('commits racing a container delete: each lands before it (and is deleted with it) or finds the container gone', async () => {
    for (let round = 0; round < 3; round++) {
      const name = `doomed-${round}`;
      await store.createContainer(container(name));
      const commits = Array.from({ length: 15 }, (_, i) => store.commitBlob(blob(name, `b${i % 5}`, extents(`${name}-${i}`, 'shared-doomed')), [`${name}-${i}`]));
      const deletion = store.deleteContainer(ACCOUNT, name);
      const results = await Promise.all(commits);
      const deleted = (await deletion)!;
      const counted = await expectReferencesCounted(dialect);
      expect(await dialect.rows(`SELECT name FROM blobs WHERE container = '${name}'`)).toEqual([]);
      const landed = results.flatMap((orphansOf, i) => (orphansOf === undefined ? [] : [`${name}-${i}`]));
      const refused = results.flatMap((orphansOf, i) => (orphansOf === undefined ? [`${name}-${i}`] : []));
      for (const id of refused) expect(counted.has(id)).toBe(false);
      // What landed was orphaned by a later commit or by the delete, once.
      const reported = [...results.flatMap((each) => each ?? []), ...deleted].filter((id) => id !== 'shared-doomed');
      expect(reported.sort()).toEqual(landed.sort());
    }
  });

  it('a rename racing a create of its target name: one of them wins, never both', async () => {
    for (let round = 0; round < 20; round++) {
      const from = `from-${round}`;
      const to = `to-${round}`;
      await store.createContainer(container(from));
      await store.commitBlob(blob(from, 'inside', extents(`inside-${round}`)), [`inside-${round}`]);
      const [moved, created] = await Promise.allSettled([
        store.moveContainer(ACCOUNT, from, to, (source, target) => {
          if (target) throw new Error('ContainerAlreadyExists');
          return source!;
        }),
        store.createContainer(container(to, { etag: '"created"' })),
      ]);
      const createdIt = created.status === 'fulfilled' && created.value;
      expect(moved.status === 'fulfilled').toBe(!createdIt);
      // Refused by its own check, having seen the new container, not by a key violation.
      if (moved.status === 'rejected') expect(String(moved.reason)).toContain('ContainerAlreadyExists');
      expect((await store.getContainer(ACCOUNT, to))!.etag).toBe(createdIt ? '"created"' : '"0x1"');
      expect(await store.getBlob(ACCOUNT, createdIt ? from : to, 'inside')).toBeDefined();
      expect(await store.getBlob(ACCOUNT, createdIt ? to : from, 'inside')).toBeUndefined();
    }
    await expectReferencesCounted(dialect);
  });
});
