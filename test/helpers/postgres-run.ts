import { dropTestDatabases, E2E_DATABASE_PREFIX } from './postgres.js';

/**
 * vitest's global setup: a run on PostgreSQL (MLSPACE_TEST_DATABASE=postgres)
 * drops the databases its servers used once every file has run, and any that
 * an interrupted earlier run left behind before it starts.
 */
export async function setup(): Promise<void> {
  if (process.env.MLSPACE_TEST_DATABASE === 'postgres') await dropTestDatabases(E2E_DATABASE_PREFIX);
}

export async function teardown(): Promise<void> {
  if (process.env.MLSPACE_TEST_DATABASE === 'postgres') await dropTestDatabases(E2E_DATABASE_PREFIX);
}
