import { randomBytes } from 'node:crypto';
import {
  AccountSASPermissions,
  FileSASPermissions,
  ShareClient,
  ShareFileClient,
  ShareSASPermissions,
  ShareServiceClient,
  StorageSharedKeyCredential,
  generateFileSASQueryParameters,
} from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStorageError, fileAccountSas, rawRequest, shareService, stopAndClean, uniqueShare } from '../helpers/file.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ACCOUNT = 'mlfiles';
const KEY1 = randomBytes(64).toString('base64');
const KEY2 = randomBytes(64).toString('base64');
const inAnHour = () => new Date(Date.now() + 3600_000);

describe('File service authorization: Shared Key with either key, File SAS, account SAS', () => {
  let server: TestServer;
  let share: ShareClient;
  let file: ShareFileClient;

  beforeAll(async () => {
    server = await startTestServer({ env: { MLSPACE_ACCOUNTS: `${ACCOUNT}:${KEY1}:${KEY2}` } });
    share = shareService(server, ACCOUNT, KEY1).getShareClient(uniqueShare());
    await share.create();
    await share.createDirectory('docs');
    file = share.getDirectoryClient('docs').getFileClient('readme.txt');
    await file.uploadData(Buffer.from('hello from key1'));
  }, 30_000);
  afterAll(async () => {
    await stopAndClean(server);
  });

  it('accepts Shared Key signatures made with key2 as well as key1', async () => {
    const withKey2 = shareService(server, ACCOUNT, KEY2).getShareClient(share.name);
    expect((await withKey2.getDirectoryClient('docs').getFileClient('readme.txt').downloadToBuffer()).toString()).toBe('hello from key1');
    await withKey2.rootDirectoryClient.getFileClient('by-key2.txt').uploadData(Buffer.from('key2'));
  });

  it('refuses a wrong key with 403 AuthenticationFailed, without echoing secrets', async () => {
    const wrongKey = randomBytes(64).toString('base64');
    const wrong = shareService(server, ACCOUNT, wrongKey).getShareClient(share.name);
    const error = await expectStorageError(wrong.getProperties(), 403, 'AuthenticationFailed');
    await expectStorageError(wrong.getDirectoryClient('docs').getFileClient('readme.txt').download(), 403, 'AuthenticationFailed');
    expect(error.message).not.toContain(wrongKey);
    expect(server.output()).not.toContain(KEY1);
    expect(server.output()).not.toContain(wrongKey);
  });

  it('refuses requests with no credential: the File service has no anonymous access', async () => {
    const response = await rawRequest(server.file, `/${ACCOUNT}/${share.name}/docs/readme.txt`);
    expect(response.status).toBe(401);
    expect(response.headers['x-ms-error-code']).toBe('NoAuthenticationInformation');
  });

  it('honours a file SAS (sr=f) for its file and permissions only', async () => {
    const readOnly = new ShareFileClient(await file.generateSasUrl({ permissions: FileSASPermissions.parse('r'), expiresOn: inAnHour() }));
    expect((await readOnly.downloadToBuffer()).toString()).toBe('hello from key1');
    await expectStorageError(readOnly.uploadRange(Buffer.from('x'), 0, 1), 403, 'AuthorizationPermissionMismatch');

    const sasForOther = new URL(readOnly.url).search;
    const other = new ShareFileClient(`${share.rootDirectoryClient.getFileClient('by-key2.txt').url}${sasForOther}`);
    await expectStorageError(other.download(), 403, 'AuthenticationFailed');

    const signedWithKey2 = generateFileSASQueryParameters(
      { shareName: share.name, filePath: 'docs/readme.txt', permissions: FileSASPermissions.parse('rw'), expiresOn: inAnHour() },
      new StorageSharedKeyCredential(ACCOUNT, KEY2),
    ).toString();
    const writer = new ShareFileClient(`${file.url}?${signedWithKey2}`);
    await writer.uploadRange(Buffer.from('H'), 0, 1);
    expect((await file.downloadToBuffer()).toString()).toBe('Hello from key1');

    const expired = generateFileSASQueryParameters(
      { shareName: share.name, filePath: 'docs/readme.txt', permissions: FileSASPermissions.parse('r'), expiresOn: new Date(Date.now() - 60_000) },
      new StorageSharedKeyCredential(ACCOUNT, KEY1),
    ).toString();
    const error = await expectStorageError(new ShareFileClient(`${file.url}?${expired}`).download(), 403, 'AuthenticationFailed');
    expect(error.message).not.toContain('sig=');
  });

  it('answers a file SAS read with the response headers the SAS overrides', async () => {
    const url = await file.generateSasUrl({
      permissions: FileSASPermissions.parse('r'),
      expiresOn: inAnHour(),
      contentType: 'text/x-override',
      contentDisposition: 'attachment; filename=notes.txt',
      cacheControl: 'max-age=60',
    });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe((await file.downloadToBuffer()).toString());
    expect(response.headers.get('content-type')).toBe('text/x-override');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename=notes.txt');
    expect(response.headers.get('cache-control')).toBe('max-age=60');
    // The file's own headers are untouched.
    expect((await file.getProperties()).contentDisposition).toBeUndefined();
  });

  it('honours a share SAS (sr=s) within its share', async () => {
    const sasShare = new ShareClient(await share.generateSasUrl({ permissions: ShareSASPermissions.parse('rcwdl'), expiresOn: inAnHour() }));
    await sasShare.createDirectory('from-sas');
    await sasShare.getDirectoryClient('from-sas').getFileClient('data.bin').uploadData(Buffer.from('sas data'));
    const names: string[] = [];
    for await (const entry of sasShare.getDirectoryClient('from-sas').listFilesAndDirectories()) names.push(entry.name);
    expect(names).toEqual(['data.bin']);
    expect((await sasShare.getProperties()).etag).toBeDefined();
    await sasShare.getDirectoryClient('from-sas').getFileClient('data.bin').delete();

    const listOnly = new ShareClient(await share.generateSasUrl({ permissions: ShareSASPermissions.parse('l'), expiresOn: inAnHour() }));
    await expectStorageError(listOnly.getDirectoryClient('docs').getFileClient('readme.txt').download(), 403, 'AuthorizationPermissionMismatch');
    const otherShare = new ShareClient(`${server.file}/${ACCOUNT}/${uniqueShare()}${new URL(sasShare.url).search}`);
    await expectStorageError(otherShare.create(), 403, 'AuthorizationResourceTypeMismatch');
  });

  it('honours a share SAS bound to a stored access policy until the policy is removed', async () => {
    await share.setAccessPolicy([{ id: 'readers', accessPolicy: { permissions: 'rl', startsOn: new Date(Date.now() - 60_000), expiresOn: inAnHour() } }]);
    expect((await share.getAccessPolicy()).signedIdentifiers.map((identifier) => identifier.id)).toEqual(['readers']);
    const sas = generateFileSASQueryParameters({ shareName: share.name, identifier: 'readers' }, new StorageSharedKeyCredential(ACCOUNT, KEY1)).toString();
    const reader = new ShareFileClient(`${file.url}?${sas}`);
    expect((await reader.downloadToBuffer()).length).toBe(15);
    await share.setAccessPolicy([]);
    await expectStorageError(reader.download(), 403, 'AuthenticationFailed');
  });

  it('honours an account SAS with ss including f, for the resource types and permissions it grants', async () => {
    const service = shareService(server, ACCOUNT, KEY1);
    const sasService = new ShareServiceClient(service.generateAccountSasUrl(inAnHour(), AccountSASPermissions.parse('rwdlc'), 'sco'));
    const created = sasService.getShareClient(uniqueShare('account-sas'));
    await created.create();
    await created.rootDirectoryClient.getFileClient('f.txt').uploadData(Buffer.from('via account sas'));
    const shares: string[] = [];
    for await (const item of sasService.listShares({ prefix: 'account-sas' })) shares.push(item.name);
    expect(shares).toEqual([created.name]);

    const blobOnly = new ShareServiceClient(`${server.file}/${ACCOUNT}?${fileAccountSas(ACCOUNT, KEY1, 'rl', 'b')}`);
    await expectStorageError(blobOnly.getShareClient(created.name).getProperties(), 403, 'AuthorizationServiceMismatch');

    const serviceOnly = new ShareServiceClient(service.generateAccountSasUrl(inAnHour(), AccountSASPermissions.parse('rwl'), 's'));
    await expectStorageError(serviceOnly.getShareClient(created.name).rootDirectoryClient.getFileClient('f.txt').download(), 403, 'AuthorizationResourceTypeMismatch');
    const signedWithKey2 = new ShareServiceClient(
      shareService(server, ACCOUNT, KEY2).generateAccountSasUrl(inAnHour(), AccountSASPermissions.parse('r'), 'o'),
    );
    expect((await signedWithKey2.getShareClient(created.name).rootDirectoryClient.getFileClient('f.txt').downloadToBuffer()).toString()).toBe(
      'via account sas',
    );
  });

  it('logged no internal errors while serving the tests above', () => {
    expect(server.output()).not.toContain('request failed');
  });
});

describe('File service and key changes', () => {
  it('refuses the old key as soon as the account is declared with a new one', async () => {
    const oldKey = randomBytes(64).toString('base64');
    const newKey = randomBytes(64).toString('base64');
    const first = await startTestServer({ env: { MLSPACE_ACCOUNTS: `${ACCOUNT}:${oldKey}` } });
    const name = uniqueShare();
    try {
      await shareService(first, ACCOUNT, oldKey).getShareClient(name).create();
    } finally {
      await first.stop();
    }
    const second = await startTestServer({ dataDir: first.dataDir, env: { MLSPACE_ACCOUNTS: `${ACCOUNT}:${newKey}` } });
    try {
      await expectStorageError(shareService(second, ACCOUNT, oldKey).getShareClient(name).getProperties(), 403, 'AuthenticationFailed');
      expect((await shareService(second, ACCOUNT, newKey).getShareClient(name).getProperties()).quota).toBe(5120);
    } finally {
      await stopAndClean(second);
    }
  }, 30_000);
});
