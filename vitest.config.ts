import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/helpers/postgres-run.ts'],
    // Two cores, but end-to-end tests spend much of their time waiting on the servers and
    // clients they start: a third worker fills that time (measured: 6m08s with two, 5m26s with three).
    maxWorkers: 3,
  },
});
