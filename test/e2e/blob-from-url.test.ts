import type { ContainerClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;
let sas: string;
const body = randomBytes(3 * 1024 * 1024 + 123);

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'fromurl');
  // Two blocks, so ranges cross content files.
  const source = container.getBlockBlobClient('source.bin');
  await source.stageBlock(Buffer.from('b1').toString('base64'), body.subarray(0, 2 * 1024 * 1024), 2 * 1024 * 1024);
  await source.stageBlock(Buffer.from('b2').toString('base64'), body.subarray(2 * 1024 * 1024), body.length - 2 * 1024 * 1024);
  await source.commitBlockList([Buffer.from('b1').toString('base64'), Buffer.from('b2').toString('base64')], { blobHTTPHeaders: { blobContentType: 'application/x-data' } });
  sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
});
afterAll(() => server.stop());

const sourceUrl = () => `${container.getBlobClient('source.bin').url}?${sas}`;

describe('Put Blob From URL', () => {
  it('makes a block blob of the source at once, with the source properties unless told otherwise', async () => {
    const target = container.getBlockBlobClient('copied.bin');
    await target.syncUploadFromURL(sourceUrl(), { metadata: { origin: 'url' } });
    const properties = await target.getProperties();
    expect([properties.contentLength, properties.contentType, properties.metadata, properties.blobType]).toEqual([body.length, 'application/x-data', { origin: 'url' }, 'BlockBlob']);
    expect((await target.downloadToBuffer()).equals(body)).toBe(true);
    await target.syncUploadFromURL(sourceUrl(), { copySourceBlobProperties: false, blobHTTPHeaders: { blobContentType: 'text/plain' } });
    expect((await target.getProperties()).contentType).toBe('text/plain');
  });

  it('authorizes the source on its own', async () => {
    const error = await errorOf(container.getBlockBlobClient('refused.bin').syncUploadFromURL(`${container.getBlobClient('source.bin').url}?${fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'w', 'b')}`));
    expect(statusAndCode(error)).toEqual([403, 'CannotVerifyCopySource']);
  });
});

describe('Put Block From URL', () => {
  it('stages a block from a byte range of the source, across its content files', async () => {
    const target = container.getBlockBlobClient('assembled.bin');
    const first = Buffer.from('first').toString('base64');
    const second = Buffer.from('secnd').toString('base64');
    const [a, b] = [2 * 1024 * 1024 - 100, 2 * 1024 * 1024 + 99];
    const md5 = createHash('md5').update(body.subarray(a, b + 1)).digest();
    const staged = await target.stageBlockFromURL(first, sourceUrl(), a, b - a + 1, { sourceContentMD5: md5 });
    expect(Buffer.from(staged.contentMD5!).equals(md5)).toBe(true);
    await target.stageBlockFromURL(second, sourceUrl(), 0, 10);
    await target.commitBlockList([first, second]);
    expect((await target.downloadToBuffer()).equals(Buffer.concat([body.subarray(a, b + 1), body.subarray(0, 10)]))).toBe(true);
  });

  it('refuses a range past the source, and a wrong source MD5, staging nothing', async () => {
    const target = container.getBlockBlobClient('refused-block.bin');
    const id = Buffer.from('blk1').toString('base64');
    expect(statusAndCode(await errorOf(target.stageBlockFromURL(id, sourceUrl(), body.length, 10)))).toEqual([416, 'InvalidSourceBlobRange']);
    const wrong = createHash('md5').update('other').digest();
    expect(statusAndCode(await errorOf(target.stageBlockFromURL(id, sourceUrl(), 0, 10, { sourceContentMD5: wrong })))).toEqual([400, 'Md5Mismatch']);
    expect(statusAndCode(await errorOf(target.getBlockList('uncommitted')))).toEqual([404, 'BlobNotFound']);
  });
});
