import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = path.join(ROOT, 'examples');

function run(file: string, args: string[], env: Record<string, string>, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, cwd, timeout: 100_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * The examples as a user runs them: compiled against the package's own
 * typings (they import 'mlspace'), then regenerate-keys.sh replays the whole
 * procedure with the `mlspace` command on PATH and the examples.
 */
describe('examples', { timeout: 120_000 }, () => {
  let home: string;
  let bin: string;
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-examples-'));
    // `mlspace` on PATH, as an installed package puts it there.
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bin-'));
    fs.symlinkSync(path.join(ROOT, 'bin', 'mlspace.js'), path.join(bin, 'mlspace'));
    env = { MLSPACE_HOME: home, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
    const [compiled, started] = await Promise.all([run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(EXAMPLES, 'tsconfig.json')], {}), startTestServer({ dataDir: path.join(home, 'data') })]);
    server = started;
    expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of [home, bin]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('regenerate-keys.sh replays the documented procedure: what fails until each update, then everything works', async () => {
    const result = await run(path.join(EXAMPLES, 'regenerate-keys.sh'), [], env);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const out = result.stdout;
    const section = (title: string) => out.slice(out.indexOf(title)).split('\n== ')[0]!;

    // The listing (the documents' first block), including the default datastore's line that the documents get wrong.
    const listing = section('== What needs to be updated');
    expect(listing).toMatch(/Default datastore: workspaceblobstore, storage account name: mystorageaccount, container name: azureml-blobstore-/);
    expect(listing).toContain('datastore name: trainingdata, storage account name: mystorageaccount, container name: training');
    expect(listing).toContain('datastore name: shareddata, storage account name: mystorageaccount, file share name: shared');

    const broken = section('== Until both');
    expect(broken).toMatch(/ERROR: Storage account 'mystorageaccount' refused the key workspace 'myworkspace'.*mlspace ml workspace sync-keys -w myworkspace -g myresourcegroup/);
    for (const name of ['trainingdata', 'shareddata', 'workspaceblobstore', 'workspacefilestore']) expect(broken).toMatch(new RegExp(`FAILED  ${name}: .*no longer key1 or key2`));

    const synced = section('== The workspace works again');
    expect(synced).toMatch(/ok {6}workspaceblobstore: 2 file\(s\)/);
    expect(synced).toMatch(/ok {6}workspacefilestore/);
    expect(synced).toMatch(/FAILED  trainingdata: .*Datastore\.registerAzureBlobContainer/);
    expect(synced).toMatch(/FAILED  shareddata: .*Datastore\.registerAzureFileShare/);

    expect(section('== 3. Re-register')).toContain('Re-registered datastore trainingdata (storage account mystorageaccount, container training) with the new key.');
    const fixed = section('== Everything works');
    expect(fixed).not.toContain('FAILED');
    expect(fixed.match(/^ok /gm)).toHaveLength(5);
    expect(fixed).toContain('downloaded/classifier/model.pkl');
    expect(out).toContain('The procedure is complete.');
    expect(result.stderr).toContain("the secondary key (key2) is unchanged");
  });

  test('the re-registration example says how to call it when arguments are missing', async () => {
    const result = await run(process.execPath, [path.join(EXAMPLES, 'dist', 'reregister-datastore.js'), 'trainingdata'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: NEW_ACCOUNT_KEY=<key>');
  });

  test('without a config.json, the listing example says what it looked for', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-noconfig-'));
    try {
      const result = await run(process.execPath, [path.join(EXAMPLES, 'dist', 'list-datastores.js')], env, empty);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('No workspace configuration found: looked for .azureml/config.json and config.json');
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
