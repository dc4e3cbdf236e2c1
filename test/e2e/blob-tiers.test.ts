import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { managementClients } from '../helpers/management.js';
import { DEV_ACCOUNT, DEV_KEY, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Rehydration takes 2 s here (High priority: 0.2 s), so the test can watch one finish.
  server = await startTestServer({ args: ['--rehydrate-delay', '2'] });
  container = await newDevContainer(server, 'tiers');
});
afterAll(() => server.stop());

describe('access tiers', () => {
  it("infers the account's default tier, and takes one given on upload or by Set Blob Tier", async () => {
    const inferred = container.getBlockBlobClient('inferred');
    await inferred.upload('x', 1);
    let properties = await inferred.getProperties();
    expect([properties.accessTier, properties.accessTierInferred, properties.accessTierChangedOn]).toEqual(['Hot', true, undefined]);

    const cool = container.getBlockBlobClient('cool');
    await cool.upload('x', 1, { tier: 'Cool' });
    properties = await cool.getProperties();
    expect([properties.accessTier, properties.accessTierInferred]).toEqual(['Cool', undefined]);
    expect(properties.accessTierChangedOn).toBeInstanceOf(Date);

    expect((await inferred.setAccessTier('Cold'))._response.status).toBe(200);
    properties = await inferred.getProperties();
    expect([properties.accessTier, properties.accessTierInferred]).toEqual(['Cold', undefined]);

    const listed: Record<string, [string | undefined, boolean | undefined]> = {};
    for await (const item of container.listBlobsFlat()) listed[item.name] = [item.properties.accessTier, item.properties.accessTierInferred];
    expect(listed).toMatchObject({ inferred: ['Cold', undefined], cool: ['Cool', undefined] });
  });

  it('keeps a tier set while metadata or properties change at the same moment (neither changes the ETag the other checks)', async () => {
    const blob = container.getBlockBlobClient('racing');
    await blob.upload('x', 1);
    for (let round = 0; round < 30; round++) {
      const tier = round % 2 === 0 ? 'Cool' : 'Hot';
      await Promise.all([blob.setAccessTier(tier), blob.setMetadata({ round: String(round) }), blob.setHTTPHeaders({ blobContentType: `text/r${round}` })]);
      const properties = await blob.getProperties();
      expect([properties.accessTier, properties.metadata?.round]).toEqual([tier, String(round)]);
    }
  });

  it('refuses reads and content changes of an archived blob with 409 BlobArchived, and keeps its properties readable', async () => {
    const blob = container.getBlockBlobClient('archived');
    await blob.upload('cold storage', 12, { tier: 'Archive' });
    expect((await blob.getProperties()).accessTier).toBe('Archive');
    expect(statusAndCode(await errorOf(blob.download()))).toEqual([409, 'BlobArchived']);
    expect(statusAndCode(await errorOf(blob.setMetadata({ a: 'b' })))).toEqual([409, 'BlobArchived']);
    expect(statusAndCode(await errorOf(blob.createSnapshot()))).toEqual([409, 'BlobArchived']);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
    expect(statusAndCode(await errorOf(container.getBlockBlobClient('copy').syncCopyFromURL(`${blob.url}?${sas}`)))).toEqual([409, 'BlobArchived']);
  });

  it('rehydrates out of Archive after the delay, showing the pending status meanwhile', async () => {
    const blob = container.getBlockBlobClient('rehydrating');
    await blob.upload('frozen', 6);
    await blob.setAccessTier('Archive');
    expect((await blob.setAccessTier('Hot'))._response.status).toBe(202);
    let properties = await blob.getProperties();
    expect([properties.accessTier, properties.archiveStatus, properties.rehydratePriority]).toEqual(['Archive', 'rehydrate-pending-to-hot', 'Standard']);
    expect(statusAndCode(await errorOf(blob.download()))).toEqual([409, 'BlobArchived']);
    expect(statusAndCode(await errorOf(blob.setAccessTier('Cool')))).toEqual([409, 'BlobBeingRehydrated']);
    const listed = [];
    for await (const item of container.listBlobsFlat({ prefix: 'rehydrating' })) listed.push(item.properties.archiveStatus);
    expect(listed).toEqual(['rehydrate-pending-to-hot']);
    await sleep(2200);
    properties = await blob.getProperties();
    expect([properties.accessTier, properties.archiveStatus]).toEqual(['Hot', undefined]);
    expect((await blob.downloadToBuffer()).toString()).toBe('frozen');
  });

  it('rehydrates at High priority in a tenth of the time, and lets a Standard rehydration be hurried', async () => {
    const blob = container.getBlockBlobClient('urgent');
    await blob.upload('now', 3, { tier: 'Archive' });
    await blob.setAccessTier('Cool');
    expect((await blob.setAccessTier('Cool', { rehydratePriority: 'High' }))._response.status).toBe(202);
    expect((await blob.getProperties()).rehydratePriority).toBe('High');
    await sleep(400);
    expect((await blob.getProperties()).accessTier).toBe('Cool');
  });

  it('takes the default tier from the account, as the management plane sets it', async () => {
    const { resources, storage } = managementClients(server);
    await resources.resourceGroups.createOrUpdate('tiers-rg', { location: 'eastus' });
    await storage.storageAccounts.beginCreateAndWait('tiers-rg', 'coolaccount', { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2', accessTier: 'Cool' });
    const key = (await storage.storageAccounts.listKeys('tiers-rg', 'coolaccount')).keys![0]!.value!;
    const blobs = new BlobServiceClient(`${server.blob}/coolaccount`, new StorageSharedKeyCredential('coolaccount', key)).getContainerClient('data');
    await blobs.create();
    await blobs.getBlockBlobClient('b').upload('x', 1);
    expect([(await blobs.getBlockBlobClient('b').getProperties()).accessTier]).toEqual(['Cool']);
    await storage.storageAccounts.update('tiers-rg', 'coolaccount', { accessTier: 'Hot' });
    expect((await blobs.getBlockBlobClient('b').getProperties()).accessTier).toBe('Hot');
  });

  it('refuses unknown tiers and priorities with a message that says what to use', async () => {
    const blob = container.getBlockBlobClient('bad-tier');
    await blob.upload('x', 1);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
    const setTier = (headers: Record<string, string>) =>
      fetch(`${server.blob}/${DEV_ACCOUNT}/tiers/bad-tier?comp=tier&${sas}`, { method: 'PUT', headers }).then(async (response) => [response.status, response.headers.get('x-ms-error-code'), await response.text()] as const);
    const lukewarm = await setTier({ 'x-ms-access-tier': 'Lukewarm' });
    expect(lukewarm.slice(0, 2)).toEqual([400, 'InvalidHeaderValue']);
    expect(lukewarm[2]).toContain('Hot, Cool, Cold, Archive');
    expect((await setTier({})).slice(0, 2)).toEqual([400, 'MissingRequiredHeader']);
    expect((await setTier({ 'x-ms-access-tier': 'Hot', 'x-ms-rehydrate-priority': 'Urgent' })).slice(0, 2)).toEqual([400, 'InvalidHeaderValue']);
    const upload = await fetch(`${server.blob}/${DEV_ACCOUNT}/tiers/bad-upload?${sas}`, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-access-tier': 'Frozen' } });
    expect([upload.status, upload.headers.get('x-ms-error-code')]).toEqual([400, 'InvalidHeaderValue']);
    expect(statusAndCode(await errorOf(container.getBlobClient('bad-upload').getProperties()))).toEqual([404, 'BlobNotFound']);
  });
});
