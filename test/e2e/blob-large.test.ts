import { BlobServiceClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
let server: TestServer;
let service: BlobServiceClient;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-large-'));

beforeAll(async () => {
  server = await startTestServer();
  service = BlobServiceClient.fromConnectionString(devConnectionString(server));
  await service.getContainerClient('large').create();
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.rmSync(server.dataDir, { recursive: true, force: true });
});

/** The server's peak resident set so far, from the kernel's own accounting. */
function peakRss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** `total` bytes made of one random MiB repeated, hashed as they are produced. */
function generated(total: number, hash: ReturnType<typeof createHash>): Readable {
  const unit = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const chunk = unit.subarray(0, Math.min(MiB, total - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

describe('large blobs', () => {
  it('uploads a 1 GiB file in blocks and downloads it byte-exact', async () => {
    const source = path.join(scratch, 'one-gib.bin');
    const sourceHash = createHash('sha256');
    await pipeline(generated(1024 * MiB, sourceHash), fs.createWriteStream(source));
    const blob = service.getContainerClient('large').getBlockBlobClient('one-gib.bin');
    await blob.uploadFile(source, { blockSize: 8 * MiB, concurrency: 4 });
    expect((await blob.getBlockList('committed')).committedBlocks!.length).toBe(128);
    const target = path.join(scratch, 'one-gib.out');
    await blob.downloadToFile(target, 0, undefined, { maxRetryRequests: 2 });
    expect(await sha256File(target)).toBe(sourceHash.digest('hex'));
    fs.rmSync(source);
    fs.rmSync(target);
  });

  it('streams a 2 GiB blob up and down without growing the server by more than 200 MB', async () => {
    const blob = service.getContainerClient('large').getBlockBlobClient('two-gib.bin');
    // Warm the server up so the baseline includes its steady-state buffers.
    await blob.uploadData(randomBytes(16 * MiB), { blockSize: 8 * MiB, concurrency: 4 });
    await blob.downloadToBuffer();
    const baseline = peakRss(server.process.pid!);

    const uploadHash = createHash('sha256');
    await blob.uploadStream(generated(2048 * MiB, uploadHash), 8 * MiB, 4);
    const response = await blob.download();
    const downloadHash = createHash('sha256');
    await pipeline(response.readableStreamBody!, downloadHash);

    expect(response.contentLength).toBe(2048 * MiB);
    expect(downloadHash.digest('hex')).toBe(uploadHash.digest('hex'));
    const growth = peakRss(server.process.pid!) - baseline;
    expect(growth).toBeLessThan(200 * 1000 * 1000);
  });
});
