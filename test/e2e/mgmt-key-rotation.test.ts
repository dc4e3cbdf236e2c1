import fs from 'node:fs';
import { BlobServiceClient, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { managementClients } from '../helpers/management.js';
import { startTestServer, storedMetadata, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-rotation';
const ACCOUNT = 'rotationacct';
const WORKSPACE = 'rotation-ws';

/**
 * The documented procedure, end to end with the official clients: regenerate
 * key1, see who breaks, sync the workspace, re-register the user datastore.
 */
describe('regenerating a storage account key', { timeout: 90_000 }, () => {
  let server: TestServer;
  let clients: ReturnType<typeof managementClients>;
  let key1: string;
  let key2: string;
  let accountSas: string;

  const blobService = (key: string) => new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key));
  const upload = (container: string, name: string, key: string) => blobService(key).getContainerClient(container).getBlockBlobClient(name).upload('model bytes', 11);
  const refused = { statusCode: 403, code: 'AuthenticationFailed' };

  beforeAll(async () => {
    server = await startTestServer();
    clients = managementClients(server);
    await clients.resources.resourceGroups.createOrUpdate(GROUP, { location: 'eastus' });
    const account = await clients.storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, {
      location: 'eastus',
      sku: { name: 'Standard_LRS' },
      kind: 'StorageV2',
      tags: { purpose: 'rotation' },
    });
    expect(account.provisioningState).toBe('Succeeded');
    expect(account.primaryEndpoints?.blob).toBe(`${server.blob}/${ACCOUNT}/`);
    [key1, key2] = (await clients.storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys!.map((key) => key.value!);
    accountSas = (
      await clients.storage.storageAccounts.listAccountSAS(GROUP, ACCOUNT, {
        services: 'b',
        resourceTypes: 'sco',
        permissions: 'rwl',
        sharedAccessExpiryTime: new Date(Date.now() + 3600_000),
        keyToSign: 'key1',
      })
    ).accountSasToken!;

    const workspace = await clients.ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'eastus', storageAccount: account.id });
    expect(workspace.provisioningState).toBe('Succeeded');
    await blobService(key1).createContainer('training');
    await clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'trainingdata', {
      properties: {
        datastoreType: 'AzureBlob',
        accountName: ACCOUNT,
        containerName: 'training',
        credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: key1 } },
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('the workspace came with its system datastores, holding its copy of key1, in containers that exist', async () => {
    const datastores = new Map<string, any>();
    for await (const datastore of clients.ml.datastores.list(GROUP, WORKSPACE)) datastores.set(datastore.name!, datastore.properties);
    expect([...datastores.keys()].sort()).toEqual(['trainingdata', 'workspaceartifactstore', 'workspaceblobstore', 'workspacefilestore']);
    const defaults = [];
    for await (const datastore of clients.ml.datastores.list(GROUP, WORKSPACE, { isDefault: true })) defaults.push(datastore.name);
    expect(defaults).toEqual(['workspaceblobstore']);
    const blobstore = datastores.get('workspaceblobstore');
    expect(blobstore).toMatchObject({ datastoreType: 'AzureBlob', accountName: ACCOUNT, isDefault: true, credentials: { credentialsType: 'AccountKey' } });
    expect(blobstore.credentials.secrets).toBeUndefined();
    expect(datastores.get('workspacefilestore')).toMatchObject({ datastoreType: 'AzureFile', fileShareName: expect.stringMatching(/^azureml-filestore-/) });
    expect(await clients.ml.datastores.listSecrets(GROUP, WORKSPACE, 'workspaceblobstore')).toEqual({ secretsType: 'AccountKey', key: key1 });
    expect((await clients.ml.workspaces.listKeys(GROUP, WORKSPACE)).userStorageKey).toBe(key1);
    for (const name of ['workspaceblobstore', 'workspaceartifactstore']) {
      expect(await blobService(key2).getContainerClient(datastores.get(name).containerName).exists(), name).toBe(true);
    }
  });

  test('a model registered on files uploaded through the workspace key', async () => {
    const { userStorageKey } = await clients.ml.workspaces.listKeys(GROUP, WORKSPACE);
    const { containerName } = (await clients.ml.datastores.get(GROUP, WORKSPACE, 'workspaceblobstore')).properties as { containerName: string };
    await upload(containerName, 'models/classifier/1/model.pkl', userStorageKey!);
    const version = await clients.ml.modelVersions.createOrUpdate(GROUP, WORKSPACE, 'classifier', '1', {
      properties: { modelUri: 'azureml://datastores/workspaceblobstore/paths/models/classifier/1/', modelType: 'custom_model', description: 'first' },
    });
    expect(version.properties.modelUri).toBe('azureml://datastores/workspaceblobstore/paths/models/classifier/1/');
    expect((await clients.ml.modelContainers.get(GROUP, WORKSPACE, 'classifier')).properties).toMatchObject({ latestVersion: '1', nextVersion: '2' });
  });

  describe('after regenerateKey(key1)', () => {
    let newKey1: string;
    let datastoreKey: string;
    let workspaceKey: string;

    beforeAll(async () => {
      // Clients holding each key have made a request, so nothing below is a first-request effect.
      await blobService(key1).getContainerClient('training').exists();
      await blobService(key2).getContainerClient('training').exists();
      const before = (await clients.storage.storageAccounts.getProperties(GROUP, ACCOUNT)).keyCreationTime!;
      const keys = (await clients.storage.storageAccounts.regenerateKey(GROUP, ACCOUNT, { keyName: 'key1' })).keys!;
      newKey1 = keys[0]!.value!;
      expect(newKey1).not.toBe(key1);
      expect(keys[1]!.value).toBe(key2);
      const after = (await clients.storage.storageAccounts.getProperties(GROUP, ACCOUNT)).keyCreationTime!;
      expect(after.key1!.getTime()).toBeGreaterThan(before.key1!.getTime());
      expect(after.key2).toEqual(before.key2);
      datastoreKey = ((await clients.ml.datastores.listSecrets(GROUP, WORKSPACE, 'trainingdata')) as { key: string }).key;
      workspaceKey = (await clients.ml.workspaces.listKeys(GROUP, WORKSPACE)).userStorageKey!;
    });

    test('(a) the old key1 is refused on its very next request, and so is a SAS it signed; key2 keeps working', async () => {
      await expect(blobService(key1).getContainerClient('training').getProperties()).rejects.toMatchObject(refused);
      await expect(new ContainerClient(`${server.blob}/${ACCOUNT}/training?${accountSas}`).getProperties()).rejects.toMatchObject(refused);
      expect((await blobService(key2).getContainerClient('training').getProperties())._response.status).toBe(200);
      expect((await blobService(newKey1).getContainerClient('training').getProperties())._response.status).toBe(200);
    });

    test('(b) the workspace copy is stale until resyncKeys, after which uploads work', async () => {
      expect(workspaceKey).toBe(key1);
      const { containerName } = (await clients.ml.datastores.get(GROUP, WORKSPACE, 'workspaceblobstore')).properties as { containerName: string };
      await expect(upload(containerName, 'models/classifier/2/model.pkl', workspaceKey)).rejects.toMatchObject(refused);

      await clients.ml.workspaces.beginResyncKeysAndWait(GROUP, WORKSPACE);
      const synced = (await clients.ml.workspaces.listKeys(GROUP, WORKSPACE)).userStorageKey!;
      expect(synced).toBe(newKey1);
      expect((await upload(containerName, 'models/classifier/2/model.pkl', synced))._response.status).toBe(201);
      expect(await clients.ml.datastores.listSecrets(GROUP, WORKSPACE, 'workspaceblobstore')).toEqual({ secretsType: 'AccountKey', key: newKey1 });
      await clients.ml.modelVersions.createOrUpdate(GROUP, WORKSPACE, 'classifier', '2', {
        properties: { modelUri: 'azureml://datastores/workspaceblobstore/paths/models/classifier/2/' },
      });
      expect((await clients.ml.modelContainers.get(GROUP, WORKSPACE, 'classifier')).properties).toMatchObject({ latestVersion: '2', nextVersion: '3' });
    });

    test('(c) a user datastore keeps failing, even after resyncKeys, until re-registered with the new key', async () => {
      expect(datastoreKey).toBe(key1);
      await clients.ml.workspaces.beginResyncKeysAndWait(GROUP, WORKSPACE);
      const held = ((await clients.ml.datastores.listSecrets(GROUP, WORKSPACE, 'trainingdata')) as { key: string }).key;
      expect(held).toBe(key1);
      await expect(upload('training', 'data.csv', held)).rejects.toMatchObject(refused);

      const registration = (key: string) => ({
        properties: {
          datastoreType: 'AzureBlob' as const,
          accountName: ACCOUNT,
          containerName: 'training',
          credentials: { credentialsType: 'AccountKey' as const, secrets: { secretsType: 'AccountKey' as const, key } },
        },
      });
      // Re-registering with the stale key is refused by validation, naming the cause.
      await expect(clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'trainingdata', registration(key1))).rejects.toMatchObject({
        statusCode: 400,
        code: 'DatastoreValidationFailed',
        message: expect.stringContaining('not a current key'),
      });
      await clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'trainingdata', registration(newKey1));
      const renewed = ((await clients.ml.datastores.listSecrets(GROUP, WORKSPACE, 'trainingdata')) as { key: string }).key;
      expect(renewed).toBe(newKey1);
      expect((await upload('training', 'data.csv', renewed))._response.status).toBe(201);
    });

    test('no key or secret reached the log, and none is stored in the clear', async () => {
      const admin = JSON.parse(fs.readFileSync(server.adminClientFile, 'utf8'));
      const secrets = [key1, key2, newKey1, admin.clientSecret];
      const output = server.output();
      for (const secret of secrets) expect(output).not.toContain(secret);
      const stored = await storedMetadata(server);
      expect(stored).toContain('rotationacct');
      for (const secret of secrets) expect(stored).not.toContain(secret);
    });
  });
});
