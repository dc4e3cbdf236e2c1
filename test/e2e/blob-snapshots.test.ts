import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { until } from '../helpers/wait.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;

const contentFiles = () => fs.readdirSync(path.join(server.dataDir, 'blobs')).flatMap((dir) => fs.readdirSync(path.join(server.dataDir, 'blobs', dir)));

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'snapshots');
});
afterAll(() => server.stop());

describe('Snapshot Blob', () => {
  it('keeps the blob as it was, readable by ?snapshot=, with its own metadata when given', async () => {
    const blob = container.getBlockBlobClient('doc.txt');
    await blob.upload('version 1', 9, { metadata: { stage: 'draft' }, blobHTTPHeaders: { blobContentType: 'text/plain' } });
    const first = await blob.createSnapshot();
    expect(first.snapshot).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    const second = await blob.createSnapshot({ metadata: { stage: 'review' } });
    expect(second.snapshot! > first.snapshot!).toBe(true);
    await blob.upload('version 2, longer', 17);

    expect((await blob.downloadToBuffer()).toString()).toBe('version 2, longer');
    const old = blob.withSnapshot(first.snapshot!);
    expect((await old.downloadToBuffer()).toString()).toBe('version 1');
    const properties = await old.getProperties();
    expect([properties.contentLength, properties.contentType, properties.metadata]).toEqual([9, 'text/plain', { stage: 'draft' }]);
    expect((await blob.withSnapshot(second.snapshot!).getProperties()).metadata).toEqual({ stage: 'review' });
    expect((await old.downloadToBuffer(2, 3)).toString()).toBe('rsi');
  });

  it('is read-only: writes naming a snapshot are refused, and an unknown snapshot is 404', async () => {
    const blob = container.getBlockBlobClient('readonly');
    await blob.upload('x', 1);
    const { snapshot } = await blob.createSnapshot();
    const old = blob.withSnapshot(snapshot!);
    expect(statusAndCode(await errorOf(old.setMetadata({ a: 'b' })))).toEqual([400, 'InvalidQueryParameterValue']);
    expect(statusAndCode(await errorOf(blob.withSnapshot('2000-01-01T00:00:00.0000000Z').getProperties()))).toEqual([404, 'BlobNotFound']);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
    const bad = await fetch(`${server.blob}/${DEV_ACCOUNT}/snapshots/readonly?snapshot=yesterday&${sas}`);
    expect([bad.status, bad.headers.get('x-ms-error-code')]).toEqual([400, 'InvalidQueryParameterValue']);
  });

  it('lists snapshots before their blob, oldest first, with include=snapshots, across pages', async () => {
    const blob = container.getBlockBlobClient('listed');
    await blob.upload('a', 1);
    const times = [(await blob.createSnapshot()).snapshot!, (await blob.createSnapshot()).snapshot!];
    await container.getBlockBlobClient('listed2').upload('b', 1);
    const seen: [string, string | undefined][] = [];
    for await (const page of container.listBlobsFlat({ prefix: 'listed', includeSnapshots: true }).byPage({ maxPageSize: 2 })) {
      for (const item of page.segment.blobItems) seen.push([item.name, item.snapshot || undefined]);
    }
    expect(seen).toEqual([
      ['listed', times[0]],
      ['listed', times[1]],
      ['listed', undefined],
      ['listed2', undefined],
    ]);
    const plain = [];
    for await (const item of container.listBlobsFlat({ prefix: 'listed' })) plain.push(item.name);
    expect(plain).toEqual(['listed', 'listed2']);
  });

  it('stops a plain delete while snapshots exist; include deletes both, only just the snapshots, ?snapshot= one', async () => {
    const blob = container.getBlockBlobClient('deleting');
    await blob.upload('x', 1);
    const [one, two] = [(await blob.createSnapshot()).snapshot!, (await blob.createSnapshot()).snapshot!];
    expect(statusAndCode(await errorOf(blob.delete()))).toEqual([409, 'SnapshotsPresent']);
    await blob.withSnapshot(one).delete();
    expect(statusAndCode(await errorOf(blob.withSnapshot(one).getProperties()))).toEqual([404, 'BlobNotFound']);
    await blob.delete({ deleteSnapshots: 'only' });
    expect(statusAndCode(await errorOf(blob.withSnapshot(two).getProperties()))).toEqual([404, 'BlobNotFound']);
    expect((await blob.getProperties()).contentLength).toBe(1);
    await blob.createSnapshot();
    await blob.delete({ deleteSnapshots: 'include' });
    expect(statusAndCode(await errorOf(blob.getProperties()))).toEqual([404, 'BlobNotFound']);
  });

  it('shares content with its blob, and frees it only when the last holder goes', async () => {
    const before = contentFiles().length;
    const blob = container.getBlockBlobClient('shared');
    const body = Buffer.alloc(200 * 1024, 1);
    await blob.uploadData(body);
    const { snapshot } = await blob.createSnapshot();
    expect(contentFiles().length).toBe(before + 1);
    await blob.uploadData(Buffer.alloc(200 * 1024, 2));
    await until(() => contentFiles().length === before + 2);
    expect(contentFiles().length).toBe(before + 2);
    expect((await blob.withSnapshot(snapshot!).downloadToBuffer()).equals(body)).toBe(true);
    await blob.delete({ deleteSnapshots: 'include' });
    await until(() => contentFiles().length === before);
    expect(contentFiles().length).toBe(before);
  });

  it('can be promoted by copying it over its blob', async () => {
    const blob = container.getBlockBlobClient('promote');
    await blob.upload('good', 4);
    const { snapshot } = await blob.createSnapshot();
    await blob.upload('broken', 6);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
    await blob.syncCopyFromURL(`${blob.withSnapshot(snapshot!).url}&${sas}`);
    expect((await blob.downloadToBuffer()).toString()).toBe('good');
    const listed = [];
    for await (const item of container.listBlobsFlat({ prefix: 'promote', includeSnapshots: true })) listed.push(item.snapshot || 'base');
    expect(listed).toEqual([snapshot, 'base']);
  });

  it('survives kill -9 once acknowledged', async () => {
    const first = await startTestServer();
    const blobs = BlobServiceClient.fromConnectionString(devConnectionString(first), { retryOptions: { maxTries: 1 } }).getContainerClient('durable');
    await blobs.create();
    await blobs.getBlockBlobClient('kept').upload('before', 6);
    const { snapshot } = await blobs.getBlockBlobClient('kept').createSnapshot();
    await first.stop('SIGKILL');
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const again = BlobServiceClient.fromConnectionString(devConnectionString(second)).getContainerClient('durable').getBlockBlobClient('kept');
      expect((await again.withSnapshot(snapshot!).downloadToBuffer()).toString()).toBe('before');
    } finally {
      await second.stop();
    }
  });
});
