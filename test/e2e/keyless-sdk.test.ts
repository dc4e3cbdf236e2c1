import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileKeyCredential } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustCa } from '../../src/client/trust-ca.js';
import { Datastore, Workspace } from '../../src/sdk/index.js';
import { cliIn } from '../helpers/cli.js';
import { adminSecret, armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { accountPath } from '../helpers/rotation.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-keyless-sdk';
const ACCOUNT = 'kssdkacct';
const WORKSPACE = 'kssdkws';

/** A directory of a few files, one in a subdirectory; answers the directory and each file's bytes by relative path. */
function sampleFiles(root: string): Map<string, Buffer> {
  const files = new Map([
    ['a.txt', Buffer.from('identity access\n')],
    ['nested/b.bin', Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 251))],
  ]);
  for (const [relative, bytes] of files) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), bytes);
  }
  return files;
}

function expectSameFiles(root: string, files: Map<string, Buffer>): void {
  for (const [relative, bytes] of files) expect(fs.readFileSync(path.join(root, relative)).equals(bytes)).toBe(true);
}

describe('the SDK and CLI reach identity-based and service-principal datastores with tokens', { timeout: 180_000 }, () => {
  let server: TestServer;
  let home: string;
  let cli: ReturnType<typeof cliIn>;
  let ws: Workspace;
  let accountId: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-keyless-sdk-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    cli = cliIn(home);
    expect((await cli('login', '-o', 'none')).code).toBe(0);
    const { resources, storage, ml } = managementClients(server);
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'westeurope' });
    const account = await storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    accountId = account.id!;
    const key = (await storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys![0]!.value!;
    await new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key)).getContainerClient('data').create();
    await new ShareServiceClient(`${server.file}/${ACCOUNT}`, new FileKeyCredential(ACCOUNT, key)).getShareClient('files').create();
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'westeurope', storageAccount: accountId });
    const register = (name: string, properties: object) =>
      ml.datastores.createOrUpdate(GROUP, WORKSPACE, name, { properties: { accountName: ACCOUNT, credentials: { credentialsType: 'None' }, ...properties } as never });
    await register('idblob', { datastoreType: 'AzureBlob', containerName: 'data' });
    await register('idfiles', { datastoreType: 'AzureFile', fileShareName: 'files' });
    ws = await Workspace.get(WORKSPACE, { resourceGroup: GROUP, mlspaceHome: home });
  });
  afterAll(async () => {
    await server?.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it("uses the caller's identity for a datastore without credentials: refused without a data role, naming the fix; byte-exact with one", async () => {
    const src = fs.mkdtempSync(path.join(home, 'src-'));
    const files = sampleFiles(src);
    const blobs = await Datastore.get(ws, 'idblob');
    // Owner manages the account, but reading and writing its data takes a data role, as on Azure.
    const refused = await blobs.upload(src, 'run1').catch((error: unknown) => error as Error);
    expect(refused).toMatchObject({ name: 'CredentialRefusedError', code: 'CredentialRefused' });
    expect(refused.message).toContain(`Storage account '${ACCOUNT}' refused the signed-in identity access to datastore 'idblob' of workspace '${WORKSPACE}' (403 AuthorizationPermissionMismatch)`);
    expect(refused.message).toContain(`--role "Storage Blob Data Contributor" --scope ${accountId}`);

    const admin = adminSecret(server).clientId;
    for (const role of ['Storage Blob Data Contributor', 'Storage File Data Privileged Contributor']) {
      expect((await cli('role', 'assignment', 'create', '--assignee', admin, '--role', role, '--scope', accountId, '-o', 'none')).code).toBe(0);
    }
    expect((await blobs.upload(src, 'run1')).files.sort()).toEqual(['run1/a.txt', 'run1/nested/b.bin']);
    expect(await blobs.listFiles('run1/')).toEqual(['run1/a.txt', 'run1/nested/b.bin']);
    const back = fs.mkdtempSync(path.join(home, 'back-'));
    await blobs.download(back, { prefix: 'run1/' });
    expectSameFiles(path.join(back, 'run1'), files);

    const share = await Datastore.get(ws, 'idfiles');
    await share.upload(src, 'run1');
    const fromShare = fs.mkdtempSync(path.join(home, 'share-'));
    await share.download(fromShare);
    expectSameFiles(path.join(fromShare, 'run1'), files);
    // Every request went over TLS with a token: the plain-HTTP endpoint saw none of them.
    expect(server.output()).not.toMatch(/Bearer tokens are accepted only over HTTPS/);
  });

  it("signs in as a service-principal datastore's principal, and keeps working after its secret is reset", async () => {
    const created = await armRequest(server, 'POST', '/providers/Mlspace.Identity/servicePrincipals', {
      token: await tokenFor(server),
      body: { role: 'Storage Blob Data Contributor', scopes: [`${accountPath(server, GROUP, ACCOUNT)}/blobServices/default/containers/data`], displayName: 'sdk-etl' },
    });
    const etl = created.json as { tenantId: string; clientId: string; clientSecret: string };
    const { ml } = managementClients(server);
    const spStore = (container: string, clientSecret = etl.clientSecret) => ({
      properties: {
        datastoreType: 'AzureBlob',
        accountName: ACCOUNT,
        containerName: container,
        credentials: { credentialsType: 'ServicePrincipal', tenantId: etl.tenantId, clientId: etl.clientId, secrets: { secretsType: 'ServicePrincipal', clientSecret } },
      } as never,
    });
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'etl', spStore('data'));
    const etlStore = await Datastore.get(ws, 'etl');
    expect(etlStore.servicePrincipal).toEqual({ tenantId: etl.tenantId, clientId: etl.clientId, authorityUrl: undefined });
    const src = fs.mkdtempSync(path.join(home, 'etl-'));
    const files = sampleFiles(src);
    await etlStore.upload(src, 'etl');

    const reset = JSON.parse((await cli('ad', 'sp', 'credential', 'reset', '--id', etl.clientId, '-o', 'json')).stdout) as { clientSecret: string };
    const back = fs.mkdtempSync(path.join(home, 'etl-back-'));
    await (await Datastore.get(ws, 'etl')).download(back, { prefix: 'etl/' });
    expectSameFiles(path.join(back, 'etl'), files);

    // Its role covers container 'data' only: another container is refused, naming the principal and the role it needs.
    const key = (await managementClients(server).storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys![0]!.value!;
    await new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key)).getContainerClient('other').create();
    // Registered unchecked with the secret the reset retired: the principal cannot sign in, and the error says why.
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'etlother', spStore('other'), { skipValidation: true });
    const signIn = await (await Datastore.get(ws, 'etlother')).listFiles().catch((error: unknown) => error as Error);
    expect(signIn.message).toMatch(new RegExp(`^service principal '${etl.clientId}' could not sign in to reach datastore 'etlother' of workspace '${WORKSPACE}': .*Invalid client secret.*re-register the datastore`));
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'etlother', spStore('other', reset.clientSecret), { skipValidation: true });
    const refused = await (await Datastore.get(ws, 'etlother')).listFiles().catch((error: unknown) => error as Error);
    expect(refused.message).toContain(`refused service principal '${etl.clientId}' access to datastore 'etlother'`);
    expect(refused.message).toContain(`--assignee ${etl.clientId} --role "Storage Blob Data Contributor"`);
    expect(server.output()).not.toContain(etl.clientSecret);
    expect(server.output()).not.toContain(reset.clientSecret);
  });

  it('uploads and downloads models with the caller identity once the workspace is on identity access', async () => {
    const migrated = await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', ACCOUNT, '-o', 'none');
    expect(migrated.code, migrated.stderr).toBe(0);
    expect((await ml().datastores.get(GROUP, WORKSPACE, 'workspaceblobstore')).properties.credentials.credentialsType).toBe('None');
    const model = path.join(home, 'model.bin');
    fs.writeFileSync(model, Buffer.from('weights'.repeat(1000)));
    const registered = await cli('ml', 'model', 'create', '--name', 'clf', '--path', model, '-w', WORKSPACE, '-g', GROUP, '-o', 'none');
    expect(registered.code, registered.stderr).toBe(0);
    const into = path.join(home, 'models');
    const downloaded = await cli('ml', 'model', 'download', '--name', 'clf', '--version', '1', '--download-path', into, '-w', WORKSPACE, '-g', GROUP);
    expect(downloaded.code, downloaded.stderr).toBe(0);
    expect(fs.readFileSync(path.join(into, 'clf', 'model.bin')).equals(fs.readFileSync(model))).toBe(true);
    // Keys no longer matter to any of it.
    for (const keyName of ['key1', 'key2']) await managementClients(server).storage.storageAccounts.regenerateKey(GROUP, ACCOUNT, { keyName });
    const again = await cli('ml', 'model', 'download', '--name', 'clf', '--version', '1', '--download-path', path.join(home, 'again'), '-w', WORKSPACE, '-g', GROUP);
    expect(again.code, again.stderr).toBe(0);
  });

  it('refuses to send a token over plain HTTP when no HTTPS endpoint is known, saying how to register the datastore', async () => {
    const secret = adminSecret(server);
    const credential = new ClientSecretCredential(secret.tenantId, secret.clientId, secret.clientSecret, { authorityHost: server.authority, disableInstanceDiscovery: true, ...trustCa(server.caFile) });
    // A connection given its own credential knows no local endpoints.json.
    const remote = await Workspace.get(WORKSPACE, { resourceGroup: GROUP, subscriptionId: server.subscriptionId, credential, endpoint: server.arm, caFile: server.caFile });
    const error = await (await Datastore.get(remote, 'idblob')).listFiles().catch((failure: unknown) => failure as Error);
    expect(error.message).toMatch(/over plain HTTP.*signed-in identity, whose tokens are sent only over HTTPS\. Re-register it with protocol https/);
  });

  function ml() {
    return managementClients(server).ml;
  }
});
