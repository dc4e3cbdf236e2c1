import { BlobServiceClient, type PageBlobClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';

// Page writes of a node alone (the embedded dialect) are appended to shared
// segment files of 32 MiB rather than written to a file each; once the sealed
// segments hold more dead bytes than live ones, a compactor copies the live
// pages of the least alive forward, and it removes segments nothing names,
// keeping up to four of their files as spares that later segments are written over.

const KiB = 1024;
const PAGE_WRITE = 64 * KiB;
/** Writes that fill one segment. */
const PER_SEGMENT = (32 * 1024 * KiB) / PAGE_WRITE;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ embedded: true });
});
afterAll(() => server.stop());

/** The segment files of a data directory (or, with 'spare-', the spare files kept to write segments over), by id, with their sizes. */
function segments(dataDir: string, prefix = 'seg-'): Map<string, number> {
  const found = new Map<string, number>();
  const root = path.join(dataDir, 'blobs');
  for (const shard of fs.readdirSync(root)) {
    for (const name of fs.readdirSync(path.join(root, shard))) {
      if (name.startsWith(prefix)) found.set(name, fs.statSync(path.join(root, shard, name)).size);
    }
  }
  return found;
}

/** Where a segment (or spare) file of a data directory is. */
function segmentPath(dataDir: string, name: string): string {
  const root = path.join(dataDir, 'blobs');
  const shard = fs.readdirSync(root).find((candidate) => fs.existsSync(path.join(root, candidate, name)));
  return path.join(root, shard!, name);
}

/** Page numbers of a blob PER_SEGMENT pages long, at random, the same ones each run (xorshift32). */
function randomPages(seed: number): () => number {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % PER_SEGMENT;
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function pageBlob(of: TestServer, name: string): PageBlobClient {
  return BlobServiceClient.fromConnectionString(devConnectionString(of)).getContainerClient('segments').getPageBlobClient(name);
}

/** Runs `work` on a server of its own, stopped afterwards, with an empty page blob `name` one segment long. */
async function onFreshServer(name: string, work: (fresh: TestServer, blob: PageBlobClient) => Promise<void>): Promise<void> {
  const fresh = await startTestServer({ embedded: true });
  try {
    await BlobServiceClient.fromConnectionString(devConnectionString(fresh)).getContainerClient('segments').create();
    const blob = pageBlob(fresh, name);
    await blob.create(PER_SEGMENT * PAGE_WRITE);
    await work(fresh, blob);
  } finally {
    await fresh.stop();
  }
}

describe('page writes in segments', () => {
  it('share segment files, and the space of overwritten pages comes back while every page reads as written', async () => {
    await BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient('segments').create();
    const blob = pageBlob(server, 'disk.img');
    const size = PER_SEGMENT * PAGE_WRITE;
    await blob.create(size);
    const expected = Buffer.alloc(size);
    const write = async (page: number) => {
      const data = randomBytes(PAGE_WRITE);
      await blob.uploadPages(data, page * PAGE_WRITE, PAGE_WRITE);
      data.copy(expected, page * PAGE_WRITE);
    };
    const onDisk = () => [...segments(server.dataDir).values()].reduce((sum, bytes) => sum + bytes, 0);
    const randomPage = randomPages(42);

    // One full segment: a file for all of its writes, not one each.
    for (let page = 0; page < PER_SEGMENT; page++) await write(page);
    const [first] = [...segments(server.dataDir).keys()];
    expect([...segments(server.dataDir).values()]).toEqual([32 * 1024 * KiB]);

    // Overwritten at random, the first segment loses pages fastest, being the oldest. Two sealed segments hold as many
    // dead bytes as live ones: nothing is copied yet. Once the third is sealed (by the write that does not fit in it),
    // they hold twice as many: the least alive one's live pages are copied forward, and it goes.
    for (let write_ = 0; write_ <= PER_SEGMENT; write_++) await write(randomPage());
    expect(segments(server.dataDir).has(first!)).toBe(true);
    for (let write_ = 0; write_ < PER_SEGMENT; write_++) await write(randomPage());
    await until(() => !segments(server.dataDir).has(first!), 'the least alive segment is compacted away');
    expect((await blob.downloadToBuffer()).equals(expected)).toBe(true);

    // Overwritten many times over, the segments stay within about twice what is live, plus the one being written.
    for (let write_ = 0; write_ < 6 * PER_SEGMENT; write_++) await write(randomPage());
    await until(() => onDisk() <= 2 * size + 32 * 1024 * KiB, 'dead segments are removed');
    expect((await blob.downloadToBuffer()).equals(expected)).toBe(true);
    // Besides, at most four removed segments' files are kept to be written over.
    expect(segments(server.dataDir, 'spare-').size).toBeLessThanOrEqual(4);

    // Killed and started again, every page is as written.
    await server.stop('SIGKILL');
    server = await startTestServer({ dataDir: server.dataDir, embedded: true });
    expect((await pageBlob(server, 'disk.img').downloadToBuffer()).equals(expected)).toBe(true);
    // Spare files hold nothing anyone names: start-up removes them.
    expect(segments(server.dataDir, 'spare-').size).toBe(0);
  });

  it('a segment file removed by hand: the others are still compacted, and the log says which is missing', async () => {
    await onFreshServer('lost.img', async (fresh, blob) => {
      const randomPage = randomPages(7);
      const write = (page: number) => blob.uploadPages(Buffer.alloc(PAGE_WRITE, page % 251), page * PAGE_WRITE, PAGE_WRITE);
      for (let page = 0; page < PER_SEGMENT; page++) await write(page);
      const [lost] = segments(fresh.dataDir).keys();
      await write(randomPage());
      const [second] = [...segments(fresh.dataDir).keys()].filter((name) => name !== lost);
      fs.rmSync(segmentPath(fresh.dataDir, lost!));

      // Two more segments sealed: the lost one, the least alive, cannot be copied; the next least alive is.
      for (let write_ = 0; write_ < 2 * PER_SEGMENT; write_++) await write(randomPage());
      await until(() => !segments(fresh.dataDir).has(second!), 'the second segment is compacted away');
      expect(fresh.output()).toContain('segment file missing');
      expect(fresh.output()).toContain(lost);
      const page = randomPage();
      await write(page);
      expect(await blob.downloadToBuffer(page * PAGE_WRITE, PAGE_WRITE)).toEqual(Buffer.alloc(PAGE_WRITE, page % 251));
    });
  });

  it('go once nothing names them', async () => {
    // A server of its own, so the scratch blob's pages fill the first segment exactly.
    await onFreshServer('scratch.img', async (fresh, scratch) => {
      for (let page = 0; page < PER_SEGMENT; page++) await scratch.uploadPages(Buffer.alloc(PAGE_WRITE, 2), page * PAGE_WRITE, PAGE_WRITE);
      await scratch.createSnapshot();
      const [own, ...others] = segments(fresh.dataDir).keys();
      expect(others).toEqual([]);

      // Deleted, blob and snapshot, while its segment is still the one appended to: the segment stays until sealed, then goes.
      await scratch.delete({ deleteSnapshots: 'include' });
      expect(segments(fresh.dataDir).has(own!)).toBe(true);
      const next = pageBlob(fresh, 'next.img');
      await next.create(PAGE_WRITE);
      await next.uploadPages(Buffer.alloc(PAGE_WRITE, 1), 0, PAGE_WRITE);
      await until(() => !segments(fresh.dataDir).has(own!), "the deleted blob's segment is removed");
      expect([...segments(fresh.dataDir).values()]).toEqual([PAGE_WRITE]);
      // Its file is kept, under a name of its own, for a later segment to be written over.
      expect([...segments(fresh.dataDir, 'spare-').values()]).toEqual([32 * 1024 * KiB]);
      expect((await next.downloadToBuffer()).equals(Buffer.alloc(PAGE_WRITE, 1))).toBe(true);
    });
  });
});
