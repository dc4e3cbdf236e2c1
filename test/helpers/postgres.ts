import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** CI's PostgreSQL (trust auth); MLSPACE_TEST_POSTGRES_URL points elsewhere. */
const SERVER = process.env.MLSPACE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  name: string;
  /** Its URL, as a server's --database takes it. */
  url: string;
  /** A pool on the database; `pool()` again makes another, as another node would. */
  pool(max?: number): pg.Pool;
  /** Ends the pools and drops the database. */
  drop(): Promise<void>;
}

/** A database of its own for one test file, dropped by `drop()`. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const pools: pg.Pool[] = [];
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    pool(max = 2) {
      const pool = new pg.Pool({ connectionString: url.toString(), max });
      // Dropping the database ends idle connections that are still closing: that is expected.
      pool.on('error', () => {});
      pools.push(pool);
      return pool;
    },
    async drop() {
      await Promise.all(pools.map((pool) => pool.end()));
      const client = new pg.Client({ connectionString: SERVER });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The prefix of the databases an end-to-end run on PostgreSQL gives its servers. */
export const E2E_DATABASE_PREFIX = 'mlspace_e2e';

/** Drops every database whose name starts with `prefix`: what a run on PostgreSQL leaves when it ends. */
export async function dropTestDatabases(prefix: string): Promise<number> {
  const admin = new pg.Client({ connectionString: SERVER });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}\\_%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    return rows.length;
  } finally {
    await admin.end();
  }
}
