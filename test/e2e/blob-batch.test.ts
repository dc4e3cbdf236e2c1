import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let service: BlobServiceClient;
let container: ContainerClient;

beforeAll(async () => {
  server = await startTestServer();
  service = BlobServiceClient.fromConnectionString(devConnectionString(server), { retryOptions: { maxTries: 1 } });
  container = service.getContainerClient('batch');
  await container.create();
});
afterAll(() => server.stop());

const upload = (names: string[]) => Promise.all(names.map((name) => container.getBlockBlobClient(name).upload('x', 1)));

describe('Blob Batch', () => {
  it('deletes many blobs in one request, answering each sub-request in turn, errors included', async () => {
    await upload(['one', 'two', 'three']);
    const batch = service.getBlobBatchClient();
    const urls = ['one', 'missing', 'two', 'three'].map((name) => container.getBlobClient(name).url);
    const credential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY);
    const result = await batch.deleteBlobs(urls, credential);
    expect([result._response.status, result.subResponsesSucceededCount, result.subResponsesFailedCount]).toEqual([202, 3, 1]);
    expect(result.subResponses.map((sub) => [sub.status, sub.errorCode])).toEqual([
      [202, undefined],
      [404, 'BlobNotFound'],
      [202, undefined],
      [202, undefined],
    ]);
    const left = [];
    for await (const item of container.listBlobsFlat()) left.push(item.name);
    expect(left).toEqual([]);
  });

  it('sets tiers in a container-scoped batch', async () => {
    await upload(['cool-1', 'cool-2']);
    const batch = container.getBlobBatchClient();
    const result = await batch.setBlobsAccessTier(
      ['cool-1', 'cool-2'].map((name) => container.getBlobClient(name)),
      'Cool',
    );
    expect(result.subResponses.map((sub) => sub.status)).toEqual([200, 200]);
    expect((await container.getBlobClient('cool-2').getProperties()).accessTier).toBe('Cool');
  });

  it('authorizes each sub-request on its own: a SAS without delete permission fails only its own sub-request', async () => {
    await upload(['kept', 'gone']);
    const readOnly = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
    const full = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
    const batch = service.getBlobBatchClient();
    const blobBatch = batch.createBatch();
    await blobBatch.deleteBlob(`${container.getBlobClient('kept').url}?${readOnly}`, new (await import('@azure/storage-blob')).AnonymousCredential());
    await blobBatch.deleteBlob(`${container.getBlobClient('gone').url}?${full}`, new (await import('@azure/storage-blob')).AnonymousCredential());
    const result = await batch.submitBatch(blobBatch);
    expect(result.subResponses.map((sub) => [sub.status, sub.errorCode])).toEqual([
      [403, 'AuthorizationPermissionMismatch'],
      [202, undefined],
    ]);
    expect((await container.getBlobClient('kept').getProperties()).contentLength).toBe(1);
    expect(statusAndCode(await errorOf(container.getBlobClient('gone').getProperties()))).toEqual([404, 'BlobNotFound']);
  });

  it('refuses malformed batches as a whole, saying what is wrong, and changes nothing', async () => {
    await upload(['safe']);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
    const post = (body: string, contentType = 'multipart/mixed; boundary=batch_x') =>
      fetch(`${server.blob}/${DEV_ACCOUNT}/?comp=batch&${sas}`, { method: 'POST', body, headers: { 'content-type': contentType } }).then(async (response) => [
        response.status,
        response.headers.get('x-ms-error-code'),
        await response.text(),
      ]);
    const part = (line: string, id = 0) => `--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: ${id}\r\n\r\n${line}\r\nx-ms-date: ${new Date().toUTCString()}\r\n\r\n`;
    const cases: [string, string | undefined, string, string][] = [
      ['no multipart', 'application/json', 'InvalidHeaderValue', 'multipart/mixed'],
      [part(`DELETE /${DEV_ACCOUNT}/batch/safe HTTP/1.1`), undefined, 'InvalidInput', 'closing delimiter'],
      ['--batch_x--\r\n', undefined, 'InvalidInput', 'no sub-requests'],
      [`${part(`GET /${DEV_ACCOUNT}/batch/safe HTTP/1.1`)}--batch_x--\r\n`, undefined, 'InvalidInput', 'Delete Blob'],
      [`${part(`DELETE /${DEV_ACCOUNT}/batch/safe HTTP/1.1`)}${part(`PUT /${DEV_ACCOUNT}/batch/safe?comp=tier HTTP/1.1`, 1)}--batch_x--\r\n`, undefined, 'AllBatchSubRequestsShouldBeSameApi', 'same API'],
      [`${Array.from({ length: 257 }, (_, i) => part(`DELETE /${DEV_ACCOUNT}/batch/b${i} HTTP/1.1`, i)).join('')}--batch_x--\r\n`, undefined, 'ExceedsMaxBatchRequestCount', '256'],
      [`${part(`DELETE /otheraccount/batch/safe HTTP/1.1`)}--batch_x--\r\n`, undefined, 'InvalidInput', 'outside'],
      [`${part('NONSENSE')}--batch_x--\r\n`, undefined, 'InvalidInput', 'request line'],
    ];
    for (const [body, contentType, errorCode, hint] of cases) {
      const [status, codeSeen, text] = await post(body, contentType);
      expect([hint, status, codeSeen]).toEqual([hint, 400, errorCode]);
      expect(text).toContain(hint);
    }
    expect((await container.getBlobClient('safe').getProperties()).contentLength).toBe(1);
  });
});
