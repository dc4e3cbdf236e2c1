import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemAttributes, type ShareServiceClient } from '@azure/storage-file-share';
import { expectStorageError, shareService, stopAndClean, uniqueShare } from '../helpers/file.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

describe('File service: shares, directories, files and listings through @azure/storage-file-share', () => {
  let server: TestServer;
  let service: ShareServiceClient;

  beforeAll(async () => {
    server = await startTestServer();
    service = shareService(server);
  }, 30_000);
  afterAll(async () => {
    await stopAndClean(server);
  });

  it('serves the File service on its own port, listed in endpoints.json', async () => {
    expect(server.file).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.file).not.toBe(server.blob);
    // endpoints.json may be read before the banner's output reaches this process.
    await until(() => server.output().includes(`file: ${server.file}`));
    expect(server.output()).toContain(`file: ${server.file}`);
  });

  it('creates, lists, updates and deletes shares', async () => {
    const prefix = uniqueShare('list');
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    await service.getShareClient(names[0]!).create({ quota: 7, metadata: { team: 'vision' } });
    await service.getShareClient(names[1]!).create();
    await service.getShareClient(names[2]!).create({ accessTier: 'Cool' });
    await expectStorageError(service.getShareClient(names[0]!).create(), 409, 'ShareAlreadyExists');

    const pages: string[][] = [];
    for await (const page of service.listShares({ prefix, includeMetadata: true }).byPage({ maxPageSize: 2 })) {
      pages.push((page.shareItems ?? []).map((share) => share.name));
      if (page.shareItems?.[0]?.name === names[0]) expect(page.shareItems[0].metadata).toEqual({ team: 'vision' });
    }
    expect(pages).toEqual([[names[0], names[1]], [names[2]]]);

    const share = service.getShareClient(names[0]!);
    let properties = await share.getProperties();
    expect(properties.quota).toBe(7);
    expect(properties.metadata).toEqual({ team: 'vision' });
    expect(properties.accessTier).toBe('TransactionOptimized');
    expect((await service.getShareClient(names[2]!).getProperties()).accessTier).toBe('Cool');

    await share.setQuota(9);
    await share.setMetadata({ team: 'nlp', owner: 'ml' });
    properties = await share.getProperties();
    expect(properties.quota).toBe(9);
    expect(properties.metadata).toEqual({ team: 'nlp', owner: 'ml' });

    await share.rootDirectoryClient.getFileClient('ten-bytes').uploadData(Buffer.alloc(10, 1));
    expect((await share.getStatistics()).shareUsageBytes).toBe(10);

    await share.delete();
    await expectStorageError(share.getProperties(), 404, 'ShareNotFound');
    expect(await share.exists()).toBe(false);
  });

  it('builds a directory tree one level at a time, with names case-insensitive and case-preserving', async () => {
    const share = service.getShareClient(uniqueShare());
    await share.create();
    await share.createDirectory('Data');
    await share.getDirectoryClient('data').createSubdirectory('Raw');
    await share.getDirectoryClient('DATA/raw').createSubdirectory('2024');
    await expectStorageError(share.createDirectory('data'), 409, 'ResourceAlreadyExists');
    await expectStorageError(share.createDirectory('missing/child'), 404, 'ParentNotFound');
    expect((await share.getDirectoryClient('data/RAW').createIfNotExists()).succeeded).toBe(false);

    await share.getDirectoryClient('data/raw/2024').getFileClient('Labels.CSV').uploadData(Buffer.from('id,label\n1,cat\n'));
    const file = share.getDirectoryClient('DATA/RAW/2024').getFileClient('labels.csv');
    expect((await file.downloadToBuffer()).toString()).toBe('id,label\n1,cat\n');

    const names: string[] = [];
    for await (const entry of share.getDirectoryClient('data/raw/2024').listFilesAndDirectories()) names.push(entry.name);
    expect(names).toEqual(['Labels.CSV']);
    const root: string[] = [];
    for await (const entry of share.rootDirectoryClient.listFilesAndDirectories()) root.push(`${entry.kind}:${entry.name}`);
    expect(root).toEqual(['directory:Data']);

    const directory = share.getDirectoryClient('data/raw');
    await directory.setMetadata({ stage: 'raw' });
    const properties = await directory.getProperties();
    expect(properties.metadata).toEqual({ stage: 'raw' });
    expect(properties.fileAttributes).toBe('Directory');
    expect(properties.fileId).toMatch(/^\d+$/);
    expect(properties.fileParentId).toBe((await share.getDirectoryClient('data').getProperties()).fileId);
  });

  it('lists a directory in pages, filtered by prefix, with the properties asked for', async () => {
    const share = service.getShareClient(uniqueShare());
    await share.create();
    const directory = share.getDirectoryClient('items');
    await directory.create();
    const expected: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `file-${String(i).padStart(2, '0')}.bin`;
      await directory.getFileClient(name).create(i);
      expected.push(name);
    }
    for (let i = 0; i < 5; i++) {
      await directory.createSubdirectory(`dir-${i}`);
      expected.push(`dir-${i}`);
    }
    expected.sort();

    const pages: string[][] = [];
    for await (const page of directory.listFilesAndDirectories().byPage({ maxPageSize: 4 })) {
      const segment = page.segment;
      pages.push([...segment.directoryItems.map((d) => d.name), ...segment.fileItems.map((f) => f.name)].sort());
    }
    expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 4, 1]);
    expect(pages.flat()).toEqual(expected);

    const filtered: string[] = [];
    for await (const entry of directory.listFilesAndDirectories({ prefix: 'FILE-1' })) filtered.push(entry.name);
    expect(filtered).toEqual(['file-10.bin', 'file-11.bin']);

    const detailed = [];
    for await (const entry of directory.listFilesAndDirectories({
      prefix: 'file-03',
      includeTimestamps: true,
      includeEtag: true,
      includeAttributes: true,
      includePermissionKey: true,
      includeExtendedInfo: true,
    })) {
      detailed.push(entry);
    }
    const properties = await directory.getFileClient('file-03.bin').getProperties();
    expect(detailed).toHaveLength(1);
    expect(detailed[0]).toMatchObject({
      kind: 'file',
      name: 'file-03.bin',
      fileId: properties.fileId,
      attributes: 'Archive',
      permissionKey: properties.filePermissionKey,
      properties: { contentLength: 3, etag: properties.etag, creationTime: properties.fileCreatedOn, lastWriteTime: properties.fileLastWriteOn },
    });
  });

  it('deletes a directory only once it is empty', async () => {
    const share = service.getShareClient(uniqueShare());
    await share.create();
    const directory = share.getDirectoryClient('full');
    await directory.create();
    await directory.createSubdirectory('inner');
    await directory.getFileClient('f').create(1);
    const error = await expectStorageError(directory.delete(), 409, 'DirectoryNotEmpty');
    expect(error.message).toContain('Delete its files and subdirectories first');
    await directory.getFileClient('f').delete();
    await expectStorageError(directory.delete(), 409, 'DirectoryNotEmpty');
    await directory.getDirectoryClient('inner').delete();
    await directory.delete();
    expect(await directory.exists()).toBe(false);
    await expectStorageError(directory.getFileClient('f').getProperties(), 404, 'ParentNotFound');
  });

  it('keeps content headers, metadata and SMB properties, and returns them as Azure does', async () => {
    const share = service.getShareClient(uniqueShare());
    await share.create();
    const file = share.rootDirectoryClient.getFileClient('report.json');
    await file.uploadData(Buffer.from('{"ok":true}'), {
      fileHttpHeaders: { fileContentType: 'application/json', fileCacheControl: 'no-cache', fileContentDisposition: 'attachment' },
      metadata: { source: 'test' },
    });
    let properties = await file.getProperties();
    expect(properties).toMatchObject({
      contentLength: 11,
      contentType: 'application/json',
      cacheControl: 'no-cache',
      contentDisposition: 'attachment',
      metadata: { source: 'test' },
      fileAttributes: 'Archive',
    });
    const download = await file.download();
    expect(download.contentType).toBe('application/json');

    const created = new Date('2021-05-04T03:02:01.123Z');
    await file.setProperties({ fileAttributes: FileSystemAttributes.parse('ReadOnly|Hidden'), creationTime: created, fileHttpHeaders: { fileContentType: 'text/plain' } });
    properties = await file.getProperties();
    expect(properties.fileAttributes).toBe('ReadOnly|Hidden');
    expect(properties.fileCreatedOn?.toISOString()).toBe(created.toISOString());
    expect(properties.contentType).toBe('text/plain');
    // Set File Properties clears content headers it does not send, as Azure documents.
    expect(properties.cacheControl).toBeUndefined();

    const before = properties.etag;
    await file.setMetadata({ reviewed: 'yes' });
    properties = await file.getProperties();
    expect(properties.metadata).toEqual({ reviewed: 'yes' });
    expect(properties.etag).not.toBe(before);
    expect(properties.contentLength).toBe(11);
  });

  it('copies a file within the service; the copy does not change with its source', async () => {
    const share = service.getShareClient(uniqueShare());
    await share.create();
    const source = share.rootDirectoryClient.getFileClient('source.bin');
    const bytes = Buffer.from('0123456789abcdef');
    await source.uploadData(bytes, { metadata: { origin: 'source' } });
    await share.createDirectory('copies');
    const copy = share.getDirectoryClient('copies').getFileClient('copy.bin');
    const started = await copy.startCopyFromURL(source.url);
    expect(started.copyStatus).toBe('success');

    await source.uploadRange(Buffer.from('XXXX'), 0, 4);
    expect((await copy.downloadToBuffer()).equals(bytes)).toBe(true);
    const properties = await copy.getProperties();
    expect(properties.copyStatus).toBe('success');
    expect(properties.copyId).toBe(started.copyId);
    expect(properties.metadata).toEqual({ origin: 'source' });

    await source.delete();
    expect((await copy.downloadToBuffer()).equals(bytes)).toBe(true);
    await expectStorageError(copy.startCopyFromURL(source.url), 404, 'CannotVerifyCopySource');
    await expectStorageError(copy.abortCopyFromURL(started.copyId!), 409, 'NoPendingCopyOperation');
  });

  it('stores permissions and hands out their keys', async () => {
    const share = service.getShareClient(uniqueShare());
    await share.create();
    const sddl = 'O:BAG:SYD:(A;;FA;;;SY)(A;;0x1200a9;;;BU)';
    const { filePermissionKey } = await share.createPermission(sddl);
    expect((await share.getPermission(filePermissionKey!)).permission).toBe(sddl);

    await share.createDirectory('secured', { filePermissionKey });
    const inherited = share.getDirectoryClient('secured').getFileClient('child.txt');
    await inherited.create(0);
    expect((await inherited.getProperties()).filePermissionKey).toBe(filePermissionKey);
    await expectStorageError(share.createDirectory('other', { filePermissionKey: '1*2' }), 400, 'InvalidHeaderValue');
  });

  it('reads back the service properties it was given', async () => {
    await service.setProperties({ cors: [{ allowedOrigins: 'https://example.com', allowedMethods: 'GET', allowedHeaders: '*', exposedHeaders: '*', maxAgeInSeconds: 60 }] });
    const properties = await service.getProperties();
    expect(properties.cors).toEqual([{ allowedOrigins: 'https://example.com', allowedMethods: 'GET', allowedHeaders: '*', exposedHeaders: '*', maxAgeInSeconds: 60 }]);
    expect(properties.hourMetrics?.enabled).toBe(false);
  });

  it('logged no internal errors while serving the tests above', () => {
    expect(server.output()).not.toContain('request failed');
  });
});
