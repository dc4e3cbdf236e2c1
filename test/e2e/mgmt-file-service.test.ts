import { ShareServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-files';
const ACCOUNT = 'filesacct';
const WORKSPACE = 'files-ws';

describe('the management plane and the File service', { timeout: 90_000 }, () => {
  let server: TestServer;
  let clients: ReturnType<typeof managementClients>;
  let key1: string;
  const shares = (key: string) => new ShareServiceClient(`${server.file}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key));
  const fileDatastore = (share: string, key: string) => ({
    properties: { datastoreType: 'AzureFile', accountName: ACCOUNT, fileShareName: share, credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key } } },
  });

  beforeAll(async () => {
    server = await startTestServer();
    clients = managementClients(server);
    await clients.resources.resourceGroups.createOrUpdate(GROUP, { location: 'northeurope' });
    const account = await clients.storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'northeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    expect(account.primaryEndpoints?.file).toBe(`${server.file}/${ACCOUNT}/`);
    key1 = (await clients.storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys![0]!.value!;
    await clients.ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'northeurope', storageAccount: account.id });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('creating a workspace creates the share behind workspacefilestore', async () => {
    const store = await clients.ml.datastores.get(GROUP, WORKSPACE, 'workspacefilestore');
    const shareName = (store.properties as { fileShareName: string }).fileShareName;
    expect(await shares(key1).getShareClient(shareName).exists()).toBe(true);
  });

  test('AzureFile datastores are validated against the File service', async () => {
    await shares(key1).createShare('datasets');
    await clients.ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'userfiles', fileDatastore('datasets', key1) as never);
    const token = await tokenFor(server);
    const path = `/subscriptions/${server.subscriptionId}/resourceGroups/${GROUP}/providers/Microsoft.MachineLearningServices/workspaces/${WORKSPACE}/datastores`;
    const wrongKey = await armRequest(server, 'PUT', `${path}/wrongfiles`, { token, body: fileDatastore('datasets', Buffer.alloc(64, 3).toString('base64')) });
    expect([wrongKey.status, wrongKey.json.error.message]).toEqual([400, expect.stringContaining('not a current key')]);
    const noShare = await armRequest(server, 'PUT', `${path}/noshare`, { token, body: fileDatastore('absent', key1) });
    expect([noShare.status, noShare.json.error.message]).toEqual([400, expect.stringContaining("share 'absent' does not exist")]);
  });

  test('deleting the account deletes its shares', async () => {
    await clients.ml.workspaces.beginDeleteAndWait(GROUP, WORKSPACE);
    await clients.storage.storageAccounts.delete(GROUP, ACCOUNT);
    await clients.storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'northeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    const freshKey = (await clients.storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys![0]!.value!;
    const names = [];
    for await (const share of shares(freshKey).listShares()) names.push(share.name);
    expect(names).toEqual([]);
  });
});
