import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { migrations } from '../../src/db/schema.js';
import { openSqlite } from '../../src/db/sqlite.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

let database: TestDatabase;
const nodes: pg.Pool[] = [];

beforeAll(async () => {
  database = await createTestDatabase('mlspace_schema');
});
afterAll(() => database?.drop());

/** A pool as one more node would open it. */
function node(): pg.Pool {
  const pool = database.pool();
  nodes.push(pool);
  return pool;
}

/** Table name → its column names, sorted. */
type Columns = Record<string, string[]>;

async function postgresColumns(pool: pg.Pool): Promise<Columns> {
  const { rows } = await pool.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name",
  );
  const columns: Columns = {};
  for (const row of rows) (columns[row.table_name] ??= []).push(row.column_name);
  return columns;
}

function sqliteColumns(): Columns {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-schema-'));
  const db = openSqlite(path.join(dir, 'metadata.sqlite'));
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    return Object.fromEntries(tables.map((table) => [table, (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]).sort()]));
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the PostgreSQL schema', () => {
  it('is created once by the first of several nodes starting together; the others find it done', async () => {
    const applied = await Promise.all([node(), node(), node()].map((pool) => migratePostgres(pool)));
    expect(applied.filter((names) => names.length > 0)).toEqual([migrations.map((migration) => migration.name)]);
    const { rows } = await nodes[0]!.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(rows.map((row) => row.name).sort()).toEqual(migrations.map((migration) => migration.name).sort());
    expect(await migratePostgres(node())).toEqual([]);
  });

  it('has the tables and columns of the SQLite schema, migration for migration', async () => {
    expect(await postgresColumns(nodes[0]!)).toEqual(sqliteColumns());
  });

  it('compares ARM names without regard to case, as SQLite does', async () => {
    const pool = nodes[0]!;
    await pool.query("INSERT INTO resource_groups (name, location, tags, created) VALUES ('RG-Case', 'eastus', '{}', 0)");
    await expect(pool.query("INSERT INTO resource_groups (name, location, tags, created) VALUES ('rg-case', 'eastus', '{}', 0)")).rejects.toThrow(/duplicate key/);
    expect((await pool.query("SELECT name FROM resource_groups WHERE name = 'rg-CASE'")).rows).toEqual([{ name: 'RG-Case' }]);
  });

  it('refuses a database a newer release migrated, and changes nothing in it', async () => {
    const pool = nodes[0]!;
    await pool.query("INSERT INTO schema_migrations (name, applied) VALUES ('999-from-the-future', 0)");
    await expect(migratePostgres(pool)).rejects.toThrow(/migrated by a newer mlspace release \(999-from-the-future\)/);
    await pool.query("DELETE FROM schema_migrations WHERE name = '999-from-the-future'");
  });
});
