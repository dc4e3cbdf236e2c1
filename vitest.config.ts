import { defineConfig } from 'vitest/config';

/**
 * MLSPACE_TEST_DATABASE=postgres (`npm run test:postgres`) runs the end-to-end
 * suite again with every server's metadata in PostgreSQL; the files that pick
 * their dialect themselves (store suites, nodes on one database) and unit
 * tests run once, in the plain run.
 */
const onPostgres = process.env.MLSPACE_TEST_DATABASE === 'postgres';
const DIALECT_OWN = ['test/e2e/metadata-stores*.test.ts', 'test/e2e/postgres-*.test.ts', 'test/e2e/cluster-keys.test.ts', 'test/e2e/multi-node.test.ts', 'test/e2e/nginx-cluster.test.ts', 'test/e2e/blob-page-segments.test.ts'];

export default defineConfig({
  test: {
    include: onPostgres ? ['test/e2e/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: onPostgres ? ['**/node_modules/**', ...DIALECT_OWN] : ['**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/helpers/postgres-run.ts'],
    // Two cores, but end-to-end tests spend much of their time waiting on the servers and
    // clients they start: a third worker fills that time (measured: 6m08s with two, 5m26s with three).
    maxWorkers: 3,
  },
});
