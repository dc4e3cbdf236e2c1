import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { managementClients } from '../helpers/management.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, startTestServer } from '../helpers/server.js';
import { errorOf } from '../helpers/errors.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlspace.js');

describe('mlspace up', () => {
  it('writes endpoints.json under $MLSPACE_HOME/data by default and removes it on SIGTERM', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-home-'));
    const dataDir = path.join(home, 'data');
    const server = await startTestServer({ dataDir, defaultDataDir: true, env: { MLSPACE_HOME: home } });
    const endpoints = JSON.parse(fs.readFileSync(path.join(dataDir, 'endpoints.json'), 'utf8'));
    expect(endpoints.blob).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // stdout and endpoints.json come from the same start-up but reach us separately: wait for the line.
    await vi.waitFor(() => expect(server.output()).toContain(endpoints.blob), { timeout: 5000 });
    expect(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'endpoints.json'))).toBe(false);
  });

  it('names the option to change when a port is taken, and leaves no data directory behind', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-port-')), 'data');
      const run = (...ports: string[]) => spawnSync(process.execPath, [BIN, 'up', '--data-dir', dataDir, '--blob-https-port', '0', '--file-https-port', '0', ...ports], { encoding: 'utf8' });
      const busy = run('--blob-port', '0', '--file-port', String(taken), '--arm-port', '0');
      expect(busy.status).toBe(1);
      expect(busy.stderr.trim()).toBe(`ERROR: Port ${taken} (--file-port) is already in use on 127.0.0.1: stop what uses it, or start with --file-port PORT (0 picks a free one).`);
      const twice = run('--blob-port', String(taken + 1), '--file-port', String(taken + 1), '--arm-port', '0');
      expect(twice.stderr).toContain(`--blob-port and --file-port both ask for port ${taken + 1}`);
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('prints its version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(path.dirname(BIN), '..', 'package.json'), 'utf8'));
    for (const args of [['--version'], ['version']]) expect(spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' }).stdout).toBe(`${version}\n`);
  });

  it('serves no development account with --no-dev-account', async () => {
    const server = await startTestServer({ args: ['--no-dev-account'] });
    try {
      const response = await fetch(`${server.blob}/${DEV_ACCOUNT}?comp=list`);
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(new RegExp(`${DEV_ACCOUNT}.*does not exist`));
    } finally {
      await server.stop();
    }
  });

  it('refuses a malformed MLSPACE_ACCOUNTS with a message that says what to fix', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bad-'));
    const result = spawnSync(process.execPath, [BIN, 'up', '--data-dir', dataDir, '--blob-port', '0'], {
      env: { ...process.env, MLSPACE_ACCOUNTS: 'Bad_Name:notakey' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('name:key1[:key2]');
    expect(result.stderr).not.toContain('notakey');
  });

  it('refuses an invalid port', () => {
    const result = spawnSync(process.execPath, [BIN, 'up', '--blob-port', '99999'], { encoding: 'utf8', timeout: 20_000 });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('not a port number');
  });
});

describe('declared accounts', () => {
  it('keep a regenerated key across restarts, and take a changed declaration', async () => {
    const declared = `declared:${randomBytes(64).toString('base64')}`;
    const server = await startTestServer({ env: { MLSPACE_ACCOUNTS: declared } });
    const { storage } = managementClients(server);
    const regenerated = (await storage.storageAccounts.regenerateKey('mlspace-builtin', DEV_ACCOUNT, { keyName: 'key1' })).keys![0]!.value!;
    await server.stop();

    const again = await startTestServer({ dataDir: server.dataDir, env: { MLSPACE_ACCOUNTS: declared } });
    try {
      const withKey = (key: string) => BlobServiceClient.fromConnectionString(devConnectionString(again, key));
      expect((await errorOf(withKey(DEV_KEY).getProperties())).statusCode).toBe(403);
      expect((await withKey(regenerated).getProperties()).blobAnalyticsLogging).toBeDefined();
    } finally {
      await again.stop();
    }

    // A new declaration of the same account wins over what was stored.
    const newKey = randomBytes(64).toString('base64');
    const redeclared = await startTestServer({ dataDir: server.dataDir, env: { MLSPACE_ACCOUNTS: `declared:${newKey}` } });
    try {
      const client = new BlobServiceClient(`${redeclared.blob}/declared`, new StorageSharedKeyCredential('declared', newKey));
      expect((await client.getProperties()).blobAnalyticsLogging).toBeDefined();
    } finally {
      await redeclared.stop();
    }
  });
});

