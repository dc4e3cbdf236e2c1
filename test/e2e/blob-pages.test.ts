import { BlobSASPermissions, BlobServiceClient, type ContainerClient, type PageBlobClient } from '@azure/storage-blob';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { rawRequest } from '../helpers/raw-socket.js';
import { devConnectionString, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'pages');
});
afterAll(() => server.stop());

const KiB = 1024;
const TiB = 1024 ** 4;

/** Disk used by the data directory, in KiB (sparse or unwritten bytes count for nothing). */
function diskUsage(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
}

async function pageList(blob: PageBlobClient, options: { prevSnapshot?: string } = {}) {
  const ranges: string[] = [];
  const pages = options.prevSnapshot ? blob.listPageRangesDiff(0, 0, options.prevSnapshot) : blob.listPageRanges();
  for await (const range of pages) ranges.push(`${range.isClear ? 'clear ' : ''}${range.start}-${range.end}`);
  return ranges;
}

describe('page blobs', () => {
  it('are created sparse: a 1 TiB page blob costs no disk and reads as zeros', async () => {
    const before = diskUsage(server.dataDir);
    const disk = container.getPageBlobClient('disk.vhd');
    await disk.create(TiB, { blobSequenceNumber: 7, metadata: { os: 'linux' }, blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
    const properties = await disk.getProperties();
    expect([properties.blobType, properties.contentLength, properties.blobSequenceNumber, properties.metadata, properties.accessTier]).toEqual([
      'PageBlob',
      TiB,
      7,
      { os: 'linux' },
      undefined,
    ]);
    expect(diskUsage(server.dataDir) - before).toBeLessThan(1024);
    const tail = await disk.downloadToBuffer(TiB - 4 * KiB, 4 * KiB);
    expect(tail.equals(Buffer.alloc(4 * KiB))).toBe(true);
    expect(await pageList(disk)).toEqual([]);
  });

  it('write and clear pages, small and large, and read them back between zeros', async () => {
    const blob = container.getPageBlobClient('data.bin');
    await blob.create(4 * 1024 * KiB);
    const expected = Buffer.alloc(4 * 1024 * KiB);
    const write = async (offset: number, data: Buffer) => {
      const answer = await blob.uploadPages(data, offset, data.length);
      data.copy(expected, offset);
      return answer;
    };
    const small = randomBytes(8 * KiB);
    const answer = await write(0, small);
    expect(answer.contentMD5).toBeUndefined();
    expect(answer.blobSequenceNumber).toBe(0);
    await write(8 * KiB, randomBytes(512));
    const large = randomBytes(1024 * KiB);
    await write(2048 * KiB, large);
    // Overwrite the middle of the large write, and clear a page inside it.
    await write(2048 * KiB + 4096, randomBytes(1024));
    await blob.clearPages(2048 * KiB + 8192, 512);
    expected.fill(0, 2048 * KiB + 8192, 2048 * KiB + 8192 + 512);
    expect((await blob.downloadToBuffer()).equals(expected)).toBe(true);
    expect((await blob.downloadToBuffer(2048 * KiB + 4000, 5000)).equals(expected.subarray(2048 * KiB + 4000, 2048 * KiB + 9000))).toBe(true);
    // Touching writes list as one range.
    expect(await pageList(blob)).toEqual([`0-${8 * KiB + 511}`, `${2048 * KiB}-${2048 * KiB + 8191}`, `${2048 * KiB + 8704}-${3072 * KiB - 1}`]);
    const ranges = await blob.getPageRanges(0, 16 * KiB);
    // The client reports a range as its offset and its last byte's distance from it.
    expect(ranges.pageRange).toEqual([{ offset: 0, count: 8 * KiB + 511 }]);
    expect(ranges.blobContentLength).toBe(4 * 1024 * KiB);
    // Pages are listed a page of results at a time.
    const firstPage = await blob.listPageRanges().byPage({ maxPageSize: 2 }).next();
    expect(firstPage.value.pageRange).toHaveLength(2);
    expect(firstPage.value.continuationToken).toBeTruthy();
    const everyPage = [];
    for await (const page of blob.listPageRanges().byPage({ maxPageSize: 1 })) everyPage.push(page.pageRange?.[0]?.start);
    expect(everyPage).toEqual([0, 2048 * KiB, 2048 * KiB + 8704]);
  });

  it('refuse unaligned pages, pages past the end, bodies of the wrong length and writes to other blob types', async () => {
    const blob = container.getPageBlobClient('strict.bin');
    await blob.create(8 * KiB);
    expect(statusAndCode(await errorOf(blob.uploadPages(Buffer.alloc(100), 0, 100)))).toEqual([416, 'InvalidPageRange']);
    expect(statusAndCode(await errorOf(blob.uploadPages(Buffer.alloc(512), 100, 512)))).toEqual([416, 'InvalidPageRange']);
    expect(statusAndCode(await errorOf(blob.uploadPages(Buffer.alloc(512), 8 * KiB, 512)))).toEqual([416, 'InvalidPageRange']);
    expect(statusAndCode(await errorOf(blob.clearPages(0, 1000)))).toEqual([416, 'InvalidPageRange']);
    expect(statusAndCode(await errorOf(container.getPageBlobClient('odd.bin').create(1000)))).toEqual([400, 'InvalidHeaderValue']);
    expect(statusAndCode(await errorOf(container.getPageBlobClient('huge.bin').create(9 * TiB)))).toEqual([400, 'InvalidHeaderValue']);
    expect(statusAndCode(await errorOf(container.getPageBlobClient('missing.bin').uploadPages(Buffer.alloc(512), 0, 512)))).toEqual([404, 'BlobNotFound']);
    const block = container.getBlockBlobClient('block.txt');
    await block.upload('text', 4);
    expect(statusAndCode(await errorOf(container.getPageBlobClient('block.txt').uploadPages(Buffer.alloc(512), 0, 512)))).toEqual([409, 'InvalidBlobType']);
    expect(statusAndCode(await errorOf(container.getPageBlobClient('block.txt').getPageRanges()))).toEqual([409, 'InvalidBlobType']);
    expect(statusAndCode(await errorOf(container.getBlockBlobClient('strict.bin').stageBlock('AAAA', 'x', 1)))).toEqual([409, 'InvalidBlobType']);
    expect(statusAndCode(await errorOf(blob.setAccessTier('Cool')))).toEqual([409, 'InvalidBlobType']);

    // What the client cannot send wrong, raw HTTP can: each answer names the header to fix.
    const url = new URL(blob.url);
    const sas = await blob.generateSasUrl({ permissions: BlobSASPermissions.parse('rw'), expiresOn: new Date(Date.now() + 3600_000) });
    const signed = new URL(sas);
    const putSigned = (headers: string, body = '') =>
      rawRequest(server.blob, `PUT ${signed.pathname}${signed.search}&comp=page HTTP/1.1\r\nHost: ${url.host}\r\nx-ms-version: 2025-11-05\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect(await putSigned('x-ms-range: bytes=0-511\r\n', 'x'.repeat(512))).toMatch(/^HTTP\/1.1 400[\s\S]*MissingRequiredHeader[\s\S]*x-ms-page-write/);
    expect(await putSigned('x-ms-page-write: replace\r\nx-ms-range: bytes=0-511\r\n', 'x'.repeat(512))).toMatch(/^HTTP\/1.1 400[\s\S]*InvalidHeaderValue[\s\S]*x-ms-page-write/);
    expect(await putSigned('x-ms-page-write: update\r\n', 'x'.repeat(512))).toMatch(/^HTTP\/1.1 400[\s\S]*MissingRequiredHeader[\s\S]*x-ms-range/);
    expect(await putSigned('x-ms-page-write: update\r\nx-ms-range: bytes=0-1023\r\n', 'x'.repeat(512))).toMatch(/^HTTP\/1.1 400[\s\S]*InvalidHeaderValue[\s\S]*Content-Length/);
    expect(await putSigned('x-ms-page-write: clear\r\nx-ms-range: bytes=0-511\r\n', 'x'.repeat(512))).toMatch(/^HTTP\/1.1 400[\s\S]*InvalidHeaderValue/);
    const create = (headers: string) =>
      rawRequest(server.blob, `PUT ${signed.pathname}${signed.search} HTTP/1.1\r\nHost: ${url.host}\r\nx-ms-version: 2025-11-05\r\nx-ms-blob-type: PageBlob\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    expect(await create('')).toMatch(/^HTTP\/1.1 400[\s\S]*MissingRequiredHeader[\s\S]*x-ms-blob-content-length/);
    expect(await create('x-ms-blob-content-length: -512\r\n')).toMatch(/^HTTP\/1.1 400[\s\S]*InvalidHeaderValue/);
    expect(await create('x-ms-blob-content-length: 512\r\nx-ms-blob-sequence-number: x\r\n')).toMatch(/^HTTP\/1.1 400[\s\S]*x-ms-blob-sequence-number/);
    // Nothing was changed by the refused requests.
    expect((await blob.getProperties()).contentLength).toBe(8 * KiB);
    expect(await pageList(blob)).toEqual([]);
  });

  it('keep a sequence number that writes can be made conditional on', async () => {
    const blob = container.getPageBlobClient('sequenced.bin');
    await blob.create(4 * KiB, { blobSequenceNumber: 5 });
    expect((await blob.updateSequenceNumber('increment')).blobSequenceNumber).toBe(6);
    expect((await blob.updateSequenceNumber('max', 3)).blobSequenceNumber).toBe(6);
    expect((await blob.updateSequenceNumber('max', 9)).blobSequenceNumber).toBe(9);
    expect((await blob.updateSequenceNumber('update', 2)).blobSequenceNumber).toBe(2);
    const page = Buffer.alloc(512, 1);
    await blob.uploadPages(page, 0, 512, { conditions: { ifSequenceNumberEqualTo: 2 } });
    await blob.uploadPages(page, 512, 512, { conditions: { ifSequenceNumberLessThanOrEqualTo: 2 } });
    for (const conditions of [{ ifSequenceNumberEqualTo: 3 }, { ifSequenceNumberLessThan: 2 }, { ifSequenceNumberLessThanOrEqualTo: 1 }]) {
      expect(statusAndCode(await errorOf(blob.uploadPages(page, 1024, 512, { conditions })))).toEqual([412, 'SequenceNumberConditionNotMet']);
    }
    expect(statusAndCode(await errorOf(blob.clearPages(0, 512, { conditions: { ifSequenceNumberEqualTo: 1 } })))).toEqual([412, 'SequenceNumberConditionNotMet']);
    expect(await pageList(blob)).toEqual(['0-1023']);
    expect((await blob.getProperties()).blobSequenceNumber).toBe(2);
  });

  it('resize: shrinking forgets the pages past the end, growing adds zeros', async () => {
    const blob = container.getPageBlobClient('resized.bin');
    await blob.create(8 * KiB);
    await blob.uploadPages(Buffer.alloc(8 * KiB, 7), 0, 8 * KiB);
    await blob.resize(2 * KiB);
    expect(await pageList(blob)).toEqual([`0-${2 * KiB - 1}`]);
    await blob.resize(4 * KiB);
    const data = await blob.downloadToBuffer();
    expect(data.equals(Buffer.concat([Buffer.alloc(2 * KiB, 7), Buffer.alloc(2 * KiB)]))).toBe(true);
    expect(statusAndCode(await errorOf(blob.resize(1000)))).toEqual([400, 'InvalidHeaderValue']);
    expect(statusAndCode(await errorOf(container.getBlockBlobClient('block.txt').setHTTPHeaders({}, {}).then(() => container.getPageBlobClient('block.txt').resize(512))))).toEqual([409, 'InvalidBlobType']);
  });

  it('snapshot, and list the pages written and cleared since a snapshot', async () => {
    const blob = container.getPageBlobClient('diffed.bin');
    await blob.create(16 * KiB);
    await blob.uploadPages(Buffer.alloc(4 * KiB, 1), 0, 4 * KiB);
    const { snapshot } = await blob.createSnapshot();
    await blob.uploadPages(Buffer.alloc(512, 2), 8 * KiB, 512);
    await blob.uploadPages(Buffer.alloc(512, 3), 1024, 512);
    await blob.clearPages(3 * KiB, KiB);
    expect(await pageList(blob, { prevSnapshot: snapshot! })).toEqual(['1024-1535', `clear ${3 * KiB}-${4 * KiB - 1}`, `${8 * KiB}-${8 * KiB + 511}`]);
    const diff = await blob.getPageRangesDiff(0, 16 * KiB, snapshot!);
    expect([diff.pageRange, diff.clearRange]).toEqual([
      [
        { offset: 1024, count: 511 },
        { offset: 8 * KiB, count: 511 },
      ],
      [{ offset: 3 * KiB, count: KiB - 1 }],
    ]);
    // The snapshot keeps its pages and bytes.
    const frozen = blob.withSnapshot(snapshot!);
    expect(await pageList(frozen)).toEqual([`0-${4 * KiB - 1}`]);
    expect((await frozen.downloadToBuffer(0, 4 * KiB)).equals(Buffer.alloc(4 * KiB, 1))).toBe(true);
    // A diff between two snapshots.
    const { snapshot: later } = await blob.createSnapshot();
    expect(await pageList(blob.withSnapshot(later!), { prevSnapshot: snapshot! })).toEqual(['1024-1535', `clear ${3 * KiB}-${4 * KiB - 1}`, `${8 * KiB}-${8 * KiB + 511}`]);
    expect(statusAndCode(await errorOf(blob.withSnapshot(snapshot!).getPageRangesDiff(0, 512, later!)))).toEqual([400, 'PreviousSnapshotCannotBeNewer']);
    expect(statusAndCode(await errorOf(blob.getPageRangesDiff(0, 512, '2020-01-01T00:00:00.0000000Z')))).toEqual([409, 'PreviousSnapshotNotFound']);
    expect(statusAndCode(await errorOf(frozen.uploadPages(Buffer.alloc(512), 0, 512)))).toEqual([400, 'InvalidQueryParameterValue']);
    // Deleting the blob with its snapshots frees every page.
    await blob.delete({ deleteSnapshots: 'include' });
    expect(statusAndCode(await errorOf(frozen.getProperties()))).toEqual([404, 'BlobNotFound']);
  });

  it('take pages from a URL, are copied whole by Copy Blob, and become block blobs through Put Blob From URL', async () => {
    const source = container.getPageBlobClient('source.bin');
    await source.create(8 * KiB);
    const bytes = randomBytes(2 * KiB);
    await source.uploadPages(bytes, 2 * KiB, 2 * KiB);
    const sourceUrl = await source.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) });

    const target = container.getPageBlobClient('target.bin');
    await target.create(4 * KiB);
    await target.uploadPagesFromURL(sourceUrl, 2 * KiB, 0, 2 * KiB);
    expect((await target.downloadToBuffer(0, 2 * KiB)).equals(bytes)).toBe(true);
    expect(statusAndCode(await errorOf(target.uploadPagesFromURL(sourceUrl, 2 * KiB, 0, 1000)))).toEqual([416, 'InvalidPageRange']);

    const copy = container.getPageBlobClient('copy.bin');
    await copy.syncCopyFromURL(sourceUrl);
    expect([(await copy.getProperties()).blobType, await pageList(copy)]).toEqual(['PageBlob', [`${2 * KiB}-${4 * KiB - 1}`]]);
    expect((await copy.downloadToBuffer()).equals(await source.downloadToBuffer())).toBe(true);
    // The copy shares content with its source, and outlives its deletion.
    await source.uploadPages(Buffer.alloc(2 * KiB), 2 * KiB, 2 * KiB);
    expect((await copy.downloadToBuffer(2 * KiB, 2 * KiB)).equals(bytes)).toBe(true);

    const asBlock = container.getBlockBlobClient('flattened.bin');
    const copyUrl = await copy.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) });
    await asBlock.syncUploadFromURL(copyUrl);
    const flattened = await asBlock.downloadToBuffer();
    expect([flattened.length, flattened.subarray(2 * KiB, 4 * KiB).equals(bytes), (await asBlock.getProperties()).blobType]).toEqual([8 * KiB, true, 'BlockBlob']);
  });

  it('are copied incrementally from snapshots, and the copy is refused writes', async () => {
    const source = container.getPageBlobClient('incremental-source.bin');
    await source.create(4 * KiB);
    await source.uploadPages(Buffer.alloc(KiB, 1), 0, KiB);
    const first = (await source.createSnapshot()).snapshot!;
    await source.uploadPages(Buffer.alloc(KiB, 2), 2 * KiB, KiB);
    const second = (await source.createSnapshot()).snapshot!;
    const sas = new URL(await source.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) }));
    const at = (snapshot: string) => `${sas.origin}${sas.pathname}?snapshot=${encodeURIComponent(snapshot)}&${sas.search.slice(1)}`;

    const backup = container.getPageBlobClient('backup.bin');
    expect((await backup.startCopyIncremental(at(first))).copyStatus).toBe('success');
    const afterFirst = await backup.getProperties();
    expect([afterFirst.isIncrementalCopy, afterFirst.blobType, afterFirst.contentLength]).toEqual([true, 'PageBlob', 4 * KiB]);
    const firstCopy = afterFirst.destinationSnapshot!;
    await backup.startCopyIncremental(at(second));
    const secondCopy = (await backup.getProperties()).destinationSnapshot!;
    expect(await pageList(backup.withSnapshot(secondCopy), { prevSnapshot: firstCopy })).toEqual([`${2 * KiB}-${3 * KiB - 1}`]);
    expect((await backup.withSnapshot(secondCopy).downloadToBuffer(2 * KiB, KiB)).equals(Buffer.alloc(KiB, 2))).toBe(true);

    expect(statusAndCode(await errorOf(backup.uploadPages(Buffer.alloc(512), 0, 512)))).toEqual([409, 'OperationNotAllowedOnIncrementalCopyBlob']);
    expect(statusAndCode(await errorOf(backup.startCopyIncremental(at(first))))).toEqual([409, 'IncrementalCopyOfEralierVersionSnapshotNotAllowed']);
    expect(statusAndCode(await errorOf(backup.startCopyIncremental(sas.href)))).toEqual([409, 'IncrementalCopySourceMustBeSnapshot']);
    expect(statusAndCode(await errorOf(container.getPageBlobClient('block.txt').startCopyIncremental(at(first))))).toEqual([409, 'InvalidBlobType']);
    const listed = [];
    for await (const item of container.listBlobsFlat({ prefix: 'backup.bin' })) listed.push([item.properties.blobType, item.properties.incrementalCopy, item.properties.blobSequenceNumber]);
    expect(listed).toEqual([['PageBlob', true, 0]]);
  });

  it('honour leases and land concurrent writes to distinct pages', async () => {
    const blob = container.getPageBlobClient('leased.bin');
    await blob.create(64 * KiB);
    const lease = blob.getBlobLeaseClient();
    await lease.acquireLease(-1);
    expect(statusAndCode(await errorOf(blob.uploadPages(Buffer.alloc(512), 0, 512)))).toEqual([412, 'LeaseIdMissing']);
    expect(statusAndCode(await errorOf(blob.resize(512)))).toEqual([412, 'LeaseIdMissing']);
    const pages = Array.from({ length: 32 }, (_, i) => Buffer.alloc(2 * KiB, i + 1));
    await Promise.all(pages.map((page, i) => blob.uploadPages(page, i * 2 * KiB, 2 * KiB, { conditions: { leaseId: lease.leaseId } })));
    expect((await blob.downloadToBuffer()).equals(Buffer.concat(pages))).toBe(true);
    expect(await pageList(blob)).toEqual([`0-${64 * KiB - 1}`]);
    await lease.releaseLease();
  });

  it('keep every acknowledged page write across kill -9', async () => {
    const first = await startTestServer();
    const client = BlobServiceClient.fromConnectionString(devConnectionString(first), { retryOptions: { maxTries: 1 } }).getContainerClient('durable');
    await client.create();
    const blob = client.getPageBlobClient('disk.img');
    await blob.create(512 * 1024 * KiB);
    const acknowledged: number[] = [];
    const writing = (async () => {
      for (let i = 0; i < 2000; i++) {
        // Small pages committed inline, and every fifth one large enough for a content file of its own.
        const size = i % 5 === 0 ? 128 * KiB : 4 * KiB;
        await blob.uploadPages(Buffer.alloc(size, (i % 250) + 1), i * 256 * KiB, size);
        acknowledged.push(i);
      }
    })().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 400));
    await first.stop('SIGKILL');
    await writing;
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const again = BlobServiceClient.fromConnectionString(devConnectionString(second)).getContainerClient('durable').getPageBlobClient('disk.img');
      expect(acknowledged.length).toBeGreaterThan(0);
      const written = await pageList(again);
      const data = await again.downloadToBuffer(0, (acknowledged.length + 1) * 256 * KiB);
      for (const i of acknowledged) {
        const size = i % 5 === 0 ? 128 * KiB : 4 * KiB;
        expect(data.subarray(i * 256 * KiB, i * 256 * KiB + size).equals(Buffer.alloc(size, (i % 250) + 1))).toBe(true);
      }
      // A write cut off by the kill is there whole or not at all.
      expect(written.length).toBeGreaterThanOrEqual(acknowledged.length);
      expect(written.length).toBeLessThanOrEqual(acknowledged.length + 1);
    } finally {
      await second.stop();
    }
  });
});
