import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { referencedContent } from '../../src/db/content-refs.js';
import { FileRepo, type NodeDraft } from '../../src/db/files.js';
import type { FileNodeRecord, ShareRecord } from '../../src/db/records.js';
import { openSqlite, type Db } from '../../src/db/sqlite.js';

const smb = { attributes: 'Archive', creationTime: 't', lastWriteTime: 't', changeTime: 't', permissionKey: 'k' };
const share: ShareRecord = {
  account: 'acct',
  name: 'share',
  created: 0,
  lastModified: 0,
  etag: '"1"',
  metadata: {},
  quota: 1,
  accessTier: 'Hot',
  accessTierChangeTime: 0,
  signedIdentifiers: [],
};

function draft(key: string, size: number, isDirectory = false): NodeDraft {
  return { account: 'acct', share: 'share', key, parent: key === '' ? null : '', parentId: 0, name: key, isDirectory, size, lastModified: 0, etag: '"1"', metadata: {}, smb };
}

describe('FileRepo ranges and content references', () => {
  let dir: string;
  let db: Db;
  let repo: FileRepo;
  let file: FileNodeRecord;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-file-repo-'));
    db = openSqlite(path.join(dir, 'metadata.sqlite'));
    repo = new FileRepo(db);
    expect(repo.createShare(share, draft('', 0, true))).toBe(true);
    file = repo.putNode({ account: 'acct', share: 'share', key: 'f', parent: '' }, () => draft('f', 100)).node;
  });

  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const write = (first: number, last: number, contentId: string) =>
    repo.editNode('acct', 'share', 'f', (current) => ({ node: current!, write: { first, last, contentId, contentOffset: 0 } })).orphans;
  const clear = (first: number, last: number) => repo.editNode('acct', 'share', 'f', (current) => ({ node: current!, clear: { first, last } })).orphans;
  const layout = () => repo.ranges(file.id, 0, 99).map((r) => `${r.first}-${r.last}:${r.contentId}@${r.contentOffset}`);

  it('trims, splits and drops earlier ranges under a new write, releasing content nothing uses', () => {
    expect(write(0, 49, 'A')).toEqual([]);
    expect(write(25, 74, 'B')).toEqual([]);
    expect(layout()).toEqual(['0-24:A@0', '25-74:B@0']);
    expect(write(10, 14, 'C')).toEqual([]);
    expect(layout()).toEqual(['0-9:A@0', '10-14:C@0', '15-24:A@15', '25-74:B@0']);
    expect(write(25, 74, 'D')).toEqual(['B']);
    expect([...referencedContent(db)].sort()).toEqual(['A', 'C', 'D']);
  });

  it('clears spans, keeping content that a remaining piece still uses', () => {
    write(0, 49, 'A');
    write(10, 14, 'C');
    expect(clear(0, 20)).toEqual(['C']);
    expect(layout()).toEqual(['21-49:A@21']);
    expect(clear(21, 49)).toEqual(['A']);
    expect(layout()).toEqual([]);
    expect(referencedContent(db).size).toBe(0);
  });

  it('finds only the ranges overlapping a span', () => {
    for (let i = 0; i < 10; i++) write(i * 10, i * 10 + 4, `R${i}`);
    expect(repo.ranges(file.id, 33, 51).map((r) => r.contentId)).toEqual(['R3', 'R4', 'R5']);
    expect(repo.ranges(file.id, 35, 39)).toEqual([]);
    expect(repo.ranges(file.id, 5, 9)).toEqual([]);
    expect(repo.ranges(file.id, 4, 4).map((r) => r.contentId)).toEqual(['R0']);
  });

  it('merges touching ranges only if no write changed them meanwhile', () => {
    write(0, 9, 'A');
    write(10, 19, 'B');
    const read = repo.allRanges(file.id);
    expect(repo.mergeRanges(file.id, read, { first: 0, last: 19, contentId: 'M', contentOffset: 0 })).toEqual(['A', 'B']);
    expect(layout()).toEqual(['0-19:M@0']);

    write(20, 29, 'C');
    write(30, 39, 'D');
    const stale = repo.ranges(file.id, 20, 39);
    write(25, 26, 'E');
    expect(repo.mergeRanges(file.id, stale, { first: 20, last: 39, contentId: 'N', contentOffset: 0 })).toBeUndefined();
    expect(layout()).toEqual(['0-19:M@0', '20-24:C@0', '25-26:E@0', '27-29:C@7', '30-39:D@0']);
    expect([...referencedContent(db)].sort()).toEqual(['C', 'D', 'E', 'M']);
  });

  it('lets copies share content until the last one goes', () => {
    write(0, 9, 'A');
    const copy = repo.copyFile({ account: 'acct', share: 'share', key: 'f' }, { account: 'acct', share: 'share', key: 'g', parent: '' }, (source) =>
      draft('g', source!.size),
    ).node;
    expect(repo.deleteNode('acct', 'share', 'f', () => {})).toEqual([]);
    expect(repo.ranges(copy.id, 0, 99).map((r) => r.contentId)).toEqual(['A']);
    expect(repo.deleteShare('acct', 'share')).toEqual(['A']);
    expect(referencedContent(db).size).toBe(0);
  });

  it('keeps a file copied onto itself intact', () => {
    write(0, 9, 'A');
    repo.copyFile({ account: 'acct', share: 'share', key: 'f' }, { account: 'acct', share: 'share', key: 'f', parent: '' }, (source) => ({
      ...source!,
      etag: '"2"',
    }));
    expect(layout()).toEqual(['0-9:A@0']);
    expect([...referencedContent(db)]).toEqual(['A']);
  });

  it('drops a replaced file\'s ranges but keeps its id', () => {
    write(0, 9, 'A');
    const { node, orphans } = repo.putNode({ account: 'acct', share: 'share', key: 'f', parent: '' }, () => draft('f', 5));
    expect(orphans).toEqual(['A']);
    expect(node.id).toBe(file.id);
    expect(repo.getNode('acct', 'share', 'f')!.size).toBe(5);
  });
});
