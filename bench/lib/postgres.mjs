// A PostgreSQL database of its own for each mlspace the bench runs in PostgreSQL
// mode, on the server at MLSPACE_BENCH_POSTGRES_URL (default: the local one CI has).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SERVER = process.env.MLSPACE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** @returns {Promise<{ url: string, drop(): Promise<void> }>} */
export async function createBenchDatabase() {
  const name = `mlspace_bench_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

async function admin(work) {
  const client = new pg.Client({ connectionString: SERVER });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
