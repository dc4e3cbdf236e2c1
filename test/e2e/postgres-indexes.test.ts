import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefixEnd } from '../../src/db/blobs.js';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

/**
 * The PostgreSQL stores list names in byte order (`COLLATE "C"`, as SQLite's
 * BINARY compares); the key columns are declared COLLATE "C" so that the
 * indexes serve those pages: a page reads its rows from the index in order,
 * never the whole container or directory followed by a sort.
 */

/** PgBlobRepo.scanBlobs (src/db/postgres/blobs.ts), word for word. */
const BLOB_PAGE = `SELECT name, doc FROM blobs WHERE account = $1 AND container = $2 AND name COLLATE "C" > $3 AND name COLLATE "C" >= $4 AND name COLLATE "C" < $5
       ORDER BY name COLLATE "C" LIMIT $6`;

/** PgFileRepo.listChildren (src/db/postgres/files.ts), word for word. */
const DIRECTORY_PAGE = `SELECT id, key, parent, name, is_dir, size, doc FROM file_nodes
       WHERE account = $1 AND share = $2 AND parent = $3 AND key COLLATE "C" > $4 AND key COLLATE "C" >= $5 AND key COLLATE "C" < $6
       ORDER BY key COLLATE "C" LIMIT $7`;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase('mlspace_indexes');
  pool = database.pool();
  await migratePostgres(pool);
  // Four containers of 5,000 blobs, and a share whose directory `big` holds 8,000 entries beside smaller ones.
  await pool.query(
    `INSERT INTO blobs (account, container, name, doc)
     SELECT 'acct', 'c' || (i % 4), 'dir/blob-' || lpad(i::text, 6, '0'), '{}' FROM generate_series(1, 20000) AS i`,
  );
  await pool.query(
    `INSERT INTO file_nodes (account, share, key, parent, name, is_dir, size, doc)
     VALUES ('acct', 'share', '', NULL, '', 1, 0, '{}'), ('acct', 'share', 'big', '', 'big', 1, 0, '{}'), ('acct', 'share', 'small', '', 'small', 1, 0, '{}')`,
  );
  await pool.query(
    `INSERT INTO file_nodes (account, share, key, parent, name, is_dir, size, doc)
     SELECT 'acct', 'share', d || '/file-' || lpad(i::text, 6, '0'), d, 'file-' || lpad(i::text, 6, '0'), 0, 0, '{}'
       FROM generate_series(1, 10000) AS i, LATERAL (SELECT CASE WHEN i % 5 = 0 THEN 'small' ELSE 'big' END AS d) AS dir`,
  );
  await pool.query('ANALYZE');
});
afterAll(() => database?.drop());

async function plan(sql: string, params: unknown[]): Promise<PlanNode> {
  // Bound parameters, as the stores send them: the first executions are planned for their values.
  const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  return rows[0]!['QUERY PLAN'][0].Plan;
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

function expectIndexOrder(root: PlanNode, table: string, index: string): void {
  const all = nodes(root);
  const summary = all.map((node) => `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`).join(' -> ');
  expect(all.filter((node) => node['Node Type'].endsWith('Sort')), summary).toEqual([]);
  const scans = all.filter((node) => node['Relation Name'] === table);
  expect(
    scans.map((node) => [node['Node Type'], node['Index Name']]),
    summary,
  ).toEqual([[expect.stringMatching(/^Index (Only )?Scan$/), index]]);
}

describe('the PostgreSQL indexes', () => {
  it('serve a page of List Blobs in name order', async () => {
    // The first page of a whole container, then one with a prefix and a marker.
    expectIndexOrder(await plan(BLOB_PAGE, ['acct', 'c1', '', '', prefixEnd(''), 1000]), 'blobs', 'blobs_pkey');
    expectIndexOrder(await plan(BLOB_PAGE, ['acct', 'c1', 'dir/blob-002001', 'dir/', prefixEnd('dir/'), 1000]), 'blobs', 'blobs_pkey');
  });

  it('serve a page of a directory listing in key order', async () => {
    expectIndexOrder(await plan(DIRECTORY_PAGE, ['acct', 'share', 'big', '', 'big/', prefixEnd('big/'), 5001]), 'file_nodes', 'file_nodes_children');
    expectIndexOrder(await plan(DIRECTORY_PAGE, ['acct', 'share', 'big', 'big/file-004000', 'big/file-00', prefixEnd('big/file-00'), 1001]), 'file_nodes', 'file_nodes_children');
  });

  it('return the pages in byte order', async () => {
    const { rows } = await pool.query<{ name: string }>(BLOB_PAGE, ['acct', 'c1', 'dir/blob-000001', 'dir/', prefixEnd('dir/'), 3]);
    expect(rows.map((row) => row.name)).toEqual(['dir/blob-000005', 'dir/blob-000009', 'dir/blob-000013']);
    const children = await pool.query<{ key: string }>(DIRECTORY_PAGE, ['acct', 'share', '', '', '', prefixEnd(''), 10]);
    expect(children.rows.map((row) => row.key)).toEqual(['big', 'small']);
  });
});
