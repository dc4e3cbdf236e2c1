import { execFile, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const installed = spawnSync('restic', ['version'], { encoding: 'utf8' }).status === 0;
if (!installed) console.warn('SKIPPED: test/e2e/restic.test.ts needs restic (Debian: apt-get install restic), which is not installed here.');

/**
 * Debian's restic (0.14) always reaches https://{account}.blob.core.windows.net:443;
 * only restic 0.16 and later take another suffix. Go honours HTTPS_PROXY, so this
 * CONNECT proxy hands those connections to mlspace's Blob TLS port: the name, the
 * TLS handshake and every request are restic's own, unchanged.
 */
function connectProxy(target: () => number): net.Server {
  return net.createServer((client) => {
    client.once('data', (head) => {
      const request = head.toString('latin1');
      if (!/^CONNECT [a-z0-9]+\.blob\.core\.windows\.net:443 /.test(request)) {
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const upstream = net.connect(target(), '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
  });
}

/** Not devstoreaccount1: for that name the Go SDK restic uses goes to the emulator's http://127.0.0.1:10000 instead. */
const ACCOUNT = 'resticacct';
const KEY = crypto.randomBytes(64).toString('base64');
let server: TestServer;
let proxy: net.Server;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-restic-'));

beforeAll(async () => {
  if (!installed) return;
  server = await startTestServer({ args: ['--tls-name', '*.blob.core.windows.net'], env: { MLSPACE_ACCOUNTS: `${ACCOUNT}:${KEY}` } });
  proxy = connectProxy(() => Number(new URL(server.blobHttps).port));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  proxy?.close();
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!installed)("Debian's restic, whose Azure backend builds host-style URLs", () => {
  it('initialises a repository, backs up, lists, checks and restores through host-style HTTPS URLs', async () => {
    const env = {
      ...process.env,
      HTTPS_PROXY: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
      NO_PROXY: '',
      SSL_CERT_FILE: server.caFile,
      AZURE_ACCOUNT_NAME: ACCOUNT,
      AZURE_ACCOUNT_KEY: KEY,
      RESTIC_PASSWORD: 'restic-test-password',
      RESTIC_CACHE_DIR: path.join(work, 'cache'),
    };
    // Asynchronous: the proxy runs in this process.
    const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('restic', ['-r', 'azure:backups:/repo', ...args], { env: { ...env, ...extraEnv }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const restic = async (...args: string[]) => {
      const result = await run(args);
      if (result.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
      return result.stdout;
    };
    const source = path.join(work, 'source');
    fs.mkdirSync(path.join(source, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(source, 'notes.txt'), 'restic through mlspace\n');
    fs.writeFileSync(path.join(source, 'nested', 'random.bin'), crypto.randomBytes(12 * 1024 * 1024));

    await restic('init');
    await restic('backup', source);
    const snapshots = JSON.parse(await restic('snapshots', '--json')) as { paths: string[] }[];
    expect(snapshots.map((snapshot) => snapshot.paths)).toEqual([[source]]);
    await restic('check', '--read-data');
    const target = path.join(work, 'restored');
    await restic('restore', 'latest', '--target', target);
    for (const file of ['notes.txt', 'nested/random.bin']) {
      expect(fs.readFileSync(path.join(target, source, file)).equals(fs.readFileSync(path.join(source, file)))).toBe(true);
    }
    // A wrong key is refused by the service, and restic says so.
    const refused = await run(['snapshots'], { AZURE_ACCOUNT_KEY: Buffer.alloc(64, 7).toString('base64') });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/403|AuthenticationFailed|authenticat/i);
  }, 180_000);
});
