import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite, type Db } from '../../../src/db/sqlite.js';
import { WriteBatch } from '../../../src/db/write-batch.js';

function scratchFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-batch-')), 'metadata.sqlite');
}

function scratchDb(file = scratchFile()): Db {
  const db = openSqlite(file);
  db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
  return db;
}

const rows = (db: Db) => db.prepare('SELECT v FROM t ORDER BY v').pluck().all();

describe('WriteBatch', () => {
  it('commits the writes of one turn together, undoing a failed one alone', async () => {
    const db = scratchDb();
    const batch = new WriteBatch(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let transactions = 0;
    const outcomes = await Promise.allSettled([
      batch.submit(() => insert.run('a').changes),
      batch.submit(() => {
        insert.run('b');
        throw new Error('condition not met');
      }),
      batch.submit(() => {
        transactions = db.inTransaction ? 1 : 0;
        return insert.run('c').changes;
      }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(transactions).toBe(1);
    expect(rows(db)).toEqual(['a', 'c']);
  });

  it('fails the whole batch when a failure ends its transaction, and runs nothing after it on its own', async () => {
    const db = scratchDb();
    let aborted = 0;
    const batch = new WriteBatch(db, () => aborted++);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const outcomes = await Promise.allSettled([
      batch.submit(() => insert.run('a')),
      batch.submit(() => {
        // What SQLite does on some errors (a full disk): the transaction is rolled back under the batch.
        db.exec('ROLLBACK');
        throw new Error('disk full');
      }),
      batch.submit(() => insert.run('c')),
    ]);
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(aborted).toBe(1);
    expect(rows(db)).toEqual([]);
    // The batch goes on working.
    await batch.submit(() => insert.run('d'));
    expect(rows(db)).toEqual(['d']);
  });

  it('holds writes that arrive while an fsync runs, and commits them together once it ends', async () => {
    const file = scratchFile();
    const db = scratchDb(file);
    // A second connection sees only what has committed.
    const reader = openSqlite(file);
    const committed = () => reader.prepare('SELECT count(*) FROM t').pluck().get();
    let endFsync!: () => void;
    let running: Promise<void> | undefined = new Promise<void>((resolve) => (endFsync = resolve));
    const batch = new WriteBatch(db, undefined, () => running);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');

    // Submitted in separate turns: without a running fsync each turn would commit on its own.
    const first = batch.submit(() => insert.run('a'));
    await new Promise((resolve) => setImmediate(resolve));
    const second = batch.submit(() => {
      insert.run('b');
      return committed(); // 'a' is written in this same transaction, so not committed yet
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(committed()).toBe(0);

    running = undefined;
    endFsync();
    const [, committedBeforeB] = await Promise.all([first, second]);
    expect(committedBeforeB).toBe(0);
    expect(rows(db)).toEqual(['a', 'b']);

    // With no fsync running, a write commits in the turn it came.
    await batch.submit(() => insert.run('c'));
    expect(committed()).toBe(3);
    reader.close();
  });
});
