import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzServer, seedFuzzTargets } from '../fuzz/session.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, startTestServer, type TestServer } from '../helpers/server.js';

/** CI runs a bounded fuzz; `npm run fuzz` sets MLSPACE_FUZZ_SECONDS=600. FUZZ_SEED replays a reported failure. */
const SECONDS = Number(process.env.MLSPACE_FUZZ_SECONDS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** The server may hold caches and buffers; growth past this under fuzzing would be a leak. */
const RSS_GROWTH_LIMIT_MB = 250;

describe('fuzzing a started server with hostile requests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ args: ['--idle-timeout', '5'] });
    await seedFuzzTargets(server);
  });
  afterAll(() => server.stop());

  it(`answers every request without a 5xx, in Azure's error shapes, stays up and changes nothing it refused (seed ${SEED})`, { timeout: (SECONDS + 60) * 1000 }, async () => {
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlacup', 'bf');
    const report = await fuzzServer(server, { seconds: SECONDS, seed: SEED, sas, log: (line) => console.log(line) });
    console.log(
      `fuzz: ${report.requests} requests in ${report.runs} runs from seed ${SEED}, ${report.failures.length} failures; ` +
        `server RSS ${report.rssBeforeMb.toFixed(0)} MB before, ${report.rssAfterMb.toFixed(0)} MB after`,
    );
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(report.rssAfterMb - report.rssBeforeMb).toBeLessThan(RSS_GROWTH_LIMIT_MB);
    // Still serving, and it logged no error for anything a client sent. (Not the seeded blob: a generated
    // request signed with the SAS may validly have deleted it, or its container.)
    expect((await fetch(`${server.blob}/${DEV_ACCOUNT}?comp=list&${sas}`)).status).toBe(200);
    expect(server.output().split('\n').filter((line) => line.includes('"level":50'))).toEqual([]);
  });
});
