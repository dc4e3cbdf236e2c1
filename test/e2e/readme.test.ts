import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The first ```sh block after `heading` in the README, as it stands. */
function shellBlock(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no sh block after '${heading}' in README.md`);
  return match[1]!;
}

let home: string;
let bin: string;
let server: TestServer;

/** Runs a script as a reader would paste it: bash, stopping at the first error, with `mlspace` on PATH, in a fresh folder (answered as `work`). */
function run(script: string) {
  const work = fs.mkdtempSync(path.join(home, 'work-'));
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, MLSPACE_HOME: home, PATH: `${bin}${path.delimiter}${process.env.PATH}`, COLUMNS: '120' },
    timeout: 120_000,
  });
  expect(result.stderr).not.toMatch(/ERROR|WARNING/);
  expect(result.status).toBe(0);
  return { ...result, work };
}

beforeAll(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-readme-'));
  // `mlspace` on PATH, as `npm link` or an installed package puts it there.
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bin-'));
  fs.symlinkSync(path.join(ROOT, 'bin', 'mlspace.js'), path.join(bin, 'mlspace'));
  // The block's first line starts the server in the background; the test starts it the same way, and waits for it.
  server = await startTestServer({ dataDir: path.join(home, 'data'), defaultDataDir: true, env: { MLSPACE_HOME: home }, args: ['--enable-local-jobs'] });
});
afterAll(async () => {
  await server?.stop();
  for (const dir of [home, bin]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the README', () => {
  it('runs its key regeneration walkthrough as written, top to bottom', () => {
    const block = shellBlock('## Regenerating a storage key, the documented way');
    const result = run(block.replace(/^mlspace up &.*$/m, '# (the server is already running)'));
    // What the commands tell a person on stderr, as az does, says what each step did.
    expect(result.stderr).toContain("Renewed the primary key (key1) of storage account 'mystorageaccount'");
    // Step 1's table lists the datastore the walkthrough registered.
    expect(result.stdout).toMatch(/trainingdata/);
  }, 150_000);

  it('then runs its job, downloads its output and registers it as a model, as written', () => {
    const result = run(shellBlock('## Running a job'));
    // The streamed log: the byte count of what the job concatenated.
    expect(result.stdout).toMatch(/RunId: concat-1[\s\S]*\n6\n[\s\S]*Status: Completed/);
    expect(fs.readFileSync(path.join(result.work, 'job', 'out', 'named-outputs', 'result', 'all.txt'), 'utf8')).toBe('hello\n');
    expect(result.stdout).toMatch(/concatenated\s+1\s+azureml:\/\/datastores\/workspaceblobstore\/paths\/azureml\/concat-1\/result\//);
  }, 150_000);

  it('then takes that account keyless with its "Going keyless" block, as written', () => {
    const result = run(shellBlock('## Going keyless'));
    // The readiness table named the walkthrough's datastore; afterwards Shared Key is off.
    expect(result.stdout).toMatch(/datastores\/trainingdata/);
    expect(result.stdout).toMatch(/"allowSharedKeyAccess": false/);
  }, 150_000);
});
