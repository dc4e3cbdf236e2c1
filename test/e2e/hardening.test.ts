import { BlobServiceClient } from '@azure/storage-blob';
import { ShareServiceClient } from '@azure/storage-file-share';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { rawConnection } from '../helpers/raw-socket.js';
import { sendRaw } from '../fuzz/raw-http.js';
import { until } from '../helpers/wait.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, fileConnectionString, onPostgres, startTestServer, type TestServer } from '../helpers/server.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlspace.js');

/** An account SAS for both services that allows everything, for requests signed but hand-made. */
const allPowerfulSas = () => fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlacup', 'bf');


/** pino's error level: a client's bad input must never produce one. */
const errorLines = (server: TestServer) => server.output().split('\n').filter((line) => line.includes('"level":50'));

describe('XML bodies that declare a DOCTYPE, or that the parser gives up on', () => {
  let server: TestServer;
  let sas: string;
  beforeAll(async () => {
    server = await startTestServer();
    sas = allPowerfulSas();
    await BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient('xml').create();
    await ShareServiceClient.fromConnectionString(fileConnectionString(server)).getShareClient('xml').create();
  });
  afterAll(() => server.stop());

  const places = () => [
    { what: 'block list', url: `${server.blob}/${DEV_ACCOUNT}/xml/blob?comp=blocklist`, root: 'BlockList' },
    { what: 'container ACL', url: `${server.blob}/${DEV_ACCOUNT}/xml?restype=container&comp=acl`, root: 'SignedIdentifiers' },
    { what: 'blob service properties', url: `${server.blob}/${DEV_ACCOUNT}/?restype=service&comp=properties`, root: 'StorageServiceProperties' },
    { what: 'file service properties', url: `${server.file}/${DEV_ACCOUNT}/?restype=service&comp=properties`, root: 'StorageServiceProperties' },
    { what: 'share ACL', url: `${server.file}/${DEV_ACCOUNT}/xml?restype=share&comp=acl`, root: 'SignedIdentifiers' },
  ];
  const bodies = (root: string) => ({
    'an external entity': `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${root}>&xxe;</${root}>`,
    'an internal entity': `<!DOCTYPE ${root} [<!ENTITY a "aaaaaaaaaa">]><${root}>&a;&a;</${root}>`,
    'a bare DOCTYPE': `<!DOCTYPE ${root}><${root}/>`,
    'nesting 5000 deep': `<${root}>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</${root}>`,
  });

  it('answers 400 InvalidXmlDocument in every place that parses XML, and logs no error', async () => {
    for (const place of places()) {
      for (const [kind, body] of Object.entries(bodies(place.root))) {
        const response = await fetch(`${place.url}&${sas}`, { method: 'PUT', body, headers: { 'content-type': 'application/xml' } });
        const text = await response.text();
        expect({ place: place.what, kind, status: response.status, code: response.headers.get('x-ms-error-code') }).toEqual({
          place: place.what,
          kind,
          status: 400,
          code: 'InvalidXmlDocument',
        });
        expect(text).toMatch(/<Error><Code>InvalidXmlDocument<\/Code><Message>XML specified is not syntactically valid: /);
        expect(text).not.toContain('root:');
      }
    }
    expect(errorLines(server)).toEqual([]);
  });
});

describe('a malformed request line followed by a large body', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('is answered 400 every time, on the data plane and the management plane, while the body is still arriving', async () => {
    // Node's parser reports every later chunk of such a request again; answering those by closing the
    // connection reset the first answer away, now and then (the fuzzer found it).
    const ca = fs.readFileSync(server.caFile, 'utf8');
    const request = { method: 'POST', target: '/devstoreaccount1/with space/x?comp=block', headers: [] as [string, string][], body: Buffer.alloc(900_000, 'x') };
    for (const endpoint of [server.blob, server.arm]) {
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push((await sendRaw(new URL(endpoint), request, ca))?.status);
      expect(answers).toEqual(Array(20).fill(400));
    }
  });
});

describe('signatures', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const container = BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient('sig');
    await container.create();
    await container.getBlockBlobClient('b').upload('x', 1);
  });
  afterAll(() => server.stop());

  it('authorize only as signed: a SAS with characters added to or inside sig is refused', async () => {
    const url = `${server.blob}/${DEV_ACCOUNT}/sig/b?${allPowerfulSas()}`;
    expect((await fetch(url)).status).toBe(200);
    const spellings = [url.replace(/sig=([^&]+)/, 'sig=$1%21%21'), url.replace('sig=', 'sig=%2A'), url.replace(/sig=([^&]{10})/, 'sig=$1%2A'), url.replace(/sig=([^&]+)/, 'sig=$1%3D')];
    for (const spelling of spellings) {
      const response = await fetch(spelling);
      expect([response.status, response.headers.get('x-ms-error-code')]).toEqual([403, 'AuthenticationFailed']);
      expect(await response.text()).toContain('not the canonical base64 of an HMAC-SHA256');
    }
  });

  it('authorize only as signed: Shared Key with characters added to the signature is refused', async () => {
    const date = new Date().toUTCString();
    const stringToSign = `HEAD${'\n'.repeat(12)}x-ms-date:${date}\nx-ms-version:2025-11-05\n/${DEV_ACCOUNT}/sig/b`;
    const signature = createHmac('sha256', Buffer.from(DEV_KEY, 'base64')).update(stringToSign).digest('base64');
    const head = (sent: string) =>
      fetch(`${server.blob}/${DEV_ACCOUNT}/sig/b`, {
        method: 'HEAD',
        headers: { 'x-ms-date': date, 'x-ms-version': '2025-11-05', authorization: `SharedKey ${DEV_ACCOUNT}:${sent}` },
      });
    expect((await head(signature)).status).toBe(200);
    for (const spelling of [`${signature}!!`, `*${signature}`, `${signature.slice(0, 10)}.${signature.slice(10)}`]) {
      const response = await head(spelling);
      expect([response.status, response.headers.get('x-ms-error-code')]).toEqual([403, 'AuthenticationFailed']);
    }
  });
});

describe('stalled and excess uploads', () => {
  let server: TestServer;
  let sas: string;
  let blobs: BlobServiceClient;
  beforeAll(async () => {
    server = await startTestServer({ args: ['--idle-timeout', '1', '--max-uploads', '2'] });
    sas = allPowerfulSas();
    blobs = BlobServiceClient.fromConnectionString(devConnectionString(server));
    await blobs.getContainerClient('stall').create();
  });
  afterAll(() => server.stop());

  const contentFiles = () => fs.readdirSync(path.join(server.dataDir, 'blobs')).flatMap((dir) => fs.readdirSync(path.join(server.dataDir, 'blobs', dir)));
  const stalledPut = (name: string) =>
    rawConnection(
      server.blob,
      `PUT /${DEV_ACCOUNT}/stall/${name}?${sas} HTTP/1.1\r\nHost: x\r\nx-ms-blob-type: BlockBlob\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n0123456789`,
    );

  it('closes an upload that goes silent after the idle time, and stores nothing', async () => {
    const before = contentFiles();
    const { closed } = stalledPut('silent');
    const { data, afterMs } = await closed;
    expect(data).toBe('');
    expect(afterMs).toBeGreaterThanOrEqual(900);
    expect(afterMs).toBeLessThan(10_000);
    // The handler removes the partial content file as the connection drops.
    await until(() => contentFiles().length === before.length);
    expect(contentFiles()).toEqual(before);
    expect((await errorOf(blobs.getContainerClient('stall').getBlobClient('silent').getProperties())).statusCode).toBe(404);
    // The server's log line may reach this process a moment after the connection closes.
    await until(() => server.output().includes('request body stalled; connection closed and nothing stored'));
    expect(server.output()).toContain('request body stalled; connection closed and nothing stored');
    expect(errorLines(server)).toEqual([]);
  });

  it('answers 503 ServerBusy beyond the bound of concurrent uploads, and takes uploads again once they end', async () => {
    const first = stalledPut('one');
    const second = stalledPut('two');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await fetch(`${server.blob}/${DEV_ACCOUNT}/stall/three?${sas}`, { method: 'PUT', body: 'three', headers: { 'x-ms-blob-type': 'BlockBlob' } });
    expect([refused.status, refused.headers.get('x-ms-error-code')]).toEqual([503, 'ServerBusy']);
    expect(await refused.text()).toContain('too many uploads are in flight');
    // Bodiless requests are not uploads, and go on being served.
    expect((await fetch(`${server.blob}/${DEV_ACCOUNT}/stall?restype=container&comp=list&${sas}`)).status).toBe(200);
    await Promise.all([first.closed, second.closed]);
    await blobs.getContainerClient('stall').getBlockBlobClient('three').upload('three', 5);
    expect((await blobs.getContainerClient('stall').getBlobClient('three').getProperties()).contentLength).toBe(5);
  });

  it('closes management connections whose headers or body stall', async () => {
    const headers = rawConnection(server.arm, 'GET /subscriptions?api-version=2022-09-01 HTTP/1.1\r\nHost: x\r\n', fs.readFileSync(server.caFile, 'utf8'));
    const body = rawConnection(
      server.arm,
      'PUT /subscriptions/x/resourcegroups/rg?api-version=2022-09-01 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"loc',
      fs.readFileSync(server.caFile, 'utf8'),
    );
    for (const { closed } of [headers, body]) {
      const { afterMs } = await closed;
      expect(afterMs).toBeLessThan(10_000);
    }
  });
});

describe('the data directory', () => {
  it('refuses to start in a directory other users can read, and says how to fix it', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-open-'));
    fs.chmodSync(dataDir, 0o755);
    const result = spawnSync(process.execPath, [BIN, 'up', '--data-dir', dataDir, '--blob-port', '0', '--file-port', '0', '--blob-https-port', '0', '--file-https-port', '0', '--arm-port', '0'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('is open to other users (mode 0755)');
    expect(result.stderr).toContain(`chmod 700 ${dataDir}`);
    expect(result.stderr).toContain('--allow-shared-data-dir');
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  it('creates every file 0600 and every directory 0700, even in a shared directory', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-shared-'));
    fs.chmodSync(dataDir, 0o755);
    const server = await startTestServer({ dataDir, args: ['--allow-shared-data-dir'] });
    try {
      const container = BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient('modes');
      await container.create();
      await container.getBlockBlobClient('small').upload('small', 5);
      await container.getBlockBlobClient('large').uploadData(Buffer.alloc(1024 * 1024, 7));
      const share = ShareServiceClient.fromConnectionString(fileConnectionString(server)).getShareClient('modes');
      await share.create();
      await share.getDirectoryClient('').getFileClient('f').uploadData(Buffer.alloc(200 * 1024, 3));
      const wide: string[] = [];
      const visit = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          const mode = fs.statSync(full).mode & 0o777;
          if (mode !== (entry.isDirectory() ? 0o700 : 0o600)) wide.push(`${path.relative(dataDir, full)} ${mode.toString(8)}`);
          if (entry.isDirectory()) visit(full);
        }
      };
      visit(dataDir);
      // The large bodies went to content files, and the metadata store has its log: all of them were looked at.
      expect(fs.readdirSync(path.join(dataDir, 'blobs')).flatMap((dir) => fs.readdirSync(path.join(dataDir, 'blobs', dir))).length).toBeGreaterThanOrEqual(2);
      if (!onPostgres) expect(fs.existsSync(path.join(dataDir, 'metadata.sqlite-wal'))).toBe(true);
      expect(wide).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('the well-known development account', () => {
  const up = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'up', '--data-dir', fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-dev-')), '--blob-port', '0', '--file-port', '0', '--blob-https-port', '0', '--file-https-port', '0', '--arm-port', '0', ...args], {
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('is refused on an address other machines can reach, saying why and what to use instead', () => {
    const result = up('--host', '0.0.0.0');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Refusing to serve devstoreaccount1 on 0.0.0.0: its key is public');
    expect(result.stderr).toContain('--no-dev-account');
    expect(result.stderr).toContain('--allow-dev-account-on-network');
  });

  it('is left out with --no-dev-account, or served when explicitly allowed', async () => {
    for (const args of [['--no-dev-account'], ['--allow-dev-account-on-network']]) {
      const server = await startTestServer({ args: ['--host', '0.0.0.0', ...args] });
      try {
        const served = BlobServiceClient.fromConnectionString(devConnectionString(server), { retryOptions: { maxTries: 1 } }).getProperties();
        if (args[0] === '--no-dev-account') expect(((await errorOf(served)).details as { errorCode?: string }).errorCode).toBe('InvalidUri');
        else await served;
      } finally {
        await server.stop();
      }
    }
  });
});
