import Database from 'better-sqlite3';
import fs from 'node:fs';
import { migrations, refuseUnknownMigrations } from './schema.js';
import { transact } from './transact.js';

export type Db = Database.Database;

/**
 * Opens the embedded metadata database. WAL lets readers run beside the writer.
 * synchronous=NORMAL keeps the disk wait off the event loop: commits are ordered
 * and survive a process kill as they are, and WalSync (wal-sync.ts) fsyncs the
 * log before any write is acknowledged, so they survive power loss too.
 * `beforeMigrating` may refuse the database before its schema is touched.
 */
export function openSqlite(file: string, beforeMigrating: (db: Db) => void = () => {}): Db {
  // Created owner-only before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode.
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    beforeMigrating(db);
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)');
  const applied = new Set(db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[]);
  refuseUnknownMigrations(applied, migrations);
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    transact(db, () => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (name, applied) VALUES (?, ?)').run(migration.name, Date.now());
    });
  }
}
