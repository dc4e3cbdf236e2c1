import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ShareClient } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStorageError, shareService, stopAndClean, uniqueShare } from '../helpers/file.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function streamSha256(stream: NodeJS.ReadableStream): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { hash: hash.digest('hex'), size };
}

/** Written spans as List Ranges reports them: touching spans joined. */
function spans(written: boolean[]): { start: number; end: number }[] {
  const result: { start: number; end: number }[] = [];
  for (let i = 0; i < written.length; i++) {
    if (!written[i]) continue;
    const last = result[result.length - 1];
    if (last && last.end === i - 1) last.end = i;
    else result.push({ start: i, end: i });
  }
  return result;
}

describe('File service content: ranges, sizes and streaming', () => {
  let server: TestServer;
  let share: ShareClient;
  let workDir: string;

  beforeAll(async () => {
    server = await startTestServer();
    share = shareService(server).getShareClient(uniqueShare());
    await share.create();
    await share.createDirectory('tree');
    await share.createDirectory('tree/deep');
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-file-content-'));
  }, 30_000);
  afterAll(async () => {
    await stopAndClean(server);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('stores files of 0 B and 1 KiB (uploadData) and 5 MiB (uploadStream) in a directory tree', async () => {
    const empty = share.getDirectoryClient('tree').getFileClient('empty.bin');
    await empty.uploadData(Buffer.alloc(0));
    expect((await empty.getProperties()).contentLength).toBe(0);
    expect((await empty.downloadToBuffer()).length).toBe(0);
    expect((await empty.getRangeList()).rangeList).toEqual([]);

    const small = randomBytes(1024);
    const kib = share.getDirectoryClient('tree').getFileClient('one-kib.bin');
    await kib.uploadData(small);
    expect(sha256(await kib.downloadToBuffer())).toBe(sha256(small));

    const medium = randomBytes(5 * MiB);
    const five = share.getDirectoryClient('tree/deep').getFileClient('five-mib.bin');
    await five.uploadStream(Readable.from([medium.subarray(0, 3 * MiB), medium.subarray(3 * MiB)]), medium.length, 4 * MiB, 4);
    expect((await five.getRangeList()).rangeList).toEqual([{ start: 0, end: 5 * MiB - 1 }]);
    expect(sha256(await five.downloadToBuffer())).toBe(sha256(medium));
    // A range read across the 4 MiB boundary where two Put Ranges meet.
    const across = await five.download(4 * MiB - 10, 20);
    expect((await streamSha256(across.readableStreamBody!)).hash).toBe(sha256(medium.subarray(4 * MiB - 10, 4 * MiB + 10)));
    expect(across.contentRange).toBe(`bytes ${4 * MiB - 10}-${4 * MiB + 9}/${5 * MiB}`);
  });

  it('uploads a 300 MiB file from disk in 4 MiB ranges and streams it back intact', async () => {
    const size = 300 * MiB;
    const source = path.join(workDir, 'big.bin');
    const sourceHash = createHash('sha256');
    await pipeline(
      (async function* () {
        for (let offset = 0; offset < size; offset += 8 * MiB) {
          const chunk = randomBytes(Math.min(8 * MiB, size - offset));
          sourceHash.update(chunk);
          yield chunk;
        }
      })(),
      fs.createWriteStream(source),
    );
    const expected = sourceHash.digest('hex');

    const file = share.getDirectoryClient('tree/deep').getFileClient('three-hundred-mib.bin');
    await file.uploadFile(source);
    expect((await file.getProperties()).contentLength).toBe(size);
    expect((await file.getRangeList()).rangeList).toEqual([{ start: 0, end: size - 1 }]);

    const streamed = await streamSha256((await file.download()).readableStreamBody!);
    expect(streamed).toEqual({ hash: expected, size });

    const target = path.join(workDir, 'big-download.bin');
    await file.downloadToFile(target);
    expect((await streamSha256(fs.createReadStream(target))).hash).toBe(expected);
    fs.rmSync(target);
    fs.rmSync(source);
  }, 120_000);

  it('matches a byte-for-byte model through random updates, clears and resizes', async () => {
    const file = share.rootDirectoryClient.getFileClient('model.bin');
    let model = Buffer.alloc(64 * 1024);
    let written = new Array<boolean>(model.length).fill(false);
    await file.create(model.length);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };

    for (let step = 0; step < 60; step++) {
      const action = random(10);
      if (action < 6 && model.length > 0) {
        const start = random(model.length);
        const length = 1 + random(Math.min(8192, model.length - start));
        const data = randomBytes(length);
        await file.uploadRange(data, start, length);
        data.copy(model, start);
        written.fill(true, start, start + length);
      } else if (action < 9 && model.length > 0) {
        const start = random(model.length);
        const length = 1 + random(Math.min(16384, model.length - start));
        await file.clearRange(start, length);
        model.fill(0, start, start + length);
        written.fill(false, start, start + length);
      } else {
        const size = random(96 * 1024);
        await file.resize(size);
        const next = Buffer.alloc(size);
        model.copy(next, 0, 0, Math.min(size, model.length));
        model = next;
        written = [...written.slice(0, size), ...new Array<boolean>(Math.max(0, size - written.length)).fill(false)];
      }
      if (step % 10 === 9) {
        expect(sha256(await file.downloadToBuffer()), `content after step ${step}`).toBe(sha256(model));
        expect((await file.getRangeList()).rangeList, `ranges after step ${step}`).toEqual(spans(written));
      }
    }
  });

  it('zero-fills unwritten bytes and reports only written ranges', async () => {
    const file = share.rootDirectoryClient.getFileClient('sparse.bin');
    await file.create(10_000);
    await file.uploadRange(Buffer.alloc(100, 7), 5000, 100);
    await file.uploadRange(Buffer.alloc(50, 9), 5100, 50);
    expect((await file.getRangeList()).rangeList).toEqual([{ start: 5000, end: 5149 }]);
    const bytes = await file.downloadToBuffer();
    expect(bytes.length).toBe(10_000);
    expect(bytes.subarray(0, 5000).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(5000, 5100).every((b) => b === 7)).toBe(true);
    expect(bytes.subarray(5100, 5150).every((b) => b === 9)).toBe(true);
    expect(bytes.subarray(5150).every((b) => b === 0)).toBe(true);

    await file.clearRange(5050, 20);
    expect((await file.getRangeList({ range: { offset: 5000, count: 1000 } })).rangeList).toEqual([
      { start: 5000, end: 5049 },
      { start: 5070, end: 5149 },
    ]);
    await file.resize(5060);
    expect((await file.getRangeList()).rangeList).toEqual([{ start: 5000, end: 5049 }]);
    await file.resize(20_000);
    const grown = await file.downloadToBuffer();
    expect(grown.length).toBe(20_000);
    expect(grown.subarray(5050).every((b) => b === 0)).toBe(true);
  });

  it('reads what every kind of write just did, though reads of a small file are cached', async () => {
    const directory = share.rootDirectoryClient;
    const file = directory.getFileClient('cached.bin');
    const read = () => file.downloadToBuffer();
    const model = randomBytes(4096);
    await file.uploadData(model);
    expect((await read()).equals(model)).toBe(true);
    expect((await read()).equals(model)).toBe(true); // now from the cache

    const update = randomBytes(100);
    await file.uploadRange(update, 1000, 100);
    update.copy(model, 1000);
    expect((await read()).equals(model)).toBe(true);

    await file.clearRange(2000, 512);
    model.fill(0, 2000, 2512);
    expect((await read()).equals(model)).toBe(true);

    await file.resize(1500);
    expect((await read()).equals(model.subarray(0, 1500))).toBe(true);
    await file.resize(3000);
    const grown = Buffer.concat([model.subarray(0, 1500), Buffer.alloc(1500)]);
    expect((await read()).equals(grown)).toBe(true);

    await file.setMetadata({ stage: 'two' });
    expect((await file.getProperties()).metadata).toEqual({ stage: 'two' });

    const source = directory.getFileClient('cached-source.bin');
    const copied = randomBytes(2048);
    await source.uploadData(copied);
    await file.startCopyFromURL(source.url);
    expect((await read()).equals(copied)).toBe(true);

    await file.delete();
    await expectStorageError(read(), 404, 'ResourceNotFound');
    await file.create(512);
    expect((await read()).equals(Buffer.alloc(512))).toBe(true);
  });

  it('compacts a file written in many small pieces without changing what it reads', async () => {
    const pieces = 320;
    const piece = 1024;
    const data = randomBytes(pieces * piece);
    const file = share.rootDirectoryClient.getFileClient('fragments.bin');
    await file.create(data.length);
    const contentFiles = () =>
      fs.readdirSync(path.join(server.dataDir, 'blobs')).reduce((sum, dir) => sum + fs.readdirSync(path.join(server.dataDir, 'blobs', dir)).length, 0);
    const before = contentFiles();
    let next = 0;
    const writer = async () => {
      while (next < pieces) {
        const index = next++;
        await file.uploadRange(data.subarray(index * piece, (index + 1) * piece), index * piece, piece);
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    // One content file per Put Range until compaction merges them in the background.
    const deadline = Date.now() + 10_000;
    while (contentFiles() - before > pieces / 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(contentFiles() - before).toBeLessThanOrEqual(pieces / 3);
    expect(sha256(await file.downloadToBuffer())).toBe(sha256(data));
    expect((await file.getRangeList()).rangeList).toEqual([{ start: 0, end: data.length - 1 }]);
  }, 30_000);

  it('answers a range read with its own MD5 when asked', async () => {
    const file = share.rootDirectoryClient.getFileClient('md5.bin');
    const data = randomBytes(3000);
    await file.uploadData(data);
    const response = await file.download(1000, 500, { rangeGetContentMD5: true });
    expect(Buffer.from(response.contentMD5!).toString('base64')).toBe(createHash('md5').update(data.subarray(1000, 1500)).digest('base64'));
  });

  it('checks a Put Range body against its Content-MD5 and stores nothing on a mismatch', async () => {
    const file = share.rootDirectoryClient.getFileClient('checked.bin');
    await file.create(16);
    const good = Buffer.from('0123456789abcdef');
    await file.uploadRange(good, 0, 16, { contentMD5: createHash('md5').update(good).digest() });
    await expectStorageError(file.uploadRange(Buffer.from('XXXXXXXXXXXXXXXX'), 0, 16, { contentMD5: createHash('md5').update(good).digest() }), 400, 'Md5Mismatch');
    expect((await file.downloadToBuffer()).equals(good)).toBe(true);
  });

  it('finishes a download that started before the file was overwritten', async () => {
    const file = share.rootDirectoryClient.getFileClient('overwritten.bin');
    const original = randomBytes(6 * MiB);
    await file.uploadData(original);
    const response = await file.download();
    await file.uploadData(randomBytes(6 * MiB));
    await file.delete();
    expect((await streamSha256(response.readableStreamBody!)).hash).toBe(sha256(original));
  });

  it('logged no internal errors while serving the tests above', () => {
    expect(server.output()).not.toContain('request failed');
  });
});
