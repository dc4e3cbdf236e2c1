import { BlobSASPermissions, BlobServiceClient, ContainerSASPermissions, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { managementClients } from '../helpers/management.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let clients: ReturnType<typeof managementClients>;

beforeAll(async () => {
  server = await startTestServer();
  clients = managementClients(server);
  await clients.resources.resourceGroups.createOrUpdate('versions-rg', { location: 'eastus' });
});
afterAll(() => server.stop());

/** A new account with the given Blob service settings, and a container in it. */
async function accountWith(name: string, properties: Parameters<typeof clients.storage.blobServices.setServiceProperties>[2]): Promise<ContainerClient> {
  await clients.storage.storageAccounts.beginCreateAndWait('versions-rg', name, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
  await clients.storage.blobServices.setServiceProperties('versions-rg', name, properties);
  const key = (await clients.storage.storageAccounts.listKeys('versions-rg', name)).keys![0]!.value!;
  const service = BlobServiceClient.fromConnectionString(
    `DefaultEndpointsProtocol=http;AccountName=${name};AccountKey=${key};BlobEndpoint=${server.blob}/${name};`,
    { retryOptions: { maxTries: 1 } },
  );
  const container = service.getContainerClient('data');
  await container.create();
  return container;
}

async function listed(container: ContainerClient, options: Parameters<ContainerClient['listBlobsFlat']>[0]) {
  const rows: string[] = [];
  for await (const item of container.listBlobsFlat(options)) {
    rows.push(
      [item.name, item.snapshot && 'snapshot', item.versionId && (item.isCurrentVersion ? 'current' : 'version'), item.deleted && `deleted ${item.properties.remainingRetentionDays}d`]
        .filter(Boolean)
        .join(' '),
    );
  }
  return rows;
}

describe('blob service settings through the management plane', () => {
  it('are read and set with blobServices, and bad settings are refused with the field to fix', async () => {
    await clients.storage.storageAccounts.beginCreateAndWait('versions-rg', 'settingsacct', { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    const initial = await clients.storage.blobServices.getServiceProperties('versions-rg', 'settingsacct');
    expect([initial.name, initial.isVersioningEnabled, initial.deleteRetentionPolicy?.enabled]).toEqual(['default', false, false]);
    const set = await clients.storage.blobServices.setServiceProperties('versions-rg', 'settingsacct', {
      isVersioningEnabled: true,
      deleteRetentionPolicy: { enabled: true, days: 7 },
      cors: { corsRules: [] },
    });
    expect([set.isVersioningEnabled, set.deleteRetentionPolicy?.days]).toEqual([true, 7]);
    const again = await clients.storage.blobServices.getServiceProperties('versions-rg', 'settingsacct');
    expect([again.isVersioningEnabled, again.deleteRetentionPolicy]).toEqual([true, { enabled: true, days: 7, allowPermanentDelete: false }]);
    // A change to the account itself (PATCH, or PUT again) keeps its Blob service's settings.
    await clients.storage.storageAccounts.update('versions-rg', 'settingsacct', { allowSharedKeyAccess: true, tags: { kept: 'yes' } });
    await clients.storage.storageAccounts.beginCreateAndWait('versions-rg', 'settingsacct', { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    expect((await clients.storage.blobServices.getServiceProperties('versions-rg', 'settingsacct')).isVersioningEnabled).toBe(true);
    const list = [];
    for await (const service of clients.storage.blobServices.list('versions-rg', 'settingsacct')) list.push(service.name);
    expect(list).toEqual(['default']);

    const refused = async (properties: object) => {
      const error = (await errorOf(clients.storage.blobServices.setServiceProperties('versions-rg', 'settingsacct', properties as never))) as { statusCode?: number; message: string };
      return [error.statusCode, error.message];
    };
    expect(await refused({ deleteRetentionPolicy: { enabled: true } })).toEqual([400, expect.stringContaining('deleteRetentionPolicy.days')]);
    expect(await refused({ deleteRetentionPolicy: { enabled: true, days: 0 } })).toEqual([400, expect.stringContaining('from 1 to 365')]);
    expect(await refused({ isVersioningEnabled: 'yes' })).toEqual([400, expect.stringContaining('isVersioningEnabled')]);
  });
});

describe('versioning', () => {
  it('keeps every write as a version, readable and deletable by versionid, and a delete keeps the blob as one', async () => {
    const container = await accountWith('versioned', { isVersioningEnabled: true });
    const blob = container.getBlockBlobClient('model.bin');
    const v1 = (await blob.upload('first', 5)).versionId!;
    const v2 = (await blob.upload('second', 6)).versionId!;
    const v3 = (await blob.setMetadata({ stage: 'prod' })).versionId!;
    expect(new Set([v1, v2, v3]).size).toBe(3);
    const properties = await blob.getProperties();
    expect([properties.versionId, properties.isCurrentVersion, properties.metadata]).toEqual([v3, true, { stage: 'prod' }]);
    // Set Blob Properties does not make a version.
    await blob.setHTTPHeaders({ blobContentType: 'text/plain' });
    expect((await blob.getProperties()).versionId).toBe(v3);

    expect((await blob.withVersion(v1).downloadToBuffer()).toString()).toBe('first');
    const old = await blob.withVersion(v2).getProperties();
    expect([old.versionId, old.isCurrentVersion, old.metadata]).toEqual([v2, false, {}]);
    expect(statusAndCode(await errorOf(blob.withVersion(v1).setMetadata({ x: 'y' })))).toEqual([400, 'InvalidQueryParameterValue']);
    expect(await listed(container, { includeVersions: true })).toEqual(['model.bin version', 'model.bin version', 'model.bin current']);

    // Promote the first version by copying it over the blob.
    const sas = await container.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) });
    const source = new URL(blob.withVersion(v1).url);
    source.search = `${source.search}&${new URL(sas).search.slice(1)}`;
    const promoted = await blob.syncCopyFromURL(source.href);
    expect((await blob.downloadToBuffer()).toString()).toBe('first');
    expect((await blob.getProperties()).versionId).toBe(promoted.versionId);

    // Deleting the blob keeps it as a version; deleting a version deletes it.
    await blob.delete();
    expect(statusAndCode(await errorOf(blob.getProperties()))).toEqual([404, 'BlobNotFound']);
    expect(await listed(container, {})).toEqual([]);
    expect(await listed(container, { includeVersions: true })).toEqual(['model.bin version', 'model.bin version', 'model.bin version', 'model.bin version']);
    // A SAS deletes a version only with the delete-version permission (x); d is not enough, as in Azure.
    const sasFor = async (permissions: string) =>
      new BlobServiceClient((await container.generateSasUrl({ permissions: ContainerSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + 3600_000) })).replace('/data?', '?'), undefined, {
        retryOptions: { maxTries: 1 },
      })
        .getContainerClient('data')
        .getBlobClient('model.bin');
    expect(statusAndCode(await errorOf((await sasFor('rd')).withVersion(v2).delete()))).toEqual([403, 'AuthorizationPermissionMismatch']);
    await (await sasFor('x')).withVersion(v2).delete();
    expect(statusAndCode(await errorOf(blob.withVersion(v2).getProperties()))).toEqual([404, 'BlobNotFound']);
    expect((await blob.withVersion(promoted.versionId!).downloadToBuffer()).toString()).toBe('first');
    expect(await listed(container, { includeVersions: true })).toHaveLength(3);
    expect(statusAndCode(await errorOf(blob.withVersion('not-a-time').getProperties()))).toEqual([400, 'InvalidQueryParameterValue']);
  });

  it('keeps the written pages of a page blob version', async () => {
    const container = await accountWith('pageversions', { isVersioningEnabled: true });
    const disk = container.getPageBlobClient('disk.img');
    const first = (await disk.create(4096)).versionId!;
    await disk.uploadPages(Buffer.alloc(512, 1), 0, 512);
    // Recreating the blob makes a new version; the old one keeps its pages.
    await disk.create(4096);
    expect((await disk.downloadToBuffer(0, 512)).equals(Buffer.alloc(512))).toBe(true);
    const old = disk.withVersion(first).getPageBlobClient();
    expect((await old.downloadToBuffer(0, 512)).equals(Buffer.alloc(512, 1))).toBe(true);
    const ranges = [];
    for await (const range of old.listPageRanges()) ranges.push([range.start, range.end]);
    expect(ranges).toEqual([[0, 511]]);
  });
});

describe('soft delete', () => {
  it('keeps deleted blobs and snapshots for the retention days, listed as deleted, until Undelete Blob restores them', async () => {
    const container = await accountWith('softdelete', { deleteRetentionPolicy: { enabled: true, days: 7 } });
    const blob = container.getBlockBlobClient('report.csv');
    await blob.upload('a,b\n1,2\n', 8);
    const { snapshot } = await blob.createSnapshot();
    const deleted = await blob.delete({ deleteSnapshots: 'include' });
    expect(deleted._response.headers.get('x-ms-delete-type-permanent')).toBe('false');
    expect(statusAndCode(await errorOf(blob.getProperties()))).toEqual([404, 'BlobNotFound']);
    expect(statusAndCode(await errorOf(blob.withSnapshot(snapshot!).getProperties()))).toEqual([404, 'BlobNotFound']);
    expect(await listed(container, {})).toEqual([]);
    expect(await listed(container, { includeDeleted: true, includeSnapshots: true })).toEqual(['report.csv snapshot deleted 7d', 'report.csv deleted 7d']);

    await blob.undelete();
    expect((await blob.downloadToBuffer()).toString()).toBe('a,b\n1,2\n');
    expect((await blob.withSnapshot(snapshot!).downloadToBuffer()).toString()).toBe('a,b\n1,2\n');
    expect(await listed(container, { includeDeleted: true, includeSnapshots: true })).toEqual(['report.csv snapshot', 'report.csv']);

    // A blob written again under the name keeps it; Undelete then restores only snapshots.
    await blob.delete({ deleteSnapshots: 'include' });
    await blob.upload('new', 3);
    await blob.undelete();
    expect((await blob.downloadToBuffer()).toString()).toBe('new');
    expect((await blob.withSnapshot(snapshot!).downloadToBuffer()).toString()).toBe('a,b\n1,2\n');

    expect(statusAndCode(await errorOf(container.getBlockBlobClient('never.txt').undelete()))).toEqual([404, 'BlobNotFound']);
  });

  it('deletes for good where no policy keeps anything', async () => {
    const container = await accountWith('harddelete', { deleteRetentionPolicy: { enabled: false } });
    const blob = container.getAppendBlobClient('log.txt');
    await blob.create();
    await blob.appendBlock('line\n', 5);
    const deleted = await blob.delete();
    expect(deleted._response.headers.get('x-ms-delete-type-permanent')).toBe('true');
    expect(await listed(container, { includeDeleted: true, includeVersions: true })).toEqual([]);
    expect(statusAndCode(await errorOf(blob.undelete()))).toEqual([404, 'BlobNotFound']);
  });

  it('restores a soft-deleted append blob whole, and a deleted version of a versioned account', async () => {
    const container = await accountWith('softboth', { isVersioningEnabled: true, deleteRetentionPolicy: { enabled: true, days: 3 } });
    const log = container.getAppendBlobClient('app.log');
    const first = (await log.create()).versionId!;
    await log.appendBlock('one\n', 4);
    await log.create();
    await log.withVersion(first).delete();
    expect(await listed(container, { includeVersions: true, includeDeleted: true })).toEqual(['app.log version deleted 3d', 'app.log current']);
    await log.undelete();
    expect((await log.withVersion(first).downloadToBuffer()).toString()).toBe('one\n');
  });
});

describe('uncommitted blobs', () => {
  it('are listed with include=uncommittedblobs until their block list is committed', async () => {
    const container = await accountWith('staged', {});
    const blob = container.getBlockBlobClient('upload.bin');
    await blob.stageBlock(Buffer.from('AAAA').toString('base64'), 'data', 4);
    expect(await listed(container, {})).toEqual([]);
    const rows = [];
    for await (const item of container.listBlobsFlat({ includeUncommitedBlobs: true })) rows.push([item.name, item.properties.contentLength]);
    expect(rows).toEqual([['upload.bin', 0]]);
    await blob.commitBlockList([Buffer.from('AAAA').toString('base64')]);
    expect(await listed(container, { includeUncommitedBlobs: true })).toEqual(['upload.bin']);
  });
});

describe('containers', () => {
  it('are soft-deleted under a container retention policy, listed as deleted, and restored whole', async () => {
    const container = await accountWith('containersoft', { containerDeleteRetentionPolicy: { enabled: true, days: 2 } });
    const blobService = BlobServiceClient.fromConnectionString(
      `DefaultEndpointsProtocol=http;AccountName=containersoft;AccountKey=${(await clients.storage.storageAccounts.listKeys('versions-rg', 'containersoft')).keys![0]!.value!};BlobEndpoint=${server.blob}/containersoft;`,
      { retryOptions: { maxTries: 1 } },
    );
    await container.getBlockBlobClient('kept.txt').upload('kept', 4);
    await container.delete();
    expect(statusAndCode(await errorOf(container.getProperties()))).toEqual([404, 'ContainerNotFound']);
    const names = async (includeDeleted: boolean) => {
      const rows = [];
      for await (const item of blobService.listContainers({ includeDeleted })) rows.push(item.deleted ? `${item.name} deleted ${item.properties.remainingRetentionDays}d` : item.name);
      return rows;
    };
    expect(await names(false)).toEqual([]);
    expect(await names(true)).toEqual(['data deleted 2d']);
    // A new container may take the name meanwhile; the deleted one waits.
    await container.create();
    let version = '';
    for await (const item of blobService.listContainers({ includeDeleted: true })) if (item.deleted) version = item.version!;
    expect(statusAndCode(await errorOf(blobService.undeleteContainer('data', version)))).toEqual([409, 'ContainerAlreadyExists']);
    await container.delete();
    const versions: string[] = [];
    for await (const item of blobService.listContainers({ includeDeleted: true })) if (item.deleted) versions.push(item.version!);
    expect(versions).toHaveLength(2);
    const { containerClient } = await blobService.undeleteContainer('data', version);
    expect((await containerClient.getBlockBlobClient('kept.txt').downloadToBuffer()).toString()).toBe('kept');
    expect(statusAndCode(await errorOf(blobService.undeleteContainer('data', '0000000000000000')))).toEqual([404, 'ContainerNotFound']);

    // Rename Container moves it and everything in it; the SDK keeps the operation in its generated layer.
    const renamed = blobService.getContainerClient('renamed');
    await (renamed as unknown as { containerContext: { rename(source: string): Promise<unknown> } }).containerContext.rename('data');
    expect((await renamed.getBlockBlobClient('kept.txt').downloadToBuffer()).toString()).toBe('kept');
    expect(statusAndCode(await errorOf(containerClient.getProperties()))).toEqual([404, 'ContainerNotFound']);
  });

  it('answer service stats, and CORS preflights by the rules set in the service properties', async () => {
    const container = await accountWith('corsacct', {});
    const key = (await clients.storage.storageAccounts.listKeys('versions-rg', 'corsacct')).keys![0]!.value!;
    const blobService = BlobServiceClient.fromConnectionString(`DefaultEndpointsProtocol=http;AccountName=corsacct;AccountKey=${key};BlobEndpoint=${server.blob}/corsacct;`);
    expect((await blobService.getStatistics()).geoReplication?.status).toBe('unavailable');
    const preflight = (origin: string, method: string, headers = 'x-ms-version,x-ms-meta-team') =>
      fetch(`${server.blob}/corsacct/data/file.txt`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
    const before = await preflight('https://console.example', 'PUT');
    expect([before.status, before.headers.get('x-ms-error-code')]).toEqual([403, 'CorsPreflightFailure']);
    await blobService.setProperties({
      cors: [{ allowedOrigins: 'https://console.example', allowedMethods: 'GET,PUT', allowedHeaders: 'x-ms-version,x-ms-meta-*', exposedHeaders: 'x-ms-request-id', maxAgeInSeconds: 600 }],
    });
    const allowed = await preflight('https://console.example', 'PUT');
    expect([allowed.status, allowed.headers.get('access-control-allow-origin'), allowed.headers.get('access-control-allow-methods'), allowed.headers.get('access-control-max-age')]).toEqual([
      200,
      'https://console.example',
      'PUT',
      '600',
    ]);
    expect((await preflight('https://other.example', 'PUT')).status).toBe(403);
    expect((await preflight('https://console.example', 'DELETE')).status).toBe(403);
    expect((await preflight('https://console.example', 'PUT', 'x-custom')).status).toBe(403);
    // The answer to the real request lets the page read it.
    const sas = await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3600_000) });
    const listing = await fetch(`${sas}&restype=container&comp=list`, { headers: { origin: 'https://console.example' } });
    expect([listing.status, listing.headers.get('access-control-allow-origin'), listing.headers.get('access-control-expose-headers')]).toEqual([200, 'https://console.example', 'x-ms-request-id']);
  });
});
