import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ShareClient, ShareServiceClient } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStorageError, fileAccountSas, rawRequest, shareService, uniqueShare } from '../helpers/file.js';
import { DEV_ACCOUNT, startTestServer, type TestServer } from '../helpers/server.js';

describe('File service: bad input is refused with the Azure error and a message that says what to fix', () => {
  let parent: string;
  let server: TestServer;
  let service: ShareServiceClient;
  let share: ShareClient;
  let sas: string;

  beforeAll(async () => {
    // The data directory is the only thing in `parent`, so anything written outside it would show.
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-file-errors-'));
    server = await startTestServer({ dataDir: path.join(parent, 'data') });
    service = shareService(server);
    share = service.getShareClient(uniqueShare());
    await share.create();
    sas = fileAccountSas();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    if (parent) fs.rmSync(parent, { recursive: true, force: true });
  });

  const raw = (urlPath: string, options: Parameters<typeof rawRequest>[2] = {}) =>
    rawRequest(server.file, `/${DEV_ACCOUNT}/${urlPath}${urlPath.includes('?') ? '&' : '?'}${sas}`, options);

  it('refuses share names Azure refuses', async () => {
    for (const name of ['ab', 'Upper', 'two--hyphens', 'under_score']) {
      const error = await expectStorageError(service.getShareClient(name).create(), 400, 'InvalidResourceName');
      expect(error.message).toContain('3-63 characters of lowercase letters, digits and single hyphens');
    }
  });

  it('refuses directory and file names Azure refuses', async () => {
    for (const name of ['a:b', 'star*', 'what?', 'pipe|', 'quote"', 'less<', 'more>', 'back\\slash', 'x'.repeat(256)]) {
      await expectStorageError(share.rootDirectoryClient.getFileClient(name).create(1), 400, 'InvalidResourceName');
      await expectStorageError(share.createDirectory(name), 400, 'InvalidResourceName');
    }
    const control = await raw(`${share.name}/bad%01name?restype=directory`, { method: 'PUT', headers: { 'content-length': 0 } });
    expect(control.status).toBe(400);
    expect(control.headers['x-ms-error-code']).toBe('InvalidResourceName');
    expect(control.body).toContain('control character');
  });

  it('never lets a path leave the share, let alone the data directory', async () => {
    const attempts = ['..%2F..%2Fescape', '../../escape', '%2E%2E/%2E%2E/escape', 'dir/..%2F..%2F..%2Fescape', '%2Fabsolute'];
    for (const attempt of attempts) {
      const response = await raw(`${share.name}/${attempt}`, { method: 'PUT', headers: { 'x-ms-type': 'file', 'x-ms-content-length': 10, 'content-length': 0 } });
      expect(response.status, attempt).toBe(400);
      expect(response.headers['x-ms-error-code'], attempt).toBe('InvalidResourceName');
    }
    expect(fs.readdirSync(parent)).toEqual(['data']);
  });

  it('answers 404 ParentNotFound for writes below a missing directory', async () => {
    const error = await expectStorageError(share.getDirectoryClient('no/such/dir').getFileClient('f.txt').create(1), 404, 'ParentNotFound');
    expect(error.message).toContain('Create each directory of the path first');
    await expectStorageError(share.getDirectoryClient('nope').createSubdirectory('child'), 404, 'ParentNotFound');
    await expectStorageError(service.getShareClient(uniqueShare('missing')).rootDirectoryClient.getFileClient('f').create(1), 404, 'ShareNotFound');
    await expectStorageError(share.rootDirectoryClient.getFileClient('absent.txt').download(), 404, 'ResourceNotFound');
  });

  it('answers 416 InvalidRange for ranges past the end of the file', async () => {
    const file = share.rootDirectoryClient.getFileClient('short.bin');
    await file.create(100);
    const write = await expectStorageError(file.uploadRange(Buffer.alloc(10), 95, 10), 416, 'InvalidRange');
    expect(write.message).toContain('Resize the file first');
    await expectStorageError(file.clearRange(100, 1), 416, 'InvalidRange');
    await expectStorageError(file.download(100, 5), 416, 'InvalidRange');
    await file.uploadRange(Buffer.alloc(5, 1), 95, 5);
    expect((await file.download(98)).contentLength).toBe(2);
  });

  it('refuses Put Ranges over 4 MiB with 413 RequestBodyTooLarge, and bodies that do not match the range', async () => {
    const file = share.rootDirectoryClient.getFileClient('big-range.bin');
    await file.create(8 * 1024 * 1024);
    const tooLarge = await raw(`${share.name}/big-range.bin?comp=range`, {
      method: 'PUT',
      headers: { 'x-ms-write': 'update', 'x-ms-range': `bytes=0-${5 * 1024 * 1024 - 1}`, 'content-length': 5 * 1024 * 1024 },
      body: Buffer.alloc(5 * 1024 * 1024),
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers['x-ms-error-code']).toBe('RequestBodyTooLarge');
    expect(tooLarge.body).toContain('split the');

    const mismatch = await raw(`${share.name}/big-range.bin?comp=range`, {
      method: 'PUT',
      headers: { 'x-ms-write': 'update', 'x-ms-range': 'bytes=0-99', 'content-length': 50 },
      body: Buffer.alloc(50),
    });
    expect(mismatch.status).toBe(400);
    expect(mismatch.headers['x-ms-error-code']).toBe('InvalidHeaderValue');

    const noWrite = await raw(`${share.name}/big-range.bin?comp=range`, { method: 'PUT', headers: { 'x-ms-range': 'bytes=0-0', 'content-length': 1 }, body: Buffer.alloc(1) });
    expect(noWrite.headers['x-ms-error-code']).toBe('MissingRequiredHeader');
    expect((await file.getRangeList()).rangeList).toEqual([]);
  });

  it('refuses to mix up files and directories', async () => {
    await share.createDirectory('a-directory');
    await expectStorageError(share.rootDirectoryClient.getFileClient('a-directory').create(1), 409, 'ResourceTypeMismatch');
    await share.rootDirectoryClient.getFileClient('a-file').create(1);
    await expectStorageError(share.createDirectory('a-file'), 409, 'ResourceTypeMismatch');
    await expectStorageError(share.getDirectoryClient('a-file').createSubdirectory('x'), 404, 'ParentNotFound');
  });

  it('explains operations and features it does not have', async () => {
    const snapshot = await raw(`${share.name}?restype=share&sharesnapshot=2024-01-01T00:00:00.0000000Z`);
    expect(snapshot.headers['x-ms-error-code']).toBe('InvalidQueryParameterValue');
    expect(snapshot.body).toContain('share snapshots are not supported');
    const unknown = await raw(`${share.name}?restype=share&comp=undelete`, { method: 'PUT', headers: { 'content-length': 0 } });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['x-ms-error-code']).toBe('UnsupportedOperation');
    const lease = share.rootDirectoryClient.getFileClient('a-file');
    await expectStorageError(lease.getProperties({ leaseAccessConditions: { leaseId: '11111111-1111-1111-1111-111111111111' } }), 412, 'LeaseNotPresentWithFileOperation');
  });

  it('refuses quotas and lengths outside Azure\'s limits', async () => {
    await expectStorageError(service.getShareClient(uniqueShare()).create({ quota: 102_401 }), 400, 'InvalidHeaderValue');
    const huge = await raw(`${share.name}/huge`, { method: 'PUT', headers: { 'x-ms-type': 'file', 'x-ms-content-length': 4 * 1024 ** 4 + 1, 'content-length': 0 } });
    expect(huge.status).toBe(400);
    expect(huge.body).toContain('4 TiB');
    const withBody = await raw(`${share.name}/with-body`, { method: 'PUT', headers: { 'x-ms-type': 'file', 'x-ms-content-length': 3, 'content-length': 3 }, body: Buffer.from('abc') });
    expect(withBody.status).toBe(400);
    expect(withBody.body).toContain('write its content with Put Range');
  });

  it('logged no internal errors while serving the tests above', () => {
    expect(server.output()).not.toContain('request failed');
  });
});
