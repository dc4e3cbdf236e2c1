import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { ShareServiceClient } from '@azure/storage-file-share';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import { until } from '../helpers/wait.js';
import { devConnectionString, fileConnectionString, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A server whose data directory is on a 24 MiB tmpfs, filled until writes fail.
 * Mounting needs root (CI runs as root); elsewhere the suite says why it skips.
 */
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-full-'));
const mounted = mount(mountPoint);

function mount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const MiB = Buffer.alloc(1024 * 1024, 'x');
const noRetries = { retryOptions: { maxTries: 1 } };

describe.skipIf(!mounted)('a full disk (data directory on a 24 MiB tmpfs; needs root to mount it)', () => {
  let server: TestServer;
  let container: ContainerClient;
  const stored: string[] = [];
  let refused: Error & { statusCode?: number; code?: string };

  beforeAll(async () => {
    server = await startTestServer({ dataDir: path.join(mountPoint, 'data') });
    container = BlobServiceClient.fromConnectionString(devConnectionString(server), noRetries).getContainerClient('full');
    await container.create();
    // 1 MiB blobs until the disk refuses one.
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const name = `blob-${i}`;
      try {
        await container.getBlockBlobClient(name).upload(MiB, MiB.length);
        stored.push(name);
      } catch (error) {
        refused = error as typeof refused;
      }
    }
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    execFileSync('umount', [mountPoint]);
    fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers a write 500 InternalError saying the disk is full, and what to do', async () => {
    expect(stored.length).toBeGreaterThan(5);
    expect(refused?.statusCode).toBe(500);
    expect(refused?.code).toBe('InternalError');
    expect(refused?.message).toContain("The server's disk is full, so this request stored nothing.");
    expect(refused?.message).toContain("Free space on the disk that holds mlspace's data directory");
    // The log line may reach the pipe after the answer.
    await until(() => server.output().includes('blob request failed: the disk is full'));
    expect(server.output()).toContain('blob request failed: the disk is full');
  });

  it('shows nothing of the refused write, and keeps every acknowledged one whole', async () => {
    const listed: string[] = [];
    for await (const blob of container.listBlobsFlat()) listed.push(blob.name);
    expect(listed.sort()).toEqual([...stored].sort());
    for (const name of stored.slice(-3)) expect((await container.getBlockBlobClient(name).downloadToBuffer()).equals(MiB)).toBe(true);
  });

  it('says the same for page writes and for the File service', async () => {
    const pages = container.getPageBlobClient('disk.vhd');
    const pageError = await errorOf(pages.create(4 * 1024 * 1024).then(() => pages.uploadPages(MiB, 0, MiB.length)));
    expect([pageError.statusCode, pageError.message]).toEqual([500, expect.stringContaining("The server's disk is full")]);
    const share = ShareServiceClient.fromConnectionString(fileConnectionString(server), noRetries).getShareClient('full');
    const fileError = await errorOf(
      share
        .createIfNotExists()
        .then(() => share.rootDirectoryClient.getFileClient('big.bin').create(MiB.length))
        .then((file) => share.rootDirectoryClient.getFileClient('big.bin').uploadRange(MiB, 0, MiB.length)),
    );
    expect([fileError.statusCode, fileError.message]).toEqual([500, expect.stringContaining("The server's disk is full")]);
  });

  it('takes writes again once space is freed', async () => {
    for (const name of stored.splice(0, 8)) await container.getBlockBlobClient(name).delete();
    await container.getBlockBlobClient('after').upload(MiB, MiB.length);
    expect((await container.getBlockBlobClient('after').downloadToBuffer()).equals(MiB)).toBe(true);
  });
});
