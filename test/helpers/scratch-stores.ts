import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { openSqlite, type Db } from '../../src/db/sqlite.js';
import { Sealer } from '../../src/secrets/seal.js';
import { createTestDatabase } from './postgres.js';

/** A master key of its own, in a temporary directory that `close` removes. */
function scratchSealer(): { sealer: Sealer; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-stores-'));
  return { sealer: Sealer.open(dir, {}), dir };
}

/** An empty SQLite metadata database, migrated, with a sealer: what the SQLite side of a store suite builds on. */
export function sqliteScratch(): { db: Db; sealer: Sealer; close(): Promise<void> } {
  const { sealer, dir } = scratchSealer();
  const db = openSqlite(path.join(dir, 'metadata.sqlite'));
  return {
    db,
    sealer,
    async close() {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An empty PostgreSQL database of its own, migrated, with a sealer: what the PostgreSQL side builds on. */
export async function postgresScratch(prefix: string, poolSize = 2): Promise<{ pool: pg.Pool; sealer: Sealer; close(): Promise<void> }> {
  const { sealer, dir } = scratchSealer();
  const database = await createTestDatabase(prefix);
  const pool = database.pool(poolSize);
  await migratePostgres(pool);
  return {
    pool,
    sealer,
    async close() {
      await database.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
