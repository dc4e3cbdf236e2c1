import { BlobServiceClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devConnectionString, queryMetadata, startTestServer } from '../helpers/server.js';

/** Content derived from the name, so any blob read back can be checked without remembering it. */
function contentFor(name: string, size: number): Buffer {
  const seed = createHash('sha256').update(name).digest();
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) seed.copy(data, i);
  return data;
}

describe('crash safety', () => {
  it('keeps every acknowledged upload and exposes no partial one after kill -9 mid-upload', async () => {
    const server = await startTestServer();
    // No retries: a writer should notice the kill at once, not back off for seconds.
    const service = BlobServiceClient.fromConnectionString(devConnectionString(server), { retryOptions: { maxTries: 1 } });
    const container = service.getContainerClient('crash');
    await container.create();

    const acknowledged = new Map<string, number>();
    let stop = false;
    const writer = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const name = `w${worker}/blob-${i}`;
        // Mix single-shot and multi-block uploads of several sizes.
        const size = [1024, 300_000, 3 * 1024 * 1024][i % 3]!;
        try {
          await container.getBlockBlobClient(name).uploadData(contentFor(name, size), { blockSize: 1024 * 1024, maxSingleShotSize: 2 * 1024 * 1024, concurrency: 2 });
          acknowledged.set(name, size);
        } catch {
          return; // the server died under us
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.stop('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.size).toBeGreaterThan(5);

    const restarted = await startTestServer({ dataDir: server.dataDir });
    try {
      const after = BlobServiceClient.fromConnectionString(devConnectionString(restarted)).getContainerClient('crash');
      for (const [name, size] of acknowledged) {
        const data = await after.getBlockBlobClient(name).downloadToBuffer();
        expect(data.length, name).toBe(size);
        expect(data.equals(contentFor(name, size)), name).toBe(true);
      }
      // Whatever else is listed must be whole: an upload that was cut off is either complete or absent.
      for await (const blob of after.listBlobsFlat()) {
        const data = await after.getBlockBlobClient(blob.name).downloadToBuffer();
        expect(data.equals(contentFor(blob.name, data.length)), blob.name).toBe(true);
        expect([1024, 300_000, 3 * 1024 * 1024]).toContain(data.length);
      }
      // Content files of interrupted uploads were swept at start-up: every file left is referenced
      // by a blob or an uncommitted block (which Azure keeps too).
      const files = fs.readdirSync(path.join(server.dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
      const referenced = new Set(await queryMetadata(server, 'SELECT id FROM content WHERE refs > 0'));
      expect(files.filter((file) => !referenced.has(file.name))).toEqual([]);
    } finally {
      await restarted.stop();
    }
  });

  it('keeps everything across a clean restart', async () => {
    const server = await startTestServer();
    const container = BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient('restart');
    await container.create({ metadata: { kept: 'yes' } });
    const data = randomBytes(100_000);
    await container.getBlockBlobClient('a').uploadData(data);
    expect(await server.stop()).toBe(0);
    const again = await startTestServer({ dataDir: server.dataDir });
    try {
      const reopened = BlobServiceClient.fromConnectionString(devConnectionString(again)).getContainerClient('restart');
      expect((await reopened.getProperties()).metadata).toEqual({ kept: 'yes' });
      expect((await reopened.getBlockBlobClient('a').downloadToBuffer()).equals(data)).toBe(true);
    } finally {
      await again.stop();
    }
  });
});

describe('small blobs', () => {
  it('are kept in the metadata store, shared by copies, and deleted with the last blob that refers to them', async () => {
    const server = await startTestServer();
    try {
      const container = BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient('inline');
      await container.create();
      const inlineRows = async () => Number((await queryMetadata(server, 'SELECT COUNT(*) FROM inline_content'))[0]);
      const files = () => fs.readdirSync(path.join(server.dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
      const data = randomBytes(64 * 1024);
      const source = container.getBlockBlobClient('small');
      await source.upload(data, data.length);
      expect([await inlineRows(), files()]).toEqual([1, 0]);
      const copy = container.getBlockBlobClient('copy');
      await (await copy.beginCopyFromURL(source.url)).pollUntilDone();
      await source.delete();
      expect(await inlineRows()).toBe(1);
      expect((await copy.downloadToBuffer()).equals(data)).toBe(true);
      expect((await copy.downloadToBuffer(100, 50)).equals(data.subarray(100, 150))).toBe(true);
      await copy.upload(randomBytes(64 * 1024 + 1), 64 * 1024 + 1);
      expect([await inlineRows(), files()]).toEqual([0, 1]);
    } finally {
      await server.stop();
    }
  });
});
