import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { errorOf } from '../helpers/errors.js';

const ACCOUNT = 'authtest';
const KEY1 = randomBytes(64).toString('base64');
const KEY2 = randomBytes(64).toString('base64');
const WRONG = randomBytes(64).toString('base64');

let server: TestServer;
let accountUrl: string;
const client = (key: string) => new BlobServiceClient(accountUrl, new StorageSharedKeyCredential(ACCOUNT, key));

beforeAll(async () => {
  server = await startTestServer({ env: { MLSPACE_ACCOUNTS: `${ACCOUNT}:${KEY1}:${KEY2}` } });
  accountUrl = `${server.blob}/${ACCOUNT}`;
  const container = client(KEY1).getContainerClient('data');
  await container.create();
  await container.getBlockBlobClient('hello.txt').upload('hello', 5);
  await container.getBlockBlobClient('other.txt').upload('other', 5);
});
afterAll(async () => {
  await server.stop();
  // Neither a key nor a signature ever reaches the server's output.
  for (const secret of [KEY1, KEY2, WRONG]) expect(server.output()).not.toContain(secret);
});

function blobSas(options: Partial<Parameters<typeof generateBlobSASQueryParameters>[0]>, key = KEY1): string {
  return generateBlobSASQueryParameters(
    { containerName: 'data', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000), ...options },
    new StorageSharedKeyCredential(ACCOUNT, key),
  ).toString();
}

describe('Shared Key', () => {
  it('authorizes with key1 and key2 and refuses a wrong key with the Azure error', async () => {
    for (const key of [KEY1, KEY2]) {
      expect((await client(key).getContainerClient('data').getBlockBlobClient('hello.txt').downloadToBuffer()).toString()).toBe('hello');
    }
    const refused = await errorOf(client(WRONG).getContainerClient('data').getProperties());
    expect(refused.statusCode).toBe(403);
    expect(refused.code).toBe('AuthenticationFailed');
    expect(refused.response?.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused.response?.bodyAsText).toContain('<Code>AuthenticationFailed</Code>');
    for (const secret of [KEY1, KEY2, WRONG]) expect(refused.response?.bodyAsText).not.toContain(secret);
  });

  it('refuses requests dated outside the 15-minute window and requests with no date', async () => {
    const url = `${accountUrl}/data?restype=container`;
    // Correctly signed, but dated 20 minutes ago.
    const date = new Date(Date.now() - 20 * 60_000).toUTCString();
    const stringToSign = `GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:${date}\n/${ACCOUNT}/${ACCOUNT}/data\nrestype:container`;
    const signature = createHmac('sha256', Buffer.from(KEY1, 'base64')).update(stringToSign).digest('base64');
    const stale = await fetch(url, { headers: { 'x-ms-date': date, authorization: `SharedKey ${ACCOUNT}:${signature}` } });
    expect(stale.status).toBe(403);
    expect(await stale.text()).toMatch(/15-minute/);
    const fresh = new Date().toUTCString();
    const freshSignature = createHmac('sha256', Buffer.from(KEY1, 'base64')).update(stringToSign.replace(date, fresh)).digest('base64');
    expect((await fetch(url, { headers: { 'x-ms-date': fresh, authorization: `SharedKey ${ACCOUNT}:${freshSignature}` } })).status).toBe(200);
    const undated = await fetch(url, { headers: { authorization: `SharedKey ${ACCOUNT}:${signature}` } });
    expect(undated.status).toBe(403);
    expect(undated.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
  });

  it('refuses other authorization schemes with a message that says what is supported', async () => {
    const response = await fetch(`${accountUrl}/data?restype=container`, { headers: { authorization: 'Digest abc', 'x-ms-date': new Date().toUTCString() } });
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/only Shared Key, Shared Key Lite, Bearer \(over HTTPS\) and SAS are supported/);
    // A token needs a service version that takes tokens, and HTTPS (test/e2e/keyless-roles.test.ts).
    const bearer = await fetch(`${accountUrl}/data?restype=container`, { headers: { authorization: 'Bearer abc', 'x-ms-date': new Date().toUTCString() } });
    expect([bearer.status, bearer.headers.get('x-ms-error-code')]).toEqual([403, 'AuthenticationFailed']);
    expect(await bearer.text()).toMatch(/Authentication scheme Bearer is not supported in this version/);
  });
});

describe('SAS', () => {
  it('grants a blob SAS its blob only, for reading only', async () => {
    const sas = blobSas({ blobName: 'hello.txt' });
    const ok = await fetch(`${accountUrl}/data/hello.txt?${sas}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('hello');
    const otherBlob = await fetch(`${accountUrl}/data/other.txt?${sas}`);
    expect(otherBlob.status).toBe(403);
    const write = await fetch(`${accountUrl}/data/hello.txt?${sas}`, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
    expect(write.status).toBe(403);
    expect(write.headers.get('x-ms-error-code')).toBe('AuthorizationPermissionMismatch');
  });

  it('works through the SDK with a container SAS signed by key2, including listing and writing', async () => {
    const sas = blobSas({ permissions: ContainerSASPermissions.parse('rwl') }, KEY2);
    const container = new ContainerClient(`${accountUrl}/data?${sas}`);
    const names = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(['hello.txt', 'other.txt']);
    await container.getBlockBlobClient('via-sas.txt').upload('sas', 3);
    expect((await container.getBlockBlobClient('via-sas.txt').downloadToBuffer()).toString()).toBe('sas');
  });

  it('refuses expired, not-yet-valid, tampered and wrong-key tokens', async () => {
    const url = (sas: string) => `${accountUrl}/data/hello.txt?${sas}`;
    const expired = await fetch(url(blobSas({ blobName: 'hello.txt', expiresOn: new Date(Date.now() - 1000) })));
    expect(expired.status).toBe(403);
    const future = await fetch(url(blobSas({ blobName: 'hello.txt', startsOn: new Date(Date.now() + 3600_000), expiresOn: new Date(Date.now() + 7200_000) })));
    expect(future.status).toBe(403);
    const tampered = await fetch(url(blobSas({ blobName: 'hello.txt' }).replace('sp=r', 'sp=rw')));
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
    const wrongKey = await fetch(url(blobSas({ blobName: 'hello.txt' }, WRONG)));
    expect(wrongKey.status).toBe(403);
  });

  it('enforces the account SAS services, resource types and permissions', async () => {
    const accountSas = (services: string, resourceTypes: string, permissions: string) =>
      generateAccountSASQueryParameters(
        {
          services: AccountSASServices.parse(services).toString(),
          resourceTypes: AccountSASResourceTypes.parse(resourceTypes).toString(),
          permissions: AccountSASPermissions.parse(permissions),
          expiresOn: new Date(Date.now() + 3600_000),
        },
        new StorageSharedKeyCredential(ACCOUNT, KEY1),
      ).toString();
    const listing = new BlobServiceClient(`${accountUrl}?${accountSas('b', 'sco', 'rl')}`);
    const names = [];
    for await (const container of listing.listContainers()) names.push(container.name);
    expect(names).toContain('data');
    const objectsOnly = await fetch(`${accountUrl}/?comp=list&${accountSas('b', 'o', 'rl')}`);
    expect(objectsOnly.headers.get('x-ms-error-code')).toBe('AuthorizationResourceTypeMismatch');
    const fileOnly = await fetch(`${accountUrl}/data/hello.txt?${accountSas('f', 'o', 'r')}`);
    expect(fileOnly.headers.get('x-ms-error-code')).toBe('AuthorizationServiceMismatch');
    const readOnly = await fetch(`${accountUrl}/data/x.txt?${accountSas('b', 'o', 'r')}`, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
    expect(readOnly.headers.get('x-ms-error-code')).toBe('AuthorizationPermissionMismatch');
  });

  it('honours a stored access policy and the SAS response-header overrides', async () => {
    const container = client(KEY1).getContainerClient('data');
    await container.setAccessPolicy(undefined, [{ id: 'read-hour', accessPolicy: { permissions: 'r', expiresOn: new Date(Date.now() + 3600_000) } }]);
    const sas = generateBlobSASQueryParameters(
      { containerName: 'data', blobName: 'hello.txt', identifier: 'read-hour', contentType: 'text/x-override' },
      new StorageSharedKeyCredential(ACCOUNT, KEY1),
    ).toString();
    const response = await fetch(`${accountUrl}/data/hello.txt?${sas}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/x-override');
  });
});

describe('anonymous access', () => {
  it('reads only what the container public access level allows', async () => {
    const owner = client(KEY1);
    const container = owner.getContainerClient('public-blobs');
    await container.create({ access: 'blob' });
    await container.getBlockBlobClient('open.txt').upload('open', 4);
    expect(await (await fetch(`${accountUrl}/public-blobs/open.txt`)).text()).toBe('open');
    // 'blob' access does not allow listing the container.
    expect((await fetch(`${accountUrl}/public-blobs?restype=container&comp=list`)).status).toBe(404);
    await container.setAccessPolicy('container');
    expect((await fetch(`${accountUrl}/public-blobs?restype=container&comp=list`)).status).toBe(200);
    // Writes are never anonymous.
    expect((await fetch(`${accountUrl}/public-blobs/new.txt`, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } })).status).toBe(404);
    expect((await fetch(`${accountUrl}/data/hello.txt`)).status).toBe(404);
  });
});
