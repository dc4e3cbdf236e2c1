import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { accountPath, latestRotation } from '../helpers/rotation.js';
import type { TestServer } from '../helpers/server.js';

const GROUP = 'rg-nginx';
const ACCOUNT = 'nginxacct';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const portOf = (url: string) => new URL(url).port;
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
const installed = spawnSync('nginx', ['-v']).status === 0 && fs.existsSync(STREAM_MODULE);
if (!installed) console.warn('SKIPPED: test/e2e/nginx-cluster.test.ts needs nginx and its stream module (Debian: apt-get install nginx libnginx-mod-stream), which are not installed here.');

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * nginx (Debian's package) in front of three nodes, as docs/scale-out.md
 * configures it: HTTP proxying for the Blob service, TLS passed through to
 * the management endpoint. The official clients see one address.
 */
describe.skipIf(!installed)('three nodes behind nginx', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let nginx: ChildProcess;
  let front: TestServer;

  beforeAll(async () => {
    cluster = await startCluster(3, { leaseSeconds: 2 });
    const [blobPort, armPort] = [await freePort(), await freePort()];
    const prefix = path.join(cluster.dataDir, 'nginx');
    fs.mkdirSync(prefix, { mode: 0o700 });
    const upstream = (pick: (node: TestServer) => string) => cluster.nodes.map((node) => `    server 127.0.0.1:${portOf(pick(node))};`).join('\n');
    const config = `
load_module ${STREAM_MODULE};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  upstream mlspace_blob {
${upstream((node) => node.blob)}
  }
  server {
    listen 127.0.0.1:${blobPort};
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    location / {
      proxy_set_header Host $http_host;
      proxy_set_header Connection "";
      proxy_pass http://mlspace_blob;
    }
  }
}
stream {
  upstream mlspace_arm {
${upstream((node) => node.arm)}
  }
  server {
    listen 127.0.0.1:${armPort};
    proxy_pass mlspace_arm;
  }
}
`;
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), config);
    nginx = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    nginx.stderr!.on('data', (chunk) => (errors += chunk));
    const deadline = Date.now() + 10_000;
    while (!((await accepts(blobPort)) && (await accepts(armPort)))) {
      if (nginx.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${errors}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const arm = `https://127.0.0.1:${armPort}`;
    front = { ...cluster.nodes[0]!, blob: `http://127.0.0.1:${blobPort}`, arm, authority: arm };
    const { resources, storage } = managementClients(front);
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'eastus' });
    await storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
  });
  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await cluster?.close();
  });

  const keys = async () => (await managementClients(front).storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys!.map((key) => key.value!);
  const containerWith = (key: string) => new BlobServiceClient(`${front.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key), { retryOptions: { maxTries: 1 } }).getContainerClient('through-nginx');

  test('the official client uploads and downloads through it, each request going to any node', async () => {
    const [key1] = await keys();
    const container = containerWith(key1!);
    await container.create();
    const data = randomBytes(6 * 1024 * 1024 + 3);
    await container.getBlockBlobClient('big.bin').uploadData(data, { blockSize: 1024 * 1024, concurrency: 4 });
    for (let round = 0; round < 6; round++) expect((await container.getBlockBlobClient('big.bin').downloadToBuffer()).equals(data)).toBe(true);
  });

  test('a rotation through it retires the key on every node behind it', async () => {
    const before = await keys();
    const token = await tokenFor(front);
    const answer = await armRequest(front, 'POST', `${accountPath(front, GROUP, ACCOUNT)}/rotateKeys`, { token, body: {} });
    expect(answer.status, answer.text).toBe(202);
    await expect.poll(async () => (await latestRotation(front, token, GROUP, ACCOUNT)).status, { timeout: 30_000 }).toBe('Succeeded');
    const after = await keys();
    const retired = before[0] === after[0] ? 1 : 0;
    expect(after[retired]).not.toBe(before[retired]);
    // Round-robin: several requests reach every node; none accepts the retired key, all accept the kept one.
    for (let round = 0; round < 9; round++) {
      await expect(containerWith(before[retired]!).getProperties()).rejects.toMatchObject({ statusCode: 403 });
      expect((await containerWith(after[1 - retired]!).getProperties())._response.status).toBe(200);
    }
  });
});
