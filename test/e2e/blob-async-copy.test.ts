import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';

const SECOND = 'secondaccount';
const SECOND_KEY = randomBytes(64).toString('base64');
let server: TestServer;
let source: ContainerClient;
let destination: ContainerClient;
let sas: string;

const clients = (target: TestServer) => ({
  source: BlobServiceClient.fromConnectionString(devConnectionString(target), { retryOptions: { maxTries: 1 } }).getContainerClient('source'),
  destination: new BlobServiceClient(`${target.blob}/${SECOND}`, new StorageSharedKeyCredential(SECOND, SECOND_KEY), { retryOptions: { maxTries: 1 } }).getContainerClient('destination'),
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startTestServer({ args: ['--async-copy-delay', '1'], env: { MLSPACE_ACCOUNTS: `${SECOND}:${SECOND_KEY}` } });
  ({ source, destination } = clients(server));
  await source.create();
  await destination.create();
  sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
});
afterAll(() => server.stop());

describe('Copy Blob across accounts', () => {
  it('is pending at first, then succeeds with the source as it was when the copy started', async () => {
    await source.getBlockBlobClient('model.bin').upload('version 1', 9, { blobHTTPHeaders: { blobContentType: 'application/x-model' } });
    const target = destination.getBlockBlobClient('model.bin');
    const poller = await target.beginCopyFromURL(`${source.getBlobClient('model.bin').url}?${sas}`, { intervalInMs: 200 });
    const pending = await target.getProperties();
    expect([pending.copyStatus, pending.copyProgress, pending.contentLength]).toEqual(['pending', '0/9', 0]);
    // Overwriting the source meanwhile changes nothing of what arrives.
    await source.getBlockBlobClient('model.bin').upload('version 2!', 10);
    const result = await poller.pollUntilDone();
    expect(result.copyStatus).toBe('success');
    const done = await target.getProperties();
    expect([done.copyStatus, done.copyProgress, done.contentLength, done.contentType]).toEqual(['success', '9/9', 9, 'application/x-model']);
    expect(done.copyCompletedOn).toBeInstanceOf(Date);
    expect((await target.downloadToBuffer()).toString()).toBe('version 1');
  });

  it('can be aborted while pending, leaving the destination empty; not twice, not with another id, not once done', async () => {
    await source.getBlockBlobClient('big.bin').upload('x'.repeat(1000), 1000);
    const target = destination.getBlockBlobClient('aborted.bin');
    await target.beginCopyFromURL(`${source.getBlobClient('big.bin').url}?${sas}`);
    const started = await target.getProperties();
    expect(started.copyStatus).toBe('pending');
    expect(statusAndCode(await errorOf(target.abortCopyFromURL('00000000-0000-0000-0000-000000000000')))).toEqual([409, 'CopyIdMismatch']);
    expect((await target.abortCopyFromURL(started.copyId!))._response.status).toBe(204);
    await sleep(1200);
    const properties = await target.getProperties();
    expect([properties.copyStatus, properties.contentLength, properties.copyStatusDescription]).toEqual(['aborted', 0, 'Aborted by Abort Copy Blob.']);
    expect(statusAndCode(await errorOf(target.abortCopyFromURL(started.copyId!)))).toEqual([409, 'NoPendingCopyOperation']);
    const sync = destination.getBlockBlobClient('sync.bin');
    // Copy Blob From URL stays synchronous across accounts.
    expect((await sync.syncCopyFromURL(`${source.getBlobClient('big.bin').url}?${sas}`)).copyStatus).toBe('success');
    const missingId = await errorOf(sync.abortCopyFromURL('00000000-0000-0000-0000-000000000000'));
    expect(statusAndCode(missingId)).toEqual([409, 'NoPendingCopyOperation']);
  });

  it('completes after kill -9, by the clock', async () => {
    const first = await startTestServer({ args: ['--async-copy-delay', '1'], env: { MLSPACE_ACCOUNTS: `${SECOND}:${SECOND_KEY}` } });
    const { source: from, destination: to } = clients(first);
    await from.create();
    await to.create();
    await from.getBlockBlobClient('kept').upload('survives', 8);
    await to.getBlockBlobClient('kept').beginCopyFromURL(`${from.getBlobClient('kept').url}?${fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b')}`);
    await first.stop('SIGKILL');
    const second = await startTestServer({ dataDir: first.dataDir, args: ['--async-copy-delay', '1'], env: { MLSPACE_ACCOUNTS: `${SECOND}:${SECOND_KEY}` } });
    try {
      const target = clients(second).destination.getBlockBlobClient('kept');
      await sleep(1000);
      expect((await target.getProperties()).copyStatus).toBe('success');
      expect((await target.downloadToBuffer()).toString()).toBe('survives');
    } finally {
      await second.stop();
    }
  });
});
