import type { ContainerClient } from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc64 } from '../../src/bytes/crc64.js';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;
let sas: string;

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'crc');
  sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
});
afterAll(() => server.stop());

const putBlob = (name: string, body: Buffer, headers: Record<string, string>) =>
  fetch(`${server.blob}/${DEV_ACCOUNT}/crc/${name}?${sas}`, { method: 'PUT', body: new Uint8Array(body), headers: { 'x-ms-blob-type': 'BlockBlob', ...headers } }).then(async (response) => ({
    status: response.status,
    code: response.headers.get('x-ms-error-code'),
    crc: response.headers.get('x-ms-content-crc64'),
    text: await response.text(),
  }));

describe('x-ms-content-crc64', () => {
  it('is checked on Put Blob, small and streamed, and answered back', async () => {
    for (const size of [100, 300 * 1024]) {
      const body = randomBytes(size);
      const good = crc64(body).toString('base64');
      expect(await putBlob(`ok-${size}`, body, { 'x-ms-content-crc64': good })).toMatchObject({ status: 201, crc: good });
      const wrong = crc64(Buffer.from('other')).toString('base64');
      expect(await putBlob(`bad-${size}`, body, { 'x-ms-content-crc64': wrong })).toMatchObject({ status: 400, code: 'Crc64Mismatch' });
      expect(statusAndCode(await errorOf(container.getBlobClient(`bad-${size}`).getProperties()))).toEqual([404, 'BlobNotFound']);
    }
  });

  it('is checked on Put Block as the official client sends it', async () => {
    const blob = container.getBlockBlobClient('blocks');
    const data = randomBytes(5000);
    const staged = await blob.stageBlock(Buffer.from('b1').toString('base64'), data, data.length, { transactionalContentCrc64: crc64(data) });
    expect(Buffer.from(staged.xMsContentCrc64!).equals(crc64(data))).toBe(true);
    const refused = await errorOf(blob.stageBlock(Buffer.from('b2').toString('base64'), data, data.length, { transactionalContentCrc64: crc64(Buffer.from('x')) }));
    expect(statusAndCode(refused)).toEqual([400, 'Crc64Mismatch']);
    expect((await blob.getBlockList('uncommitted')).uncommittedBlocks!.map((block) => block.name)).toEqual([Buffer.from('b1').toString('base64')]);
  });

  it('is checked on Put Page, inline and as a content file, as the official client sends it', async () => {
    const blob = container.getPageBlobClient('pages');
    await blob.create(256 * 1024);
    for (const size of [4096, 128 * 1024]) {
      const data = randomBytes(size);
      const written = await blob.uploadPages(data, 0, size, { transactionalContentCrc64: crc64(data) });
      expect(Buffer.from(written.xMsContentCrc64!).equals(crc64(data))).toBe(true);
      const refused = await errorOf(blob.uploadPages(randomBytes(size), 0, size, { transactionalContentCrc64: crc64(Buffer.from('x')) }));
      expect(statusAndCode(refused)).toEqual([400, 'Crc64Mismatch']);
      expect((await blob.downloadToBuffer(0, size)).equals(data)).toBe(true);
    }
  });

  it('refuses a CRC of the wrong length, and one sent beside Content-MD5', async () => {
    const body = Buffer.from('data');
    expect(await putBlob('short', body, { 'x-ms-content-crc64': Buffer.alloc(4).toString('base64') })).toMatchObject({ status: 400, code: 'InvalidHeaderValue' });
    const both = await putBlob('both', body, { 'x-ms-content-crc64': crc64(body).toString('base64'), 'content-md5': createHash('md5').update(body).digest('base64') });
    expect(both).toMatchObject({ status: 400, code: 'InvalidHeaderValue' });
    expect(both.text).toContain('not both');
  });
});

describe('x-ms-content-crc64 on the File service', () => {
  it('is checked on Put Range and answered back', async () => {
    const { ShareServiceClient } = await import('@azure/storage-file-share');
    const { fileConnectionString } = await import('../helpers/server.js');
    const share = ShareServiceClient.fromConnectionString(fileConnectionString(server)).getShareClient('crc');
    await share.create();
    const file = share.getDirectoryClient('').getFileClient('f.bin');
    await file.create(100);
    const data = randomBytes(100);
    const fileSas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlc', 'f');
    const putRange = (crc: Buffer) =>
      fetch(`${server.file}/${DEV_ACCOUNT}/crc/f.bin?comp=range&${fileSas}`, {
        method: 'PUT',
        body: new Uint8Array(data),
        headers: { 'x-ms-range': 'bytes=0-99', 'x-ms-write': 'update', 'x-ms-content-crc64': crc.toString('base64') },
      });
    const accepted = await putRange(crc64(data));
    expect([accepted.status, accepted.headers.get('x-ms-content-crc64')]).toEqual([201, crc64(data).toString('base64')]);
    const refused = await putRange(crc64(Buffer.from('x')));
    expect([refused.status, refused.headers.get('x-ms-error-code')]).toEqual([400, 'Crc64Mismatch']);
  });
});
