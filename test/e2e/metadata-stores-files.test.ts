import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncStore } from '../../src/db/async-store.js';
import { FileRepo, type FileStore, type NodeDraft } from '../../src/db/files.js';
import { PgFileRepo } from '../../src/db/postgres/files.js';
import { PgServicePropertiesRepo } from '../../src/db/postgres/service-properties.js';
import type { FileNodeRecord, ShareRecord } from '../../src/db/records.js';
import { ServicePropertiesRepo, type ServicePropertiesStore } from '../../src/db/service-properties.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/**
 * The File store and the service properties, the same over SQLite and over
 * PostgreSQL (as test/e2e/metadata-stores.test.ts): return values, orphaned
 * content, listing order and pages. Each test works in an account of its own.
 */
interface Dialect {
  files: FileStore;
  properties: ServicePropertiesStore;
  /** Reference counts of content, by id (ids with a count of zero or less are gone). */
  refs(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

async function sqliteDialect(): Promise<Dialect> {
  const { db, close } = sqliteScratch();
  return {
    files: asyncStore(new FileRepo(db)),
    properties: new ServicePropertiesRepo(db),
    refs: async () => Object.fromEntries((db.prepare('SELECT id, refs FROM content WHERE refs > 0').all() as { id: string; refs: number }[]).map((row) => [row.id, row.refs])),
    close,
  };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, close } = await postgresScratch('mlspace_stores_files');
  return { files: new PgFileRepo(pool), properties: new PgServicePropertiesRepo(pool), refs: () => pgRefs(pool), close };
}

async function pgRefs(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ id: string; refs: string }>('SELECT id, refs FROM content WHERE refs > 0');
  return Object.fromEntries(rows.map((row) => [row.id, Number(row.refs)]));
}

const smb = { attributes: 'Archive', creationTime: 't', lastWriteTime: 't', changeTime: 't', permissionKey: 'default' };

function share(account: string, name: string, fields: Partial<ShareRecord> = {}): ShareRecord {
  return {
    account,
    name,
    created: 1_700_000_000_000,
    lastModified: 1_700_000_000_000,
    etag: '"s1"',
    metadata: { team: 'ml' },
    quota: 5120,
    accessTier: 'TransactionOptimized',
    accessTierChangeTime: 1_700_000_000_000,
    signedIdentifiers: [],
    ...fields,
  };
}

/** A node at `key` ('' is the root) of `account`'s share `name`, under the parent its key names. */
function draft(account: string, shareName: string, key: string, fields: Partial<NodeDraft> = {}): NodeDraft {
  const slash = key.lastIndexOf('/');
  return {
    account,
    share: shareName,
    key,
    parent: key === '' ? null : slash < 0 ? '' : key.slice(0, slash),
    parentId: 0,
    name: key.slice(slash + 1).toUpperCase(),
    isDirectory: false,
    size: 100,
    lastModified: 1_700_000_000_000,
    etag: '"n1"',
    metadata: {},
    smb,
    ...fields,
  };
}

const at = (account: string, shareName: string, key: string) => {
  const slash = key.lastIndexOf('/');
  return { account, share: shareName, key, parent: slash < 0 ? '' : key.slice(0, slash) };
};

/** A directory or file made where its parent is a directory, as Create Directory and Create File check. */
function create(files: FileStore, account: string, shareName: string, key: string, fields: Partial<NodeDraft> = {}) {
  return files.putNode(at(account, shareName, key), (parent) => {
    if (!parent?.isDirectory) throw new Error(`no directory above ${key}`);
    return draft(account, shareName, key, { parentId: parent.id, ...fields });
  });
}

async function newShare(files: FileStore, account: string, name = 'data'): Promise<void> {
  expect(await files.createShare(share(account, name), draft(account, name, '', { isDirectory: true, size: 0, name: '' }))).toBe(true);
}

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('the File store and service properties over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
  });
  afterAll(() => stores?.close());

  const write = (account: string, key: string, first: number, last: number, contentId: string) =>
    stores.files.editNode(account, 'data', key, (current) => ({ node: current!, write: { first, last, contentId, contentOffset: 0 } }));
  const clear = (account: string, key: string, first: number, last: number) =>
    stores.files.editNode(account, 'data', key, (current) => ({ node: current!, clear: { first, last } }));
  const layout = async (file: FileNodeRecord) => (await stores.files.ranges(file.id, 0, 1_000)).map((r) => `${r.first}-${r.last}:${r.contentId}@${r.contentOffset}`);

  it('creates, reads, changes and refuses shares', async () => {
    const { files } = stores;
    expect(await files.getShare('shares', 'data')).toBeUndefined();
    await newShare(files, 'shares');
    expect(await files.createShare(share('shares', 'data', { quota: 1 }), draft('shares', 'data', '', { isDirectory: true, size: 0 }))).toBe(false);
    expect(await files.getShare('shares', 'data')).toEqual(share('shares', 'data'));
    const root = await files.getNode('shares', 'data', '');
    expect(root).toMatchObject({ key: '', parent: null, isDirectory: true, size: 0 });
    expect(typeof root!.id).toBe('number');

    const changed = await files.updateShare('shares', 'data', (current) => ({ ...current!, quota: 7, etag: '"s2"' }));
    expect(changed).toEqual(share('shares', 'data', { quota: 7, etag: '"s2"' }));
    expect(await files.getShare('shares', 'data')).toEqual(changed);
    // A change that refuses changes nothing; the callback sees a missing share as undefined.
    await expect(files.updateShare('shares', 'data', () => { throw new Error('refused'); })).rejects.toThrow('refused');
    expect(await files.getShare('shares', 'data')).toEqual(changed);
    let seen: ShareRecord | undefined = share('x', 'y');
    await expect(files.updateShare('shares', 'missing', (current) => { seen = current; throw new Error('no share'); })).rejects.toThrow('no share');
    expect(seen).toBeUndefined();
  });

  it('lists shares in byte order, by prefix, a page at a time', async () => {
    const { files } = stores;
    // Byte order, as SQLite compares TEXT: upper case before lower case, accented letters after 'z'.
    for (const name of ['zeta', 'alpha', 'Beta', 'alpha-2', 'émile', 'al']) await newShare(files, 'listing', name);
    const names = async (prefix: string, after: string, limit: number) => {
      const page = await files.listShares('listing', prefix, after, limit);
      return { names: page.items.map((item) => item.name), next: page.next };
    };
    expect(await names('', '', 10)).toEqual({ names: ['Beta', 'al', 'alpha', 'alpha-2', 'zeta', 'émile'], next: undefined });
    expect(await names('', '', 2)).toEqual({ names: ['Beta', 'al'], next: 'al' });
    expect(await names('', 'al', 2)).toEqual({ names: ['alpha', 'alpha-2'], next: 'alpha-2' });
    expect(await names('', 'alpha-2', 2)).toEqual({ names: ['zeta', 'émile'], next: undefined });
    expect(await names('al', '', 10)).toEqual({ names: ['al', 'alpha', 'alpha-2'], next: undefined });
    expect(await names('alpha', 'alpha', 10)).toEqual({ names: ['alpha-2'], next: undefined });
    expect((await files.listShares('listing', '', '', 10)).items[0]).toEqual(share('listing', 'Beta'));
    expect((await files.listShares('nobody', '', '', 10)).items).toEqual([]);
  });

  it('creates directories and files where their parent is a directory, and replaces a file keeping its id', async () => {
    const { files } = stores;
    await newShare(files, 'nodes');
    const root = (await files.getNode('nodes', 'data', ''))!;
    const dir = (await create(files, 'nodes', 'data', 'docs', { isDirectory: true, size: 0 })).node;
    expect(dir).toMatchObject({ key: 'docs', parent: '', parentId: root.id, name: 'DOCS', isDirectory: true });
    const file = await create(files, 'nodes', 'data', 'docs/readme', { metadata: { a: '1' }, contentType: 'text/plain' });
    expect(file.orphans).toEqual([]);
    expect(file.node.id).toBeGreaterThan(dir.id);
    expect(await files.getNode('nodes', 'data', 'docs/readme')).toEqual(file.node);
    expect(await files.getNode('nodes', 'data', 'docs/missing')).toBeUndefined();
    expect(await files.getNode('nodes', 'other', 'docs/readme')).toBeUndefined();

    // No parent, or a file as the parent: the callback refuses and nothing is stored.
    await expect(create(files, 'nodes', 'data', 'nowhere/file')).rejects.toThrow('no directory above nowhere/file');
    await expect(create(files, 'nodes', 'data', 'docs/readme/inside')).rejects.toThrow('no directory above');
    expect(await files.getNode('nodes', 'data', 'nowhere/file')).toBeUndefined();
    // In a share that is not there, the callback sees neither parent nor node.
    let seen: unknown[] = ['unset'];
    await expect(files.putNode(at('nodes', 'ghost', 'f'), (parent, existing) => { seen = [parent, existing]; throw new Error('no share'); })).rejects.toThrow('no share');
    expect(seen).toEqual([undefined, undefined]);

    await write('nodes', 'docs/readme', 0, 9, 'nodes-A');
    let existing: FileNodeRecord | undefined;
    const replaced = await files.putNode(at('nodes', 'data', 'docs/readme'), (_parent, current) => {
      existing = current;
      return draft('nodes', 'data', 'docs/readme', { size: 5, etag: '"n2"' });
    });
    expect(existing).toEqual(file.node);
    expect(replaced.orphans).toEqual(['nodes-A']);
    expect(replaced.node.id).toBe(file.node.id);
    expect(await files.getNode('nodes', 'data', 'docs/readme')).toMatchObject({ size: 5, etag: '"n2"', metadata: {} });
    expect(await files.shareUsage('nodes', 'data')).toBe(5);
    expect(await files.shareUsage('nodes', 'ghost')).toBe(0);
  });

  it('deletes a node as its check allows, telling it whether a directory has children; ids are never reused', async () => {
    const { files } = stores;
    await newShare(files, 'deletes');
    await create(files, 'deletes', 'data', 'dir', { isDirectory: true, size: 0 });
    const child = (await create(files, 'deletes', 'data', 'dir/child')).node;
    await write('deletes', 'dir/child', 0, 49, 'deletes-A');

    const checks: [string | undefined, boolean][] = [];
    const remember = (current: FileNodeRecord | undefined, hasChildren: boolean) => {
      checks.push([current?.key, hasChildren]);
    };
    await expect(
      files.deleteNode('deletes', 'data', 'dir', (current, hasChildren) => {
        remember(current, hasChildren);
        if (hasChildren) throw new Error('not empty');
      }),
    ).rejects.toThrow('not empty');
    expect(await files.getNode('deletes', 'data', 'dir')).toBeDefined();
    expect(await files.deleteNode('deletes', 'data', 'dir/child', remember)).toEqual(['deletes-A']);
    expect(await files.deleteNode('deletes', 'data', 'dir', remember)).toEqual([]);
    expect(await files.deleteNode('deletes', 'data', 'dir', remember)).toEqual([]);
    expect(checks).toEqual([
      ['dir', true],
      ['dir/child', false],
      ['dir', false],
      [undefined, false],
    ]);
    expect(await files.getNode('deletes', 'data', 'dir')).toBeUndefined();
    expect(await files.ranges(child.id, 0, 99)).toEqual([]);
    expect((await stores.refs())['deletes-A']).toBeUndefined();

    await create(files, 'deletes', 'data', 'dir', { isDirectory: true, size: 0 });
    const again = (await create(files, 'deletes', 'data', 'dir/child')).node;
    expect(again.id).toBeGreaterThan(child.id);
  });

  it('trims, splits, clears and finds written ranges, releasing content nothing uses', async () => {
    const { files } = stores;
    await newShare(files, 'ranges');
    const file = (await create(files, 'ranges', 'data', 'f')).node;
    expect((await write('ranges', 'f', 0, 49, 'ranges-A')).orphans).toEqual([]);
    expect((await write('ranges', 'f', 25, 74, 'ranges-B')).orphans).toEqual([]);
    expect(await layout(file)).toEqual(['0-24:ranges-A@0', '25-74:ranges-B@0']);
    expect((await write('ranges', 'f', 10, 14, 'ranges-C')).orphans).toEqual([]);
    expect(await layout(file)).toEqual(['0-9:ranges-A@0', '10-14:ranges-C@0', '15-24:ranges-A@15', '25-74:ranges-B@0']);
    // The split range's two parts each hold a reference.
    expect(await stores.refs()).toMatchObject({ 'ranges-A': 2, 'ranges-B': 1, 'ranges-C': 1 });
    expect((await write('ranges', 'f', 25, 74, 'ranges-D')).orphans).toEqual(['ranges-B']);
    expect((await clear('ranges', 'f', 0, 20)).orphans).toEqual(['ranges-C']);
    expect(await layout(file)).toEqual(['21-24:ranges-A@21', '25-74:ranges-D@0']);
    expect(await stores.refs()).toMatchObject({ 'ranges-A': 1, 'ranges-D': 1 });
    expect(await files.rangeCount(file.id)).toBe(2);
    expect(await files.allRanges(file.id)).toEqual([
      { first: 21, last: 24, contentId: 'ranges-A', contentOffset: 21 },
      { first: 25, last: 74, contentId: 'ranges-D', contentOffset: 0 },
    ]);

    const many = (await create(files, 'ranges', 'data', 'many')).node;
    for (let i = 0; i < 10; i++) await write('ranges', 'many', i * 10, i * 10 + 4, `ranges-R${i}`);
    const ids = async (first: number, last: number) => (await files.ranges(many.id, first, last)).map((r) => r.contentId);
    expect(await ids(33, 51)).toEqual(['ranges-R3', 'ranges-R4', 'ranges-R5']);
    expect(await ids(35, 39)).toEqual([]);
    expect(await ids(4, 4)).toEqual(['ranges-R0']);
    // An edit also replaces the node's record, and a refused one changes nothing.
    const edited = await files.editNode('ranges', 'data', 'many', (current) => ({ node: { ...current!, size: 50, etag: '"n2"' }, clear: { first: 50, last: 99 } }));
    expect(edited.orphans).toEqual(['ranges-R5', 'ranges-R6', 'ranges-R7', 'ranges-R8', 'ranges-R9']);
    expect(await files.getNode('ranges', 'data', 'many')).toEqual(edited.node);
    await expect(files.editNode('ranges', 'data', 'many', () => { throw new Error('refused'); })).rejects.toThrow('refused');
    await expect(files.editNode('ranges', 'data', 'gone', (current) => { if (!current) throw new Error('no file'); return { node: current }; })).rejects.toThrow('no file');
    expect(await files.rangeCount(many.id)).toBe(5);
  });

  it('merges touching ranges only if no write changed them meanwhile', async () => {
    const { files } = stores;
    await newShare(files, 'merges');
    const file = (await create(files, 'merges', 'data', 'f')).node;
    await write('merges', 'f', 0, 9, 'merges-A');
    await write('merges', 'f', 10, 19, 'merges-B');
    const read = await files.allRanges(file.id);
    expect(await files.mergeRanges(file.id, read, { first: 0, last: 19, contentId: 'merges-M', contentOffset: 0 })).toEqual(['merges-A', 'merges-B']);
    expect(await layout(file)).toEqual(['0-19:merges-M@0']);

    await write('merges', 'f', 20, 29, 'merges-C');
    await write('merges', 'f', 30, 39, 'merges-D');
    const stale = await files.ranges(file.id, 20, 39);
    await write('merges', 'f', 25, 26, 'merges-E');
    expect(await files.mergeRanges(file.id, stale, { first: 20, last: 39, contentId: 'merges-N', contentOffset: 0 })).toBeUndefined();
    expect(await layout(file)).toEqual(['0-19:merges-M@0', '20-24:merges-C@0', '25-26:merges-E@0', '27-29:merges-C@7', '30-39:merges-D@0']);
    expect(Object.keys(await stores.refs()).filter((id) => id.startsWith('merges-')).sort()).toEqual(['merges-C', 'merges-D', 'merges-E', 'merges-M']);
    // A file deleted since its ranges were read: nothing to merge.
    const gone = await files.allRanges(file.id);
    await files.deleteNode('merges', 'data', 'f', () => {});
    expect(await files.mergeRanges(file.id, gone, { first: 0, last: 39, contentId: 'merges-O', contentOffset: 0 })).toBeUndefined();
    expect(Object.keys(await stores.refs()).filter((id) => id.startsWith('merges-'))).toEqual([]);
  });

  it('copies a file as ranges over the same content, onto itself intact, and across shares with its descriptor', async () => {
    const { files } = stores;
    await newShare(files, 'copies');
    await newShare(files, 'copies', 'other');
    const source = (await create(files, 'copies', 'data', 'f', { smb: { ...smb, permissionKey: 'k1' } })).node;
    await write('copies', 'f', 0, 9, 'copies-A');
    await write('copies', 'f', 20, 29, 'copies-B');
    expect(await files.putPermission('copies', 'data', 'k1', 'O:SYD:(A;;FA;;;SY)')).toBe(true);

    const seen: unknown[] = [];
    const copy = await files.copyFile({ account: 'copies', share: 'data', key: 'f' }, at('copies', 'data', 'g'), (original, parent, existing) => {
      seen.push(original?.key, parent?.key, existing);
      return { ...draft('copies', 'data', 'g'), size: original!.size, smb: original!.smb };
    });
    expect(seen).toEqual(['f', '', undefined]);
    expect(copy.orphans).toEqual([]);
    expect(await layout(copy.node)).toEqual(['0-9:copies-A@0', '20-29:copies-B@0']);
    expect(await stores.refs()).toMatchObject({ 'copies-A': 2, 'copies-B': 2 });

    // Onto itself: the ranges stay, the properties change.
    const self = await files.copyFile({ account: 'copies', share: 'data', key: 'f' }, at('copies', 'data', 'f'), (original) => ({ ...original!, etag: '"n9"' }));
    expect(self.node.id).toBe(source.id);
    expect(await layout(source)).toEqual(['0-9:copies-A@0', '20-29:copies-B@0']);
    expect(await files.getNode('copies', 'data', 'f')).toMatchObject({ etag: '"n9"' });

    // Into another share, over a file there whose content goes; the source's descriptor comes along.
    await create(files, 'copies', 'other', 'f');
    await files.editNode('copies', 'other', 'f', (current) => ({ node: current!, write: { first: 0, last: 4, contentId: 'copies-C', contentOffset: 0 } }));
    const across = await files.copyFile({ account: 'copies', share: 'data', key: 'f' }, at('copies', 'other', 'f'), (original) => ({
      ...draft('copies', 'other', 'f'),
      smb: original!.smb,
    }));
    expect(across.orphans).toEqual(['copies-C']);
    expect(await files.getPermission('copies', 'other', 'k1')).toBe('O:SYD:(A;;FA;;;SY)');
    expect(await stores.refs()).toMatchObject({ 'copies-A': 3, 'copies-B': 3 });

    // A copy whose source is not there: the callback sees none and refuses.
    await expect(
      files.copyFile({ account: 'copies', share: 'data', key: 'nothing' }, at('copies', 'data', 'h'), (original) => {
        if (!original) throw new Error('no source');
        return draft('copies', 'data', 'h');
      }),
    ).rejects.toThrow('no source');

    expect(await files.deleteNode('copies', 'data', 'f', () => {})).toEqual([]);
    expect(await files.deleteNode('copies', 'data', 'g', () => {})).toEqual([]);
    expect((await files.deleteShare('copies', 'other'))!.sort()).toEqual(['copies-A', 'copies-B']);
    expect(Object.keys(await stores.refs()).filter((id) => id.startsWith('copies-'))).toEqual([]);
  });

  it('stores descriptors with the write that names them, and only in shares that exist', async () => {
    const { files } = stores;
    await newShare(files, 'perms');
    expect(await files.getPermission('perms', 'data', 'k1')).toBeUndefined();
    expect(await files.putPermission('perms', 'data', 'k1', 'descriptor one')).toBe(true);
    expect(await files.putPermission('perms', 'data', 'k1', 'descriptor one')).toBe(true);
    expect(await files.getPermission('perms', 'data', 'k1')).toBe('descriptor one');
    expect(await files.putPermission('perms', 'ghost', 'k1', 'descriptor one')).toBe(false);
    expect(await files.getPermission('perms', 'ghost', 'k1')).toBeUndefined();

    const k2 = { key: 'k2', permission: 'descriptor two' };
    await files.putNode(at('perms', 'data', 'f'), (parent) => draft('perms', 'data', 'f', { parentId: parent!.id, smb: { ...smb, permissionKey: 'k2' } }), k2);
    expect(await files.getPermission('perms', 'data', 'k2')).toBe('descriptor two');
    const k3 = { key: 'k3', permission: 'descriptor three' };
    await files.editNode('perms', 'data', 'f', (current) => ({ node: { ...current!, smb: { ...smb, permissionKey: 'k3' } } }), k3);
    expect(await files.getPermission('perms', 'data', 'k3')).toBe('descriptor three');
    // A write that refuses stores no descriptor.
    const k4 = { key: 'k4', permission: 'descriptor four' };
    await expect(files.putNode(at('perms', 'data', 'g'), () => { throw new Error('refused'); }, k4)).rejects.toThrow('refused');
    await expect(files.editNode('perms', 'data', 'f', () => { throw new Error('refused'); }, k4)).rejects.toThrow('refused');
    expect(await files.getPermission('perms', 'data', 'k4')).toBeUndefined();
  });

  it('lists a directory\'s children in key order, by key prefix, after a key', async () => {
    const { files } = stores;
    await newShare(files, 'children');
    await create(files, 'children', 'data', 'd', { isDirectory: true, size: 0 });
    await create(files, 'children', 'data', 'd/sub', { isDirectory: true, size: 0 });
    await create(files, 'children', 'data', 'd/sub/deep');
    for (const name of ['b', 'a', 'a-1', 'a0', 'é', 'z']) await create(files, 'children', 'data', `d/${name}`);
    await create(files, 'children', 'data', 'top');
    const keys = async (parent: string, keyPrefix: string, after: string, limit: number) =>
      (await files.listChildren('children', 'data', parent, keyPrefix, after, limit)).map((node) => node.key);
    // Byte order: '-' (0x2d) before '0' before letters, 'é' after 'z'.
    expect(await keys('d', 'd/', '', 100)).toEqual(['d/a', 'd/a-1', 'd/a0', 'd/b', 'd/sub', 'd/z', 'd/é']);
    expect(await keys('d', 'd/', '', 3)).toEqual(['d/a', 'd/a-1', 'd/a0']);
    expect(await keys('d', 'd/', 'd/a0', 3)).toEqual(['d/b', 'd/sub', 'd/z']);
    expect(await keys('d', 'd/', 'd/z', 3)).toEqual(['d/é']);
    expect(await keys('d', 'd/a', '', 100)).toEqual(['d/a', 'd/a-1', 'd/a0']);
    expect(await keys('', '', '', 100)).toEqual(['d', 'top']);
    expect(await keys('d/sub', 'd/sub/', '', 100)).toEqual(['d/sub/deep']);
    const [first] = await files.listChildren('children', 'data', 'd', 'd/', '', 1);
    expect(first).toEqual(await files.getNode('children', 'data', 'd/a'));
  });

  it('deletes a share with everything in it, answering the content nothing else uses', async () => {
    const { files } = stores;
    await newShare(files, 'drop');
    await newShare(files, 'drop', 'keep');
    await create(files, 'drop', 'data', 'dir', { isDirectory: true, size: 0 });
    await create(files, 'drop', 'data', 'dir/f');
    await create(files, 'drop', 'data', 'g');
    await write('drop', 'dir/f', 0, 9, 'drop-A');
    await write('drop', 'dir/f', 10, 19, 'drop-B');
    await write('drop', 'g', 0, 9, 'drop-C');
    await files.putPermission('drop', 'data', 'k1', 'descriptor');
    // drop-C is shared with a copy in the other share, which keeps it.
    await files.copyFile({ account: 'drop', share: 'data', key: 'g' }, at('drop', 'keep', 'g'), () => draft('drop', 'keep', 'g'));

    expect(await files.deleteShare('drop', 'missing')).toBeUndefined();
    expect((await files.deleteShare('drop', 'data'))!.sort()).toEqual(['drop-A', 'drop-B']);
    expect(await files.getShare('drop', 'data')).toBeUndefined();
    expect(await files.getNode('drop', 'data', 'dir/f')).toBeUndefined();
    expect(await files.getNode('drop', 'data', '')).toBeUndefined();
    expect(await files.getPermission('drop', 'data', 'k1')).toBeUndefined();
    expect(await files.shareUsage('drop', 'data')).toBe(0);
    expect(await stores.refs()).toMatchObject({ 'drop-C': 1 });
    expect(await files.deleteShare('drop', 'data')).toBeUndefined();
    // A share made again under the name starts empty.
    await newShare(files, 'drop');
    expect(await files.listChildren('drop', 'data', '', '', '', 10)).toEqual([]);
  });

  it('keeps service properties per account and service, a set merging its sections', async () => {
    const { properties } = stores;
    expect(await properties.get('props', 'blob')).toBeUndefined();
    await properties.set('props', 'blob', { Cors: { CorsRule: { AllowedOrigins: '*' } }, DefaultServiceVersion: '2021-08-06' });
    await properties.set('props', 'file', { Cors: '' });
    await properties.set('props', 'blob', { DeleteRetentionPolicy: { Enabled: 'true', Days: '7' }, Cors: '' });
    const blob = await properties.get('props', 'blob');
    expect(blob).toEqual({ Cors: '', DefaultServiceVersion: '2021-08-06', DeleteRetentionPolicy: { Enabled: 'true', Days: '7' } });
    // The sections keep the order they were first set in: the XML written from them does too.
    expect(Object.keys(blob!)).toEqual(['Cors', 'DefaultServiceVersion', 'DeleteRetentionPolicy']);
    expect(await properties.get('props', 'file')).toEqual({ Cors: '' });
    expect(await properties.get('other', 'blob')).toBeUndefined();
  });
});

/**
 * What SQLite's single writer gives for free, checked where several writers
 * race on one PostgreSQL database (ten connections, as several nodes would
 * hold): one winner among conditional writes, reference counts that match the
 * ranges, no node left without its directory or share.
 */
describe('the PostgreSQL File store under concurrent writers', () => {
  let pool: pg.Pool;
  let files: PgFileRepo;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ pool, close } = await postgresScratch('mlspace_stores_files_race', 10));
    files = new PgFileRepo(pool);
    // Every connection open before the races start, so that they do race.
    await Promise.all(Array.from({ length: 10 }, () => pool.query('SELECT pg_sleep(0.05)')));
  });
  afterAll(() => close?.());

  /** Content whose reference count is not the number of ranges naming it (files are this suite's only referrers). */
  const miscounted = async () =>
    (
      await pool.query(
        `SELECT COALESCE(c.id, r.content_id) AS id, c.refs, r.used FROM content c
         FULL JOIN (SELECT content_id, COUNT(*) AS used FROM file_ranges GROUP BY content_id) r ON r.content_id = c.id
         WHERE COALESCE(c.refs, 0) <> COALESCE(r.used, 0)`,
      )
    ).rows;
  const settled = <T>(work: Promise<T>[]) => Promise.allSettled(work);
  const fulfilled = <T>(results: PromiseSettledResult<T>[]) => results.filter((result): result is PromiseFulfilledResult<T> => result.status === 'fulfilled').map((result) => result.value);

  it('lets exactly one of 20 concurrent creates of a missing file win', async () => {
    await newShare(files, 'race-create');
    const results = await settled(
      Array.from({ length: 20 }, (_, i) =>
        files.putNode(at('race-create', 'data', 'f'), (parent, existing) => {
          if (existing) throw new Error('exists');
          return draft('race-create', 'data', 'f', { parentId: parent!.id, etag: `"w${i}"` });
        }),
      ),
    );
    const winners = fulfilled(results);
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => result.status === 'rejected').every((result) => (result as PromiseRejectedResult).reason.message === 'exists')).toBe(true);
    expect(await files.getNode('race-create', 'data', 'f')).toEqual(winners[0]!.node);
  });

  it('lets exactly one of 20 concurrent conditional writes (If-Match) win', async () => {
    await newShare(files, 'race-match');
    await create(files, 'race-match', 'data', 'f', { etag: '"v0"' });
    const seen = (await files.getNode('race-match', 'data', 'f'))!.etag;
    const results = await settled(
      Array.from({ length: 20 }, (_, i) =>
        files.editNode('race-match', 'data', 'f', (current) => {
          if (current!.etag !== seen) throw new Error('condition not met');
          return { node: { ...current!, etag: `"v${i + 1}"` }, write: { first: i, last: i, contentId: `race-match-${i}`, contentOffset: 0 } };
        }),
      ),
    );
    const winners = fulfilled(results);
    expect(winners).toHaveLength(1);
    const file = (await files.getNode('race-match', 'data', 'f'))!;
    expect(file.etag).toBe(winners[0]!.node.etag);
    expect(await files.allRanges(file.id)).toHaveLength(1);
    expect(await miscounted()).toEqual([]);
  });

  it('keeps reference counts right through concurrent overlapping writes, copies, merges and deletes', async () => {
    await newShare(files, 'race-refs');
    await newShare(files, 'race-refs', 'other');
    await create(files, 'race-refs', 'data', 'f', { size: 1_000 });
    for (let i = 0; i < 10; i++) await files.editNode('race-refs', 'data', 'f', (current) => ({ node: current!, write: { first: i * 10, last: i * 10 + 9, contentId: `race-refs-base${i}`, contentOffset: 0 } }));
    const file = (await files.getNode('race-refs', 'data', 'f'))!;
    const stale = await files.allRanges(file.id);
    const written = stale.map((range) => range.contentId);
    const work: Promise<{ orphans: string[] } | string[]>[] = [];
    for (let i = 0; i < 20; i++) {
      const contentId = `race-refs-w${i}`;
      written.push(contentId);
      work.push(
        files.editNode('race-refs', 'data', 'f', (current) => ({ node: current!, write: { first: (i * 7) % 90, last: ((i * 7) % 90) + 15, contentId, contentOffset: 0 } })),
      );
      if (i % 4 === 0) work.push(files.copyFile({ account: 'race-refs', share: 'data', key: 'f' }, at('race-refs', 'other', `copy${i}`), () => draft('race-refs', 'other', `copy${i}`)));
      if (i % 5 === 0) work.push(files.editNode('race-refs', 'data', 'f', (current) => ({ node: current!, clear: { first: i, last: i + 30 } })));
    }
    const merge = files.mergeRanges(file.id, stale, { first: 0, last: 99, contentId: 'race-refs-merged', contentOffset: 0 });
    const results = await Promise.all(work);
    const merged = await merge;
    // A merge that lost its race to a write leaves its content unreferenced, as the compactor then unlinks it.
    if (merged !== undefined) written.push('race-refs-merged');
    const orphans = [...results.flatMap((result) => (Array.isArray(result) ? result : result.orphans)), ...(merged ?? [])];
    expect(await miscounted()).toEqual([]);
    // Each content id is orphaned at most once, and then by nothing still named.
    expect(new Set(orphans).size).toBe(orphans.length);
    const live = new Set((await pool.query<{ id: string }>('SELECT id FROM content')).rows.map((row) => row.id));
    expect(orphans.filter((id) => live.has(id))).toEqual([]);
    expect(written.filter((id) => !live.has(id) && !orphans.includes(id))).toEqual([]);
    // What the shares still name goes with them: every content id written is then orphaned exactly once.
    const dropped = [...(await files.deleteShare('race-refs', 'data'))!, ...(await files.deleteShare('race-refs', 'other'))!];
    expect([...orphans, ...dropped].sort()).toEqual(written.sort());
    expect(await miscounted()).toEqual([]);
  });

  it('never leaves a file in a directory deleted while the file was created in it', async () => {
    await newShare(files, 'race-dirs');
    for (let round = 0; round < 10; round++) {
      await create(files, 'race-dirs', 'data', 'd', { isDirectory: true, size: 0 });
      await Promise.allSettled([
        ...Array.from({ length: 5 }, (_, i) => create(files, 'race-dirs', 'data', `d/f${i}`)),
        files.deleteNode('race-dirs', 'data', 'd', (_current, hasChildren) => {
          if (hasChildren) throw new Error('not empty');
        }),
      ]);
      const { rows } = await pool.query(
        `SELECT n.key FROM file_nodes n WHERE n.account = 'race-dirs' AND n.parent IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM file_nodes p WHERE p.account = n.account AND p.share = n.share AND p.key = n.parent)`,
      );
      expect(rows).toEqual([]);
      for (const child of await files.listChildren('race-dirs', 'data', 'd', 'd/', '', 10)) await files.deleteNode('race-dirs', 'data', child.key, () => {});
      await files.deleteNode('race-dirs', 'data', 'd', () => {});
    }
  });

  it('leaves nothing behind of a share deleted while files are written into it', async () => {
    for (let round = 0; round < 5; round++) {
      await newShare(files, 'race-share');
      await create(files, 'race-share', 'data', 'base');
      const writes = Array.from({ length: 8 }, (_, i) =>
        files.putNode(
          at('race-share', 'data', `f${i}`),
          (parent) => {
            if (!parent) throw new Error('no share');
            return draft('race-share', 'data', `f${i}`, { parentId: parent.id });
          },
          { key: `k${i}`, permission: `descriptor ${i}` },
        ).then(() => files.editNode('race-share', 'data', `f${i}`, (current) => {
          if (!current) throw new Error('no file');
          return { node: current, write: { first: 0, last: 9, contentId: `race-share-${round}-${i}`, contentOffset: 0 } };
        })),
      );
      const deleted = files.deleteShare('race-share', 'data');
      await Promise.allSettled([...writes, deleted]);
      const left = await pool.query(
        `SELECT 'node' AS what FROM file_nodes WHERE account = 'race-share'
         UNION ALL SELECT 'permission' FROM file_permissions WHERE account = 'race-share'
         UNION ALL SELECT 'range' FROM file_ranges WHERE file_id NOT IN (SELECT id FROM file_nodes)`,
      );
      expect(left.rows).toEqual([]);
      expect(await miscounted()).toEqual([]);
    }
  });

  it('merges concurrent set service properties of different sections', async () => {
    const properties = new PgServicePropertiesRepo(pool);
    await Promise.all(Array.from({ length: 10 }, (_, i) => properties.set('race-props', 'blob', { [`Section${i}`]: String(i) })));
    expect(Object.keys((await properties.get('race-props', 'blob'))!).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `Section${i}`).sort());
  });
});
