import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential as BlobSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CredentialRefusedError, Datastore, MlspaceError, Workspace, trustCa } from '../../src/index.js';
import { adminSecret, managementClients } from '../helpers/management.js';
import { rawRequest } from '../helpers/raw-socket.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RG = 'rg-sdk';
const WS = 'sdk-ws';
const ACCOUNT = 'sdkacct';

/** The SDK on its own: finding config.json, registering with and without overwrite, SAS datastores, uploads and downloads. */
describe('the TypeScript SDK', { timeout: 90_000 }, () => {
  let home: string;
  let work: string;
  let server: TestServer;
  let key1: string;
  let ws: Workspace;

  const writeConfig = (file: string, config: object) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(config));
  };
  const config = () => ({ subscription_id: server.subscriptionId, resource_group: RG, workspace_name: WS });
  const shareSas = async (share: string, expiresOn: Date) => {
    const service = new ShareServiceClient(`${server.file}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key1));
    return new URL(await service.getShareClient(share).generateSasUrl({ permissions: (await import('@azure/storage-file-share')).ShareSASPermissions.parse('rcwdl'), expiresOn })).search.slice(1);
  };

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-sdk-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-sdk-work-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    const clients = managementClients(server);
    await clients.resources.resourceGroups.createOrUpdate(RG, { location: 'eastus' });
    const account = await clients.storage.storageAccounts.beginCreateAndWait(RG, ACCOUNT, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    await clients.ml.workspaces.beginCreateOrUpdateAndWait(RG, WS, { location: 'eastus', storageAccount: account.id });
    key1 = (await clients.storage.storageAccounts.listKeys(RG, ACCOUNT)).keys![0]!.value!;
    const shares = new ShareServiceClient(`${server.file}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key1));
    await shares.createShare('features');
    fs.mkdirSync(path.join(work, 'src', 'nested'), { recursive: true });
    fs.writeFileSync(path.join(work, 'src', 'a.txt'), 'alpha');
    fs.writeFileSync(path.join(work, 'src', 'nested', 'b.txt'), 'beta');
    ws = await Workspace.get(WS, { resourceGroup: RG, mlspaceHome: home });
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of [home, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('Workspace.fromConfig', () => {
    test('searches .azureml/config.json, then config.json, from the directory upward, as azureml does', async () => {
      const project = path.join(work, 'project');
      writeConfig(path.join(project, '.azureml', 'config.json'), config());
      writeConfig(path.join(project, 'config.json'), { ...config(), workspace_name: 'not-this-one' });
      const nested = path.join(project, 'src', 'training');
      fs.mkdirSync(nested, { recursive: true });
      const found = await Workspace.fromConfig(nested, { mlspaceHome: home });
      expect([found.name, found.resourceGroup, found.subscriptionId, found.storageAccountName]).toEqual([WS, RG, server.subscriptionId, ACCOUNT]);
      // A file given directly is read as is.
      await expect(Workspace.fromConfig(path.join(project, 'config.json'), { mlspaceHome: home })).rejects.toMatchObject({ statusCode: 404 });
    });

    test('a config.json without a field, or none at all, is a clear error', async () => {
      writeConfig(path.join(work, 'partial', 'config.json'), { subscription_id: server.subscriptionId, workspace_name: WS });
      await expect(Workspace.fromConfig(path.join(work, 'partial'), { mlspaceHome: home })).rejects.toMatchObject({
        code: 'InvalidWorkspaceConfig',
        message: expect.stringContaining('must give "resource_group" as a non-empty string'),
      });
      writeConfig(path.join(work, 'valid', 'config.json'), config());
      await expect(Workspace.fromConfig(path.join(work, 'valid'), { mlspaceHome: path.join(work, 'no-server') })).rejects.toMatchObject({
        code: 'LocalServerUnavailable',
        message: expect.stringContaining('endpoints.json does not exist: start the server first'),
      });
    });

    test('any TokenCredential and endpoint can be given instead of the local server', async () => {
      const admin = adminSecret(server);
      const trust = trustCa(server.caFile);
      const credential = new ClientSecretCredential(admin.tenantId, admin.clientId, admin.clientSecret, { authorityHost: server.authority, disableInstanceDiscovery: true, ...trust });
      writeConfig(path.join(work, 'explicit', 'config.json'), config());
      const explicit = await Workspace.fromConfig(path.join(work, 'explicit'), { credential, endpoint: server.arm, caFile: server.caFile, mlspaceHome: path.join(work, 'no-server') });
      expect((await explicit.getDefaultDatastore()).name).toBe('workspaceblobstore');
      await expect(Workspace.get(WS, { resourceGroup: RG, credential })).rejects.toMatchObject({ code: 'InvalidArgument', message: expect.stringContaining('needs a subscriptionId') });
    });
  });

  describe('registration', () => {
    test('registering an existing name without overwrite fails and changes nothing; with overwrite it replaces', async () => {
      const register = (description: string, overwrite?: boolean) =>
        Datastore.registerAzureFileShare({ workspace: ws, datastoreName: 'features', fileShareName: 'features', accountName: ACCOUNT, accountKey: key1, description, overwrite });
      const first = await register('first');
      expect([first.datastoreType, first.fileShareName, first.containerName, first.credentialsType]).toEqual(['AzureFile', 'features', 'features', 'AccountKey']);
      const refused = await register('second').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MlspaceError);
      expect(refused).toMatchObject({ code: 'DatastoreExists', message: expect.stringContaining("Datastore 'features' is already registered in workspace 'sdk-ws'. Pass overwrite: true") });
      expect((await Datastore.get(ws, 'features')).description).toBe('first');
      expect((await register('second', true)).description).toBe('second');
    });

    test('a key and a SAS token together are refused before anything is sent', async () => {
      await expect(
        Datastore.registerAzureBlobContainer({ workspace: ws, datastoreName: 'both', containerName: 'c1', accountName: ACCOUNT, accountKey: key1, sasToken: 'sv=1' }),
      ).rejects.toMatchObject({ code: 'InvalidArgument', message: "Datastore 'both': give one of an account key, a SAS token or a service principal, not several." });
    });
  });

  describe('uploads and downloads', () => {
    test('upload keeps paths, skips what exists unless overwrite; uploadFiles honors relativeRoot and targetPath', async () => {
      const ds = await Datastore.get(ws, 'features');
      expect(await ds.upload(path.join(work, 'src'), 'run1')).toEqual({ files: ['run1/a.txt', 'run1/nested/b.txt'], skipped: [], bytes: 9 });
      fs.writeFileSync(path.join(work, 'src', 'a.txt'), 'ALPHA!');
      expect(await ds.upload(path.join(work, 'src'), 'run1')).toMatchObject({ files: [], skipped: ['run1/a.txt', 'run1/nested/b.txt'] });
      expect((await ds.upload(path.join(work, 'src'), 'run1', { overwrite: true })).files).toHaveLength(2);
      const uploaded = await ds.uploadFiles([path.join(work, 'src', 'nested', 'b.txt')], { relativeRoot: path.join(work, 'src'), targetPath: 'picked' });
      expect(uploaded.files).toEqual(['picked/nested/b.txt']);
      expect((await ds.listFiles()).sort()).toEqual(['picked/nested/b.txt', 'run1/a.txt', 'run1/nested/b.txt']);
      await expect(ds.uploadFiles([path.join(work, 'src', 'a.txt')], { relativeRoot: path.join(work, 'src', 'nested') })).rejects.toMatchObject({ code: 'InvalidArgument' });
    });

    test('download writes the files under a prefix, reports progress, and refuses to replace local files unless overwrite', async () => {
      const ds = await Datastore.get(ws, 'features');
      const target = path.join(work, 'downloaded');
      const progress: number[] = [];
      const result = await ds.download(target, { prefix: 'run1/', onProgress: (p) => progress.push(p.loadedBytes) });
      expect(result.files).toEqual([path.join(target, 'run1', 'a.txt'), path.join(target, 'run1', 'nested', 'b.txt')]);
      expect(fs.readFileSync(path.join(target, 'run1', 'a.txt'), 'utf8')).toBe('ALPHA!');
      expect(progress.at(-1)).toBe(10);
      await expect(ds.download(target, { prefix: 'run1/' })).rejects.toMatchObject({ code: 'FileExists' });
      expect((await ds.download(target, { prefix: 'run1/', overwrite: true })).files).toHaveLength(2);
    });

    test('download refuses a blob whose name would land outside the target, before writing anything', async () => {
      const ds = await ws.getDefaultDatastore();
      const container = new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new BlobSharedKeyCredential(ACCOUNT, key1)).getContainerClient(ds.containerName);
      await container.getBlockBlobClient('escape/fine.txt').upload('fine', 4);
      const sas = new URL(await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('w'), expiresOn: new Date(Date.now() + 600_000) })).search.slice(1);
      // Clients normalize dot segments away, so the name goes on a raw socket, as a hostile writer would send it.
      const put = await rawRequest(
        server.blob,
        `PUT /${ACCOUNT}/${ds.containerName}/escape/../../../escaped.txt?${sas} HTTP/1.1\r\nHost: x\r\nx-ms-blob-type: BlockBlob\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil`,
      );
      expect(put).toMatch(/^HTTP\/1.1 201/);
      const target = path.join(work, 'traversal', 'a', 'b');
      const error = await ds.download(target, { prefix: 'escape/' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MlspaceError);
      expect(error).toMatchObject({ code: 'UnsafePath', message: expect.stringContaining("'escape/../../../escaped.txt' would be written outside") });
      expect(fs.existsSync(path.join(work, 'traversal'))).toBe(false);
      expect((await ds.download(target, { prefix: 'escape/fine' })).files).toEqual([path.join(target, 'escape', 'fine.txt')]);
    });

    test('a SAS datastore works until its token expires, then fails naming the expiry and the fix', async () => {
      const live = await Datastore.registerAzureFileShare({
        workspace: ws,
        datastoreName: 'features-sas',
        fileShareName: 'features',
        accountName: ACCOUNT,
        sasToken: await shareSas('features', new Date(Date.now() + 3_600_000)),
      });
      expect(live.credentialsType).toBe('Sas');
      expect((await live.listFiles('run1/')).sort()).toEqual(['run1/a.txt', 'run1/nested/b.txt']);
      const expiry = new Date(Date.now() - 60_000);
      const expired = await Datastore.registerAzureFileShare({
        workspace: ws,
        datastoreName: 'features-sas',
        fileShareName: 'features',
        accountName: ACCOUNT,
        sasToken: await shareSas('features', expiry),
        overwrite: true,
        // The server would refuse to register an expired token; this one stands for a token that expired after registration.
        skipValidation: true,
      });
      const error = (await expired.listFiles().catch((e: unknown) => e)) as CredentialRefusedError;
      expect(error).toBeInstanceOf(CredentialRefusedError);
      expect([error.code, error.verdict]).toEqual(['StaleCredential', 'stale']);
      expect(error.message).toContain(`refused the SAS token held by datastore 'features-sas' of workspace '${WS}'`);
      expect(error.message).toContain(`the token expired at ${new Date(Math.floor(expiry.getTime() / 1000) * 1000).toISOString()}`);
      expect(error.message).toContain('re-register the datastore with a current SAS token');
    });
  });
});
