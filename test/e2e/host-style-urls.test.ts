import { AnonymousCredential, BlobBatchClient, BlobClient, BlobSASPermissions, BlobServiceClient, SASProtocol, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileKeyCredential } from '@azure/storage-file-share';
import dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { DEV_ACCOUNT, DEV_KEY, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

/**
 * `*.localhost` names resolve to the loopback address where the resolver knows
 * the rule (systemd-resolved, browsers, curl); this machine's does not, so this
 * process applies it, for the official clients as they are.
 */
const systemLookup = dns.lookup;
function loopbackLookup(hostname: string, options: unknown, callback?: unknown): void {
  const done = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
  const all = typeof options === 'object' && options !== null && (options as dns.LookupOptions).all;
  if (!hostname.endsWith('.localhost')) return (systemLookup as (...args: unknown[]) => void)(hostname, options, callback);
  if (all) done(null, [{ address: '127.0.0.1', family: 4 }]);
  else done(null, '127.0.0.1', 4);
}
const hostStyle = (endpoint: string, service: 'blob' | 'file') => endpoint.replace('127.0.0.1', `${DEV_ACCOUNT}.${service}.localhost`);

beforeAll(async () => {
  (dns as { lookup: unknown }).lookup = loopbackLookup;
  server = await startTestServer();
});
afterAll(async () => {
  (dns as { lookup: unknown }).lookup = systemLookup;
  await server.stop();
});

describe('account URLs as Azure spells them ({account}.blob.{suffix})', () => {
  it('serve the Blob service: Shared Key, SAS, copies and batches, beside path-style URLs', async () => {
    const credential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY);
    const service = new BlobServiceClient(hostStyle(server.blob, 'blob'), credential, { retryOptions: { maxTries: 1 } });
    expect(service.url).toMatch(/^http:\/\/devstoreaccount1\.blob\.localhost:\d+\/?$/);
    const container = service.getContainerClient('hoststyle');
    await container.create();
    const blob = container.getBlockBlobClient('dir/model.bin');
    await blob.upload('weights', 7);
    expect((await blob.downloadToBuffer()).toString()).toBe('weights');
    const names = [];
    for await (const item of container.listBlobsFlat()) names.push(item.name);
    expect(names).toEqual(['dir/model.bin']);

    // The same blob through a path-style URL.
    const pathStyle = new BlobServiceClient(`${server.blob}/${DEV_ACCOUNT}`, credential);
    expect((await pathStyle.getContainerClient('hoststyle').getBlobClient('dir/model.bin').downloadToBuffer()).toString()).toBe('weights');

    // A SAS URL, and copies whose source is spelled host-style.
    const sasUrl = await blob.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) });
    expect(new URL(sasUrl).host).toMatch(/^devstoreaccount1\.blob\.localhost:/);
    const copy = container.getBlockBlobClient('copy.bin');
    await copy.syncCopyFromURL(sasUrl);
    expect((await copy.downloadToBuffer()).toString()).toBe('weights');

    const batch = new BlobBatchClient(hostStyle(server.blob, 'blob'), credential);
    const answer = await batch.deleteBlobs([blob.url, copy.url], credential);
    expect(answer.subResponses.map((sub) => sub.status)).toEqual([202, 202]);
  });

  it('serve the File service, and refuse a name that is not an account here', async () => {
    const files = new ShareServiceClient(hostStyle(server.file, 'file'), new FileKeyCredential(DEV_ACCOUNT, DEV_KEY), { retryOptions: { maxTries: 1 } });
    const share = files.getShareClient('hoststyle');
    await share.create();
    const file = share.rootDirectoryClient.getFileClient('notes.txt');
    await file.uploadData(Buffer.from('notes'));
    expect((await file.downloadToBuffer()).toString()).toBe('notes');

    const stranger = new BlobServiceClient(server.blob.replace('127.0.0.1', 'nosuchaccount.blob.localhost'), new StorageSharedKeyCredential('nosuchaccount', DEV_KEY), {
      retryOptions: { maxTries: 1 },
    });
    expect(statusAndCode(await errorOf(stranger.getContainerClient('x').create()))).toEqual([400, 'InvalidUri']);
  });

  it('are served on the TLS ports too, which answer for either service by host name, with the local CA\'s certificate', async () => {
    // The storage clients pass core-rest-pipeline's tlsOptions through, though their options type does not name it.
    const options = { retryOptions: { maxTries: 1 }, tlsOptions: { ca: fs.readFileSync(server.caFile) } };
    const blobCredential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY);
    expect(server.blobHttps).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const pathStyle = new BlobServiceClient(`${server.blobHttps}/${DEV_ACCOUNT}`, blobCredential, options).getContainerClient('overtls');
    await pathStyle.create();
    await pathStyle.getBlockBlobClient('a.txt').upload('secure', 6);
    // az builds every service's URL from one storage suffix, so the Blob service's TLS port serves the File service by its host name.
    const oneSuffix = server.blobHttps.replace('127.0.0.1', `${DEV_ACCOUNT}.blob.localhost`);
    const hostBlob = new BlobServiceClient(oneSuffix, blobCredential, options);
    expect((await hostBlob.getContainerClient('overtls').getBlobClient('a.txt').downloadToBuffer()).toString()).toBe('secure');
    const files = new ShareServiceClient(server.blobHttps.replace('127.0.0.1', `${DEV_ACCOUNT}.file.localhost`), new FileKeyCredential(DEV_ACCOUNT, DEV_KEY), options);
    await files.getShareClient('overtls').create();
    const pathFiles = new ShareServiceClient(`${server.fileHttps}/${DEV_ACCOUNT}`, new FileKeyCredential(DEV_ACCOUNT, DEV_KEY), options);
    expect((await pathFiles.getShareClient('overtls').getProperties()).etag).toBeTruthy();
    // A SAS signed for https only is good on the TLS port, and refused over plain HTTP.
    const httpsOnly = (await pathStyle.getBlobClient('a.txt').generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 60_000), protocol: SASProtocol.Https })).split('?')[1];
    expect((await new BlobClient(`${server.blobHttps}/${DEV_ACCOUNT}/overtls/a.txt?${httpsOnly}`, new AnonymousCredential(), options).downloadToBuffer()).toString()).toBe('secure');
    const overHttp = await fetch(`${server.blob}/${DEV_ACCOUNT}/overtls/a.txt?${httpsOnly}`);
    expect([overHttp.status, overHttp.headers.get('x-ms-error-code')]).toEqual([403, 'AuthorizationProtocolMismatch']);
    // Without the CA, the certificate is refused: it is the local CA's, not a public one.
    const untrusting = new BlobServiceClient(`${server.blobHttps}/${DEV_ACCOUNT}`, blobCredential, { retryOptions: { maxTries: 1 } });
    expect(String(await errorOf(untrusting.getContainerClient('overtls').getProperties()))).toMatch(/self.signed|unable to verify|local issuer/i);
  });
});
