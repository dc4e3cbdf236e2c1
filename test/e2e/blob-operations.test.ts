import { BlobSASPermissions, BlobServiceClient, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';
import { errorOf } from '../helpers/errors.js';

let server: TestServer;
let service: BlobServiceClient;

beforeAll(async () => {
  server = await startTestServer();
  service = BlobServiceClient.fromConnectionString(devConnectionString(server));
});
afterAll(async () => {
  await server.stop();
});

let containerCount = 0;
async function newContainer(): Promise<ContainerClient> {
  const container = service.getContainerClient(`ops-${Date.now()}-${containerCount++}`);
  await container.create();
  return container;
}

describe('containers', () => {
  it('creates, refuses a duplicate, keeps metadata, and deletes', async () => {
    const container = service.getContainerClient(`meta-${Date.now()}`);
    await container.create({ metadata: { owner: 'alice' } });
    const duplicate = await errorOf(container.create());
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.code).toBe('ContainerAlreadyExists');
    expect((await container.getProperties()).metadata).toEqual({ owner: 'alice' });
    await container.setMetadata({ owner: 'bob', team: 'ml' });
    expect((await container.getProperties()).metadata).toEqual({ owner: 'bob', team: 'ml' });
    await container.delete();
    expect(await container.exists()).toBe(false);
    expect((await errorOf(container.delete())).code).toBe('ContainerNotFound');
  });

  it('lists with prefix, paging and metadata', async () => {
    const prefix = `list${Date.now()}-`;
    for (let i = 0; i < 5; i++) await service.getContainerClient(`${prefix}${i}`).create({ metadata: { index: String(i) } });
    const pages = [];
    for await (const page of service.listContainers({ prefix, includeMetadata: true }).byPage({ maxPageSize: 2 })) {
      pages.push(page.containerItems.map((item) => [item.name, item.metadata?.index]));
    }
    expect(pages).toEqual([
      [[`${prefix}0`, '0'], [`${prefix}1`, '1']],
      [[`${prefix}2`, '2'], [`${prefix}3`, '3']],
      [[`${prefix}4`, '4']],
    ]);
  });

  it('stores the public access level and stored access policies', async () => {
    const container = await newContainer();
    const expiresOn = new Date(Date.now() + 3600_000);
    await container.setAccessPolicy('blob', [{ id: 'readers', accessPolicy: { permissions: 'r', expiresOn } }]);
    const policy = await container.getAccessPolicy();
    expect(policy.blobPublicAccess).toBe('blob');
    expect(policy.signedIdentifiers.map((s) => [s.id, s.accessPolicy.permissions])).toEqual([['readers', 'r']]);
    expect(policy.signedIdentifiers[0]!.accessPolicy.expiresOn?.getTime()).toBe(expiresOn.getTime());
  });

  it('applies metadata, an access policy and a lease that arrive at the same moment, all of them', async () => {
    const container = await newContainer();
    for (let round = 0; round < 20; round++) {
      const lease = container.getBlobLeaseClient();
      await Promise.all([
        container.setMetadata({ round: String(round) }, { conditions: {} }),
        container.setAccessPolicy(undefined, [{ id: `policy-${round}`, accessPolicy: { permissions: 'r' } }]),
        lease.acquireLease(15),
      ]);
      const properties = await container.getProperties();
      expect([properties.metadata?.round, properties.leaseState]).toEqual([String(round), 'leased']);
      expect((await container.getAccessPolicy()).signedIdentifiers.map((identifier) => identifier.id)).toEqual([`policy-${round}`]);
      await lease.releaseLease();
    }
  });

  it('gets and sets service properties', async () => {
    await service.setProperties({ deleteRetentionPolicy: { enabled: false }, cors: [] });
    const properties = await service.getProperties();
    expect(properties.deleteRetentionPolicy?.enabled).toBe(false);
    expect(properties.blobAnalyticsLogging?.version).toBe('1.0');
  });
});

describe('blobs', () => {
  it('round-trips bytes, content headers, metadata and MD5', async () => {
    const container = await newContainer();
    const blob = container.getBlockBlobClient('dir/a b+c%ü.txt');
    const data = randomBytes(3000);
    const uploaded = await blob.upload(data, data.length, {
      blobHTTPHeaders: { blobContentType: 'text/plain', blobContentLanguage: 'en', blobCacheControl: 'no-cache', blobContentDisposition: 'inline' },
      metadata: { kind: 'sample' },
    });
    expect(uploaded.contentMD5).toEqual(createHash('md5').update(data).digest());
    const properties = await blob.getProperties();
    expect(properties.contentLength).toBe(3000);
    expect(properties.contentType).toBe('text/plain');
    expect(properties.contentLanguage).toBe('en');
    expect(properties.cacheControl).toBe('no-cache');
    expect(properties.contentDisposition).toBe('inline');
    expect(properties.metadata).toEqual({ kind: 'sample' });
    expect(properties.etag).toBe(uploaded.etag);
    expect(await blob.downloadToBuffer()).toEqual(data);

    await blob.setHTTPHeaders({ blobContentType: 'application/json' });
    const updated = await blob.getProperties();
    expect(updated.contentType).toBe('application/json');
    expect(updated.contentLanguage).toBeUndefined();
    expect(updated.etag).not.toBe(uploaded.etag);
    await blob.setMetadata({ a: '1' });
    expect((await blob.getProperties()).metadata).toEqual({ a: '1' });
  });

  it('keeps the creation time across overwrites (Put Blob, Put Block List) and takes a new one after a delete', async () => {
    const blob = (await newContainer()).getBlockBlobClient('born.txt');
    await blob.upload('first', 5);
    const born = await blob.getProperties();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await blob.upload('second', 6);
    const blockId = Buffer.from('block-1').toString('base64');
    await blob.stageBlock(blockId, Buffer.from('third'), 5);
    await blob.commitBlockList([blockId]);
    const overwritten = await blob.getProperties();
    expect(overwritten.createdOn).toEqual(born.createdOn);
    expect(overwritten.lastModified!.getTime()).toBeGreaterThan(born.lastModified!.getTime());
    await blob.delete();
    await blob.upload('reborn', 6);
    expect((await blob.getProperties()).createdOn!.getTime()).toBeGreaterThan(born.createdOn!.getTime());
  });

  it('serves ranges through both Range and x-ms-range', async () => {
    const container = await newContainer();
    const blob = container.getBlockBlobClient('ranged');
    const data = randomBytes(200_000);
    await blob.upload(data, data.length);
    expect(await blob.downloadToBuffer(1000, 5000)).toEqual(data.subarray(1000, 6000));
    const tail = await blob.download(199_990);
    expect(tail.contentRange).toBe('bytes 199990-199999/200000');
    const raw = await fetch(blob.url.replace(/\?.*/, ''), { headers: { range: 'bytes=10-19' } });
    // Anonymous: a private container answers 404 whatever the range.
    expect(raw.status).toBe(404);
    const md5Range = await blob.download(0, 1024, { rangeGetContentMD5: true });
    expect(md5Range.contentMD5).toEqual(createHash('md5').update(data.subarray(0, 1024)).digest());
  });

  it('honours conditional headers with 304, 412 and 409 as Azure does', async () => {
    const container = await newContainer();
    const blob = container.getBlockBlobClient('conditional');
    const { etag, lastModified } = await blob.upload('v1', 2);
    expect((await errorOf(blob.download(0, undefined, { conditions: { ifNoneMatch: etag } }))).statusCode).toBe(304);
    expect((await errorOf(blob.download(0, undefined, { conditions: { ifMatch: '"0xdead"' } }))).statusCode).toBe(412);
    const later = new Date(lastModified!.getTime() + 5000);
    expect((await errorOf(blob.getProperties({ conditions: { ifModifiedSince: later } }))).statusCode).toBe(304);
    expect((await errorOf(blob.upload('v2', 2, { conditions: { ifMatch: '"0xdead"' } }))).code).toBe('ConditionNotMet');
    expect((await errorOf(blob.upload('v2', 2, { conditions: { ifNoneMatch: '*' } }))).code).toBe('BlobAlreadyExists');
    await blob.upload('v2', 2, { conditions: { ifMatch: etag } });
    expect((await blob.downloadToBuffer()).toString()).toBe('v2');
    expect((await errorOf(blob.delete({ conditions: { ifUnmodifiedSince: new Date(lastModified!.getTime() - 5000) } }))).statusCode).toBe(412);
  });

  it('deletes, and 404s what is gone', async () => {
    const container = await newContainer();
    const blob = container.getBlockBlobClient('gone');
    await blob.upload('x', 1);
    await blob.delete();
    expect((await errorOf(blob.getProperties())).statusCode).toBe(404);
    expect((await errorOf(blob.download())).code).toBe('BlobNotFound');
    expect((await errorOf(service.getContainerClient('nosuchcontainer').getBlockBlobClient('x').download())).code).toBe('ContainerNotFound');
  });
});

describe('blocks', () => {
  it('commits committed, uncommitted and latest blocks and lists them', async () => {
    const container = await newContainer();
    const blob = container.getBlockBlobClient('blocks');
    const id = (n: number) => Buffer.from(`block-${String(n).padStart(4, '0')}`).toString('base64');
    await blob.stageBlock(id(1), Buffer.from('aaa'), 3);
    await blob.stageBlock(id(2), Buffer.from('bbbb'), 4);
    let list = await blob.getBlockList('all');
    expect(list.uncommittedBlocks!.map((b) => [b.name, b.size])).toEqual([[id(1), 3], [id(2), 4]]);
    await blob.commitBlockList([id(2), id(1)], { metadata: { built: 'blocks' } });
    expect((await blob.downloadToBuffer()).toString()).toBe('bbbbaaa');
    list = await blob.getBlockList('all');
    expect(list.committedBlocks!.map((b) => b.name)).toEqual([id(2), id(1)]);
    expect(list.uncommittedBlocks).toEqual([]);

    // Latest prefers the uncommitted block over the committed one with the same id.
    await blob.stageBlock(id(1), Buffer.from('ZZ'), 2);
    await blob.commitBlockList([id(1), id(2), id(1)]);
    expect((await blob.downloadToBuffer()).toString()).toBe('ZZbbbbZZ');
    const missing = await errorOf(blob.commitBlockList([id(9)]));
    expect(missing.code).toBe('InvalidBlockList');
    expect((await blob.downloadToBuffer()).toString()).toBe('ZZbbbbZZ');
  });

  it('uploads and downloads multi-block files and streams', async () => {
    const container = await newContainer();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-files-'));
    const source = path.join(dir, 'in.bin');
    const data = randomBytes(9 * 1024 * 1024 + 17);
    fs.writeFileSync(source, data);
    const blob = container.getBlockBlobClient('file.bin');
    await blob.uploadFile(source, { blockSize: 2 * 1024 * 1024, concurrency: 3, maxSingleShotSize: 1024 * 1024 });
    expect((await blob.getBlockList('committed')).committedBlocks!.length).toBe(5);
    const target = path.join(dir, 'out.bin');
    await blob.downloadToFile(target);
    // Buffer.equals: vitest's deep equality walks megabytes byte by byte.
    expect(fs.readFileSync(target).equals(data)).toBe(true);
    const streamed = container.getBlockBlobClient('stream.bin');
    await streamed.uploadStream(fs.createReadStream(source), 1024 * 1024, 4);
    expect((await streamed.downloadToBuffer()).equals(data)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('downloads in flight', () => {
  it('finish even when the blob is deleted while they stream', async () => {
    const container = await newContainer();
    const blob = container.getBlockBlobClient('many-extents');
    const data = randomBytes(24 * 1024 * 1024);
    await blob.uploadData(data, { blockSize: 1024 * 1024, maxSingleShotSize: 1024 * 1024, concurrency: 4 });
    const response = await blob.download();
    const stream = response.readableStreamBody!;
    const chunks: Buffer[] = [];
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    chunks.push(first);
    stream.pause();
    await blob.delete();
    // Give the server a moment to unlink whatever it would unlink.
    await new Promise((resolve) => setTimeout(resolve, 100));
    stream.resume();
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});

describe('downloads at once', () => {
  it('each get their own bytes, while others are abandoned midway, and the server logs no error', async () => {
    const MiB = 1024 * 1024;
    const container = await newContainer();
    const blobs = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const data = randomBytes(5 * MiB + i * 12_345);
        const blob = container.getBlockBlobClient(`concurrent-${i}`);
        await blob.uploadData(data, { blockSize: 2 * MiB, maxSingleShotSize: 2 * MiB });
        return { blob, data };
      }),
    );
    const abandon = async (blob: BlockBlobClient) => {
      const url = await blob.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 60_000) });
      await new Promise<void>((resolve, reject) => {
        const request = http.get(url, (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', (error) => (request.destroyed ? resolve() : reject(error)));
      });
    };
    await Promise.all(
      Array.from({ length: 12 }, async (_, n) => {
        const { blob, data } = blobs[n % 3]!;
        if (n % 4 === 3) return abandon(blob);
        const offset = (n * 100_003) % MiB;
        expect((await blob.downloadToBuffer(offset)).equals(data.subarray(offset))).toBe(true);
      }),
    );
    for (const { blob, data } of blobs) expect((await blob.downloadToBuffer()).equals(data)).toBe(true);
    expect(server.output()).not.toContain('request failed');
  });
});

describe('listing', () => {
  it('lists flat and by hierarchy with paging and metadata', async () => {
    const container = await newContainer();
    const names = ['a.txt', 'dir1/x.txt', 'dir1/y.txt', 'dir1/sub/z.txt', 'dir2/w.txt', 'dir10/v.txt', 'z.txt'];
    for (const name of names) await container.getBlockBlobClient(name).upload(name, name.length, { metadata: { name: name.replace(/\W/g, '_') } });

    const flat = [];
    for await (const blob of container.listBlobsFlat({ includeMetadata: true })) flat.push([blob.name, blob.metadata?.name, blob.properties.contentLength]);
    expect(flat.map((entry) => entry[0])).toEqual([...names].sort());
    expect(flat.find((entry) => entry[0] === 'dir1/x.txt')).toEqual(['dir1/x.txt', 'dir1_x_txt', 10]);

    const top: string[] = [];
    for await (const page of container.listBlobsByHierarchy('/').byPage({ maxPageSize: 2 })) {
      for (const prefix of page.segment.blobPrefixes ?? []) top.push(`prefix:${prefix.name}`);
      for (const blob of page.segment.blobItems) top.push(blob.name);
    }
    expect(top.sort()).toEqual(['a.txt', 'prefix:dir1/', 'prefix:dir10/', 'prefix:dir2/', 'z.txt']);

    const inside = [];
    for await (const item of container.listBlobsByHierarchy('/', { prefix: 'dir1/' })) inside.push(`${item.kind}:${item.name}`);
    expect(inside).toEqual(['prefix:dir1/sub/', 'blob:dir1/x.txt', 'blob:dir1/y.txt'].sort((a, b) => a.slice(a.indexOf(':')).localeCompare(b.slice(b.indexOf(':')))));
  });
});

describe('copy', () => {
  it('copies a blob within the account, synchronously and through the poller', async () => {
    const container = await newContainer();
    const source = container.getBlockBlobClient('source');
    await source.upload('copy me', 7, { metadata: { origin: 'source' }, blobHTTPHeaders: { blobContentType: 'text/plain' } });
    const target = container.getBlockBlobClient('target');
    const poller = await target.beginCopyFromURL(source.url);
    const result = await poller.pollUntilDone();
    expect(result.copyStatus).toBe('success');
    const properties = await target.getProperties();
    expect(properties.metadata).toEqual({ origin: 'source' });
    expect(properties.contentType).toBe('text/plain');
    expect(properties.copyStatus).toBe('success');
    expect((await target.downloadToBuffer()).toString()).toBe('copy me');

    // Overwriting the source leaves the copy intact: they share content only until one changes.
    await source.upload('changed', 7);
    expect((await target.downloadToBuffer()).toString()).toBe('copy me');
    await source.delete();
    expect((await target.downloadToBuffer()).toString()).toBe('copy me');
  });
});
