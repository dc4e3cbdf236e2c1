import { BlobServiceClient, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { errorOf } from '../helpers/errors.js';
import { DEV_ACCOUNT, DEV_KEY, startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-resources';
const ACCOUNT = 'resourcesacct';
const WORKSPACE = 'resources-ws';

describe('management resources', { timeout: 90_000 }, () => {
  let server: TestServer;
  let clients: ReturnType<typeof managementClients>;
  let token: string;
  let accountId: string;
  let key1: string;

  const groupPath = (group = GROUP) => `/subscriptions/${server.subscriptionId}/resourceGroups/${group}`;
  const accountPath = (name = ACCOUNT) => `${groupPath()}/providers/Microsoft.Storage/storageAccounts/${name}`;
  const workspacePath = () => `${groupPath()}/providers/Microsoft.MachineLearningServices/workspaces/${WORKSPACE}`;
  const blobService = (key: string) => new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key));
  const accountBody = { location: 'northeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' };
  /** A read/list service SAS for the container 'data', from listServiceSas. */
  const dataContainerSas = async () =>
    (
      await clients.storage.storageAccounts.listServiceSAS(GROUP, ACCOUNT, {
        canonicalizedResource: `/blob/${ACCOUNT}/data`,
        resource: 'c',
        permissions: 'rl',
        sharedAccessExpiryTime: new Date(Date.now() + 3600_000),
      })
    ).serviceSasToken!;

  beforeAll(async () => {
    server = await startTestServer();
    clients = managementClients(server);
    token = await tokenFor(server);
    await clients.resources.resourceGroups.createOrUpdate(GROUP, { location: 'northeurope' });
    accountId = (await clients.storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { ...accountBody, tags: { env: 'test' } })).id!;
    key1 = (await clients.storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys![0]!.value!;
    await blobService(key1).createContainer('data');
    await blobService(key1).getContainerClient('data').getBlockBlobClient('hello.txt').upload('hello', 5);
    await clients.ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'northeurope', storageAccount: accountId, friendlyName: 'Resources' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('bad input gets a clear 400', () => {
    test('malformed JSON and wrong field types', async () => {
      const malformed = await armRequest(server, 'PUT', accountPath('otheracct'), { token, body: '{"location": "x",' });
      expect([malformed.status, malformed.json.error.code]).toEqual([400, 'InvalidRequestContent']);
      expect(malformed.json.error.message).toContain('not valid JSON');
      expect(malformed.headers['x-ms-request-id']).toBeTruthy();

      const cases: [object, string][] = [
        [{ ...accountBody, sku: 'Standard_LRS' }, "'sku' must be an object, not a string"],
        [{ ...accountBody, sku: { name: 'Gold' } }, "'sku.name' must be one of"],
        [{ ...accountBody, location: 42 }, "'location' must be a string, not a number"],
        [{ ...accountBody, properties: { allowSharedKeyAccess: 'yes' } }, "'properties.allowSharedKeyAccess' must be a boolean"],
        [{ ...accountBody, tags: { a: 1 } }, "'tags.a' must be a string"],
        [{ sku: { name: 'Standard_LRS' }, kind: 'StorageV2' }, "'location' is required"],
        [[1, 2], 'must be a JSON object'],
      ];
      for (const [body, message] of cases) {
        const response = await armRequest(server, 'PUT', accountPath('otheracct'), { token, body });
        expect([response.status, response.json.error.code, response.json.error.message]).toEqual([400, 'InvalidRequestContent', expect.stringContaining(message)]);
      }
      const keyName = await armRequest(server, 'POST', `${accountPath()}/regenerateKey`, { token, body: { keyName: 'key3' } });
      expect([keyName.status, keyName.json.error.message]).toEqual([400, expect.stringContaining("'key1' or 'key2'")]);
    });

    test('bad names', async () => {
      await expect(clients.storage.storageAccounts.beginCreateAndWait(GROUP, 'Bad_Name', accountBody)).rejects.toMatchObject({ statusCode: 400, code: 'AccountNameInvalid' });
      await expect(clients.resources.resourceGroups.createOrUpdate('bad name!', { location: 'x' })).rejects.toMatchObject({ statusCode: 400, code: 'InvalidResourceGroup' });
      await expect(clients.ml.workspaces.beginCreateOrUpdateAndWait(GROUP, 'w', { location: 'x', storageAccount: accountId })).rejects.toMatchObject({
        statusCode: 400,
        code: 'InvalidResourceName',
      });
      const datastore = await armRequest(server, 'PUT', `${workspacePath()}/datastores/-bad`, { token, body: {} });
      expect([datastore.status, datastore.json.error.code]).toEqual([400, 'InvalidResourceName']);
      expect(datastore.json.error.message).toContain('^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$');
      expect(await clients.storage.storageAccounts.checkNameAvailability({ name: 'UPPER', type: 'Microsoft.Storage/storageAccounts' })).toMatchObject({
        nameAvailable: false,
        reason: 'AccountNameInvalid',
      });
    });

    test('a workspace must name an existing storage account', async () => {
      const missing = accountId.replace(ACCOUNT, 'nosuchacct');
      await expect(clients.ml.workspaces.beginCreateOrUpdateAndWait(GROUP, 'orphan-ws', { location: 'x', storageAccount: missing })).rejects.toMatchObject({
        statusCode: 400,
        message: expect.stringContaining('does not exist'),
      });
      const notAnId = await armRequest(server, 'PUT', workspacePath().replace(WORKSPACE, 'orphan-ws'), { token, body: { location: 'x', properties: { storageAccount: ACCOUNT } } });
      expect([notAnId.status, notAnId.json.error.message]).toEqual([400, expect.stringContaining("must be a storage account's ARM id")]);
    });
  });

  test('account names are unique server-wide; a missing group is 404', async () => {
    await clients.resources.resourceGroups.createOrUpdate('rg-other', { location: 'northeurope' });
    await expect(clients.storage.storageAccounts.beginCreateAndWait('rg-other', ACCOUNT, accountBody)).rejects.toMatchObject({ statusCode: 409, code: 'StorageAccountAlreadyTaken' });
    await expect(clients.storage.storageAccounts.beginCreateAndWait('rg-nowhere', 'freshacct', accountBody)).rejects.toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
    await expect(clients.storage.storageAccounts.getProperties('rg-other', ACCOUNT)).rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
    expect(await clients.storage.storageAccounts.checkNameAvailability({ name: ACCOUNT, type: 'Microsoft.Storage/storageAccounts' })).toMatchObject({ nameAvailable: false, reason: 'AlreadyExists' });
  });

  test('accounts list by group and subscription; declared accounts are in mlspace-builtin', async () => {
    const inGroup = [];
    for await (const account of clients.storage.storageAccounts.listByResourceGroup(GROUP)) inGroup.push(account.name);
    expect(inGroup).toEqual([ACCOUNT]);
    const all = new Map<string, string>();
    for await (const account of clients.storage.storageAccounts.list()) all.set(account.name!, account.id!);
    expect(all.get(DEV_ACCOUNT)).toBe(`/subscriptions/${server.subscriptionId}/resourceGroups/mlspace-builtin/providers/Microsoft.Storage/storageAccounts/${DEV_ACCOUNT}`);
    expect((await clients.storage.storageAccounts.listKeys('mlspace-builtin', DEV_ACCOUNT)).keys![0]!.value).toBe(DEV_KEY);
    await expect(clients.resources.resourceGroups.beginDeleteAndWait('mlspace-builtin')).rejects.toMatchObject({ statusCode: 409, code: 'ResourceGroupDeletionBlocked' });
  });

  test('update: tags, key policy and allowSharedKeyAccess, which the Blob service enforces at once', async () => {
    const serviceSas = await dataContainerSas();
    const viaSas = new ContainerClient(`${server.blob}/${ACCOUNT}/data?${serviceSas}`);
    expect((await viaSas.getBlockBlobClient('hello.txt').downloadToBuffer()).toString()).toBe('hello');

    const change = { tags: { env: 'prod' }, allowSharedKeyAccess: false, keyPolicy: { keyExpirationPeriodInDays: 90 } };
    // The account's workspace and its datastores hold its key: turning Shared Key off is refused, naming them, unless forced.
    const refused = await errorOf(clients.storage.storageAccounts.update(GROUP, ACCOUNT, change));
    expect(refused).toMatchObject({ statusCode: 409, code: 'KeyBasedConsumersExist' });
    expect(refused.message).toMatch(/would break 4 consumer\(s\).*workspaces\/resources-ws/);
    expect((await clients.storage.storageAccounts.getProperties(GROUP, ACCOUNT)).allowSharedKeyAccess).toBe(true);
    const forced = await armRequest(server, 'PATCH', `/subscriptions/${server.subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}?force=true`, {
      token: await tokenFor(server),
      body: { tags: change.tags, properties: { allowSharedKeyAccess: false, keyPolicy: change.keyPolicy } },
    });
    expect(forced.status, forced.text).toBe(200);
    const updated = await clients.storage.storageAccounts.getProperties(GROUP, ACCOUNT);
    expect(updated).toMatchObject({ tags: { env: 'prod' }, allowSharedKeyAccess: false, keyPolicy: { keyExpirationPeriodInDays: 90 } });
    const notPermitted = { statusCode: 403, code: 'KeyBasedAuthenticationNotPermitted' };
    await expect(blobService(key1).getContainerClient('data').getProperties()).rejects.toMatchObject(notPermitted);
    await expect(viaSas.getProperties()).rejects.toMatchObject(notPermitted);

    await clients.storage.storageAccounts.update(GROUP, ACCOUNT, { allowSharedKeyAccess: true });
    expect((await blobService(key1).getContainerClient('data').getProperties())._response.status).toBe(200);
    const accountSas = (
      await clients.storage.storageAccounts.listAccountSAS(GROUP, ACCOUNT, {
        services: 'b',
        resourceTypes: 'sc',
        permissions: 'l',
        sharedAccessExpiryTime: new Date(Date.now() + 3600_000),
        keyToSign: 'key2',
      })
    ).accountSasToken!;
    const names = [];
    for await (const container of new BlobServiceClient(`${server.blob}/${ACCOUNT}?${accountSas}`).listContainers()) names.push(container.name);
    expect(names).toContain('data');
  });

  describe('datastores', () => {
    const blobDatastore = (container: string, credentials: object) => ({ properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: container, credentials } });
    const accountKey = (key: string) => ({ credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key } });

    test('validation against the data plane, unless skipValidation=true', async () => {
      const wrongKey = Buffer.alloc(64, 7).toString('base64');
      const refused = await armRequest(server, 'PUT', `${workspacePath()}/datastores/wrongkey`, { token, body: blobDatastore('data', accountKey(wrongKey)) });
      expect([refused.status, refused.json.error.code]).toEqual([400, 'DatastoreValidationFailed']);
      expect(refused.json.error.message).toContain('not a current key');
      expect(refused.text).not.toContain(wrongKey);
      const noContainer = await armRequest(server, 'PUT', `${workspacePath()}/datastores/nocontainer`, { token, body: blobDatastore('absent', accountKey(key1)) });
      expect([noContainer.status, noContainer.json.error.message]).toEqual([400, expect.stringContaining("container 'absent' does not exist")]);
      const skipped = await clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'wrongkey', blobDatastore('data', accountKey(wrongKey)) as never, { skipValidation: true });
      expect(skipped.name).toBe('wrongkey');
      const unsupported = await armRequest(server, 'PUT', `${workspacePath()}/datastores/lake`, { token, body: { properties: { datastoreType: 'AzureDataLakeGen2', accountName: ACCOUNT } } });
      expect([unsupported.status, unsupported.json.error.message]).toEqual([400, expect.stringContaining("'properties.datastoreType' must be one of")]);
      const wrongType = await armRequest(server, 'PUT', `${workspacePath()}/datastores/typed`, { token, body: blobDatastore('data', { credentialsType: 'AccountKey', secrets: { key: 5 } }) });
      expect([wrongType.status, wrongType.json.error.message]).toEqual([400, expect.stringContaining("'properties.credentials.secrets.key' must be a string")]);
    });

    test('a SAS credential is validated and returned by listSecrets', async () => {
      const sasToken = await dataContainerSas();
      await clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'sasstore', blobDatastore('data', { credentialsType: 'Sas', secrets: { secretsType: 'Sas', sasToken } }) as never);
      expect(await clients.ml.datastores.listSecrets(GROUP, WORKSPACE, 'sasstore')).toEqual({ secretsType: 'Sas', sasToken });
      const got = await clients.ml.datastores.get(GROUP, WORKSPACE, 'sasstore');
      expect(got.properties).toMatchObject({ credentials: { credentialsType: 'Sas' }, isDefault: false });
      expect(JSON.stringify(got)).not.toContain(sasToken);
    });

    test('list pages with nextLink and filters by names and searchText', async () => {
      for (const name of ['page-a', 'page-b', 'page-c']) {
        await clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, name, { properties: { ...blobDatastore('data', accountKey(key1)).properties, description: `paging ${name}` } } as never);
      }
      const pages: string[][] = [];
      for await (const page of clients.ml.datastores.list(GROUP, WORKSPACE, { count: 2 }).byPage()) pages.push(page.map((d) => d.name!));
      expect(pages.length).toBeGreaterThanOrEqual(4);
      expect(pages.every((page) => page.length <= 2)).toBe(true);
      const all = pages.flat();
      expect(all).toEqual([...all].sort());
      expect(all).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c', 'sasstore', 'workspaceblobstore']));
      const named = [];
      for await (const datastore of clients.ml.datastores.list(GROUP, WORKSPACE, { names: ['page-b', 'sasstore'] })) named.push(datastore.name);
      expect(named).toEqual(['page-b', 'sasstore']);
      const searched = [];
      for await (const datastore of clients.ml.datastores.list(GROUP, WORKSPACE, { searchText: 'PAGING' })) searched.push(datastore.name);
      expect(searched).toEqual(['page-a', 'page-b', 'page-c']);
    });

    test('delete: user datastores go, system datastores stay', async () => {
      await clients.ml.datastores.delete(GROUP, WORKSPACE, 'page-c');
      await expect(clients.ml.datastores.get(GROUP, WORKSPACE, 'page-c')).rejects.toMatchObject({ statusCode: 404 });
      await expect(clients.ml.datastores.delete(GROUP, WORKSPACE, 'workspaceblobstore')).rejects.toMatchObject({ statusCode: 400 });
    });
  });

  test('models must point into a datastore of the workspace', async () => {
    const register = (modelUri: string) => clients.ml.modelVersions.createOrUpdate(GROUP, WORKSPACE, 'detector', '1', { properties: { modelUri } });
    await expect(register('azureml://datastores/nosuchstore/paths/model/')).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("datastore 'nosuchstore'") });
    await expect(register('https://example.com/model.pkl')).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('must point into a datastore') });
    const longForm = `azureml://subscriptions/${server.subscriptionId}/resourcegroups/${GROUP}/workspaces/${WORKSPACE}/datastores/workspaceblobstore/paths/detector/`;
    expect((await register(longForm)).properties.modelUri).toBe(longForm);
    const versions = [];
    for await (const version of clients.ml.modelVersions.list(GROUP, WORKSPACE, 'detector')) versions.push(version.name);
    expect(versions).toEqual(['1']);
    await clients.ml.modelContainers.delete(GROUP, WORKSPACE, 'detector');
    await expect(clients.ml.modelVersions.get(GROUP, WORKSPACE, 'detector', '1')).rejects.toMatchObject({ statusCode: 404 });
  });

  test('deleting a resource group deletes its workspaces and accounts, with their data', async () => {
    await clients.resources.resourceGroups.createOrUpdate('rg-doomed', { location: 'northeurope' });
    const doomed = await clients.storage.storageAccounts.beginCreateAndWait('rg-doomed', 'doomedacct', accountBody);
    await clients.ml.workspaces.beginCreateOrUpdateAndWait('rg-doomed', 'doomed-ws', { location: 'northeurope', storageAccount: doomed.id });
    const key = (await clients.storage.storageAccounts.listKeys('rg-doomed', 'doomedacct')).keys![0]!.value!;
    const doomedBlobs = new BlobServiceClient(`${server.blob}/doomedacct`, new StorageSharedKeyCredential('doomedacct', key));
    expect((await doomedBlobs.getContainerClient('azureml').getProperties())._response.status).toBe(200);

    await clients.resources.resourceGroups.beginDeleteAndWait('rg-doomed');
    expect((await clients.resources.resourceGroups.checkExistence('rg-doomed')).body).toBe(false);
    await expect(clients.ml.workspaces.get('rg-doomed', 'doomed-ws')).rejects.toMatchObject({ statusCode: 404 });
    await expect(doomedBlobs.getContainerClient('azureml').getProperties()).rejects.toMatchObject({ statusCode: 400 });
    expect(await clients.storage.storageAccounts.checkNameAvailability({ name: 'doomedacct', type: 'Microsoft.Storage/storageAccounts' })).toMatchObject({ nameAvailable: true });
    // The name is free again, and a new account of that name starts empty.
    await clients.resources.resourceGroups.createOrUpdate('rg-doomed', { location: 'northeurope' });
    await clients.storage.storageAccounts.beginCreateAndWait('rg-doomed', 'doomedacct', accountBody);
    const fresh = (await clients.storage.storageAccounts.listKeys('rg-doomed', 'doomedacct')).keys![0]!.value!;
    const containers = [];
    for await (const container of new BlobServiceClient(`${server.blob}/doomedacct`, new StorageSharedKeyCredential('doomedacct', fresh)).listContainers()) containers.push(container.name);
    expect(containers).toEqual([]);
  });
});
