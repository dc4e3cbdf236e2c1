import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Debian's interpreter, with Debian's python3-azure: a python3 earlier on PATH (pyenv, a venv) may have no Azure packages. */
const PYTHON = '/usr/bin/python3';
const installed =
  spawnSync(PYTHON, ['-c', 'import azure.identity, azure.mgmt.storage, azure.mgmt.resource, azure.mgmt.machinelearningservices'], { encoding: 'utf8' }).status === 0;
if (!installed) {
  console.warn('SKIPPED: test/e2e/python-sdk.test.ts needs Debian\'s python3-azure (apt-get install python3-azure), which is not installed here.');
}

let server: TestServer;
let home: string;

beforeAll(async () => {
  if (!installed) return;
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-python-'));
  server = await startTestServer({ dataDir: path.join(home, 'data') });
});
afterAll(async () => {
  await server?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!installed)('the Azure Python SDK (Debian python3-azure)', () => {
  it("runs the documents' procedure: list datastores, regenerate, resync the workspace's keys, re-register with the new key", async () => {
    const cli = cliIn(home);
    const ok = async (...args: string[]) => {
      const result = await cli(...args);
      expect(result.stderr).toBe('');
      return result.stdout;
    };
    await ok('login', '-o', 'none');
    await ok('group', 'create', '-n', 'py-rg', '-l', 'eastus', '-o', 'none');
    await ok('storage', 'account', 'create', '-n', 'pyaccount', '-g', 'py-rg', '-o', 'none');
    await ok('ml', 'workspace', 'create', '-w', 'pyws', '-g', 'py-rg', '--storage-account', 'pyaccount', '-o', 'none');
    await ok('storage', 'container', 'create', '-n', 'training', '--account-name', 'pyaccount', '-o', 'none');
    const key = (await ok('storage', 'account', 'keys', 'list', '-g', 'py-rg', '-n', 'pyaccount', '--query', "[?keyName=='key1'].value", '-o', 'tsv')).trim();
    const yaml = path.join(home, 'trainingdata.yml');
    fs.writeFileSync(yaml, `type: azure_blob\nname: trainingdata\naccount_name: pyaccount\ncontainer_name: training\ncredentials:\n  account_key: ${key}\n`, { mode: 0o600 });
    await ok('ml', 'datastore', 'create', '--file', yaml, '-w', 'pyws', '-g', 'py-rg', '-o', 'none');

    // The CA bundle az-setup would write: the system's CAs and the server's.
    const bundle = path.join(home, 'bundle.pem');
    fs.writeFileSync(bundle, fs.readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8') + fs.readFileSync(server.caFile, 'utf8'));
    const script = path.join(ROOT, 'examples', 'python', 'regenerate_keys.py');
    const result = spawnSync(PYTHON, [script, server.dataDir, 'py-rg', 'pyws', 'pyaccount'], { encoding: 'utf8', env: { ...process.env, REQUESTS_CA_BUNDLE: bundle } });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual([
      'datastore trainingdata: AzureBlob on pyaccount',
      'regenerated key1',
      'workspace pyws: keys resynced',
      'datastore trainingdata: re-registered with the new key1',
    ]);

    // Every consumer now holds the new key1; none is stale.
    const consumers = JSON.parse(await ok('storage', 'account', 'keys', 'consumers', '-g', 'py-rg', '-n', 'pyaccount', '-o', 'json'));
    expect(consumers.counts).toMatchObject({ stale: 0, key2: 0 });
    expect(consumers.counts.key1).toBe(consumers.counts.consumers);
    const newKey = (await ok('storage', 'account', 'keys', 'list', '-g', 'py-rg', '-n', 'pyaccount', '--query', "[?keyName=='key1'].value", '-o', 'tsv')).trim();
    expect(newKey).not.toBe(key);
  }, 120_000);
});
