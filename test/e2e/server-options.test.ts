import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEV_ACCOUNT, startTestServer } from '../helpers/server.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlspace.js');

describe('mlspace up', () => {
  it('writes endpoints.json under $MLSPACE_HOME/data by default and removes it on SIGTERM', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-home-'));
    const dataDir = path.join(home, 'data');
    const server = await startTestServer({ dataDir, defaultDataDir: true, env: { MLSPACE_HOME: home } });
    const endpoints = JSON.parse(fs.readFileSync(path.join(dataDir, 'endpoints.json'), 'utf8'));
    expect(endpoints.blob).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toContain(endpoints.blob);
    expect(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'endpoints.json'))).toBe(false);
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
