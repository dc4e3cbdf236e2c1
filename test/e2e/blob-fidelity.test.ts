import type { ContainerClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { armRequest, managementClients } from '../helpers/management.js';
import { DEV_ACCOUNT, DEV_KEY, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

/** Answers of operations mlspace already had, set right where they differed from Azure's. */
let server: TestServer;
let container: ContainerClient;
let sas: string;

const raw = async (path: string, init: RequestInit = {}) => {
  const response = await fetch(`${server.blob}/${DEV_ACCOUNT}/fidelity${path}${path.includes('?') ? '&' : '?'}${sas}`, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
};

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'fidelity');
  await container.getBlockBlobClient('ten').upload('0123456789', 10);
  await container.getBlockBlobClient('empty').upload('', 0);
  sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
});
afterAll(() => server.stop());

describe('conditions', () => {
  it('refuses If-None-Match: * on a read with 400, and treats it on Delete as a failed condition, not a conflict', async () => {
    const read = await raw('/ten', { headers: { 'if-none-match': '*' } });
    expect([read.status, read.headers.get('x-ms-error-code')]).toEqual([400, 'InvalidHeaderValue']);
    expect(read.body).toContain("applies to writes");
    const blob = container.getBlobClient('ten');
    expect((await errorOf(blob.delete({ conditions: { ifNoneMatch: '*' } }))).statusCode).toBe(412);
    expect((await blob.getProperties()).contentLength).toBe(10);
  });
});

describe('ranges', () => {
  it('ignores a malformed Range and answers the whole blob', async () => {
    for (const range of ['bytes=0--1', 'bytes=5-1', 'items=0-1', 'bytes=0-1,3-4']) {
      const result = await raw('/ten', { headers: { range } });
      expect([range, result.status, result.body]).toEqual([range, 200, '0123456789']);
    }
    // Azure's own header stays strict.
    expect((await raw('/ten', { headers: { 'x-ms-range': 'bytes=0--1' } })).status).toBe(400);
  });

  it('answers a range past the end with 416 and Content-Range: bytes */size, also for an empty blob', async () => {
    for (const [name, size] of [['empty', 0], ['ten', 10]] as const) {
      const result = await raw(`/${name}`, { headers: { range: 'bytes=10-' } });
      expect([name, result.status, result.headers.get('content-range')]).toEqual([name, 416, `bytes */${size}`]);
    }
  });
});

describe('HEAD', () => {
  it('of a missing blob carries no Content-Type', async () => {
    const result = await raw('/missing', { method: 'HEAD' });
    expect([result.status, result.headers.get('x-ms-error-code'), result.headers.get('content-type')]).toEqual([404, 'BlobNotFound', null]);
  });
});

describe('Set Blob Properties', () => {
  it('stores x-ms-blob-content-md5 as given and clears the content headers it is not given', async () => {
    const blob = container.getBlockBlobClient('props');
    await blob.upload('abc', 3, { blobHTTPHeaders: { blobContentType: 'text/plain', blobContentLanguage: 'en', blobCacheControl: 'no-cache' } });
    const given = createHash('md5').update('not the content').digest();
    await blob.setHTTPHeaders({ blobContentMD5: given, blobContentType: 'application/json' });
    const properties = await blob.getProperties();
    expect(Buffer.from(properties.contentMD5!).equals(given)).toBe(true);
    expect([properties.contentType, properties.contentLanguage, properties.cacheControl]).toEqual(['application/json', undefined, undefined]);
  });
});

describe('Copy Blob From URL', () => {
  it('echoes x-ms-source-content-md5 as Content-MD5, and refuses one that does not match the source', async () => {
    const source = `${server.blob}/${DEV_ACCOUNT}/fidelity/ten?${sas}`;
    const md5 = createHash('md5').update('0123456789').digest('base64');
    const copied = await raw('/copied', { method: 'PUT', headers: { 'x-ms-copy-source': source, 'x-ms-requires-sync': 'true', 'x-ms-source-content-md5': md5 } });
    expect([copied.status, copied.headers.get('content-md5')]).toEqual([202, md5]);
    const wrong = createHash('md5').update('other').digest('base64');
    const refused = await raw('/copied2', { method: 'PUT', headers: { 'x-ms-copy-source': source, 'x-ms-requires-sync': 'true', 'x-ms-source-content-md5': wrong } });
    expect([refused.status, refused.headers.get('x-ms-error-code')]).toEqual([400, 'Md5Mismatch']);
    expect((await errorOf(container.getBlobClient('copied2').getProperties())).statusCode).toBe(404);
  });
});

describe('Put Block', () => {
  it("refuses a block id whose length differs from the blob's other uncommitted ids", async () => {
    const blob = container.getBlockBlobClient('blocks');
    await blob.stageBlock(Buffer.from('id-1').toString('base64'), 'a', 1);
    const error = await errorOf(blob.stageBlock(Buffer.from('longer-id-2').toString('base64'), 'b', 1));
    expect(statusAndCode(error)).toEqual([400, 'InvalidBlobOrBlock']);
    await blob.stageBlock(Buffer.from('id-2').toString('base64'), 'b', 1);
    expect((await blob.getBlockList('uncommitted')).uncommittedBlocks).toHaveLength(2);
  });
});

describe('features left out on purpose', () => {
  it('answer with an error that names them: immutability policies, legal holds, object replication', async () => {
    await container.getBlockBlobClient('held').upload('x', 1);
    const immutability = await raw('/held?comp=immutabilityPolicies', { method: 'PUT', headers: { 'x-ms-immutability-policy-until-date': new Date(Date.now() + 86_400_000).toUTCString() } });
    expect([immutability.status, immutability.headers.get('x-ms-error-code')]).toEqual([400, 'UnsupportedOperation']);
    expect(immutability.body).toContain('Immutability policies (WORM retention) are not supported by mlspace');
    const legalHold = await raw('/held?comp=legalhold', { method: 'PUT', headers: { 'x-ms-legal-hold': 'true' } });
    expect(legalHold.body).toContain('Legal holds are not supported by mlspace');
    const token = (await managementClients(server).credential.getToken('https://management.azure.com/.default'))!.token;
    const replication = await armRequest(
      server,
      'GET',
      `/subscriptions/${server.subscriptionId}/resourceGroups/mlspace-builtin/providers/Microsoft.Storage/storageAccounts/${DEV_ACCOUNT}/objectReplicationPolicies`,
      { token },
    );
    expect([replication.status, replication.json.error.code]).toEqual([400, 'FeatureNotSupported']);
    expect(replication.json.error.message).toContain('Object replication is not supported by mlspace');
  });
});

describe('listings', () => {
  it('write ETags without the quotes the ETag header carries, as Azure does', async () => {
    const blob = container.getBlockBlobClient('listed-etag');
    const { etag } = await blob.upload('x', 1);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rl', 'b');
    const blobs = await (await fetch(`${server.blob}/${DEV_ACCOUNT}/fidelity?restype=container&comp=list&prefix=listed-etag&${sas}`)).text();
    expect(blobs).toContain(`<Etag>${etag!.replaceAll('"', '')}</Etag>`);
    const containers = await (await fetch(`${server.blob}/${DEV_ACCOUNT}/?comp=list&prefix=fidelity&${sas}`)).text();
    expect(containers).toMatch(/<Etag>0x[0-9A-F]+<\/Etag>/);
  });
});

describe('copy sources', () => {
  it('are authorized on their own: a source SAS that cannot read is 403 CannotVerifyCopySource, even under Shared Key', async () => {
    const source = container.getBlockBlobClient('copy-source');
    await source.upload('source', 6);
    const writeOnly = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'w', 'b');
    const copy = container.getBlockBlobClient('copy-dest');
    const error = await errorOf(copy.syncCopyFromURL(`${source.url}?${writeOnly}`));
    expect(statusAndCode(error)).toEqual([403, 'CannotVerifyCopySource']);
    expect((await errorOf(copy.getProperties())).statusCode).toBe(404);
    // A blob SAS names one blob: used on another source it verifies nothing, the second time too.
    const other = container.getBlockBlobClient('copy-other');
    await other.upload('other', 5);
    const blobSas = new URL(await source.generateSasUrl({ permissions: (await import('@azure/storage-blob')).BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 600_000) })).search;
    await copy.syncCopyFromURL(`${source.url}${blobSas}`);
    for (let attempt = 0; attempt < 2; attempt++) {
      const misused = await errorOf(copy.syncCopyFromURL(`${other.url}${blobSas}`));
      expect(statusAndCode(misused)).toEqual([403, 'CannotVerifyCopySource']);
    }
    expect((await copy.downloadToBuffer()).toString()).toBe('source');
  });

  it('evaluate x-ms-source-if-* against the source', async () => {
    const source = container.getBlockBlobClient('conditional-source');
    const { etag } = await source.upload('v1', 2);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
    const copy = container.getBlockBlobClient('conditional-dest');
    const refused = await errorOf(copy.syncCopyFromURL(`${source.url}?${sas}`, { sourceConditions: { ifMatch: '"0x1"' } }));
    expect(statusAndCode(refused)).toEqual([412, 'SourceConditionNotMet']);
    await copy.syncCopyFromURL(`${source.url}?${sas}`, { sourceConditions: { ifMatch: etag } });
    expect((await copy.downloadToBuffer()).toString()).toBe('v1');
  });
});

describe('Put Blob with both MD5 headers', () => {
  it('validates Content-MD5 (the transport checksum) and stores x-ms-blob-content-md5 as given, unvalidated', async () => {
    const body = Buffer.from('the content');
    const right = createHash('md5').update(body).digest('base64');
    const other = createHash('md5').update('something else').digest('base64');
    const refused = await raw('/md5-both', { method: 'PUT', body, headers: { 'x-ms-blob-type': 'BlockBlob', 'content-md5': other, 'x-ms-blob-content-md5': right } });
    expect([refused.status, refused.headers.get('x-ms-error-code')]).toEqual([400, 'Md5Mismatch']);
    const stored = await raw('/md5-both', { method: 'PUT', body, headers: { 'x-ms-blob-type': 'BlockBlob', 'content-md5': right, 'x-ms-blob-content-md5': other } });
    expect(stored.status).toBe(201);
    expect(Buffer.from((await container.getBlobClient('md5-both').getProperties()).contentMD5!).toString('base64')).toBe(other);
  });
});
