import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { adminSecret, armRequest, type ClientSecret, managementClients, tokenFor } from '../helpers/management.js';
import { ShareServiceClient, StorageSharedKeyCredential as FileSharedKeyCredential } from '@azure/storage-file-share';
import { accountPath, getOperation, heldCredential, waitForRotation, writeAndList, writeAndListFiles } from '../helpers/rotation.js';
import { startTestServer, storedMetadata, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

const GROUP_A = 'rg-rot-a';
const GROUP_B = 'rg-rot-b';
const ACCOUNT = 'rotshared';
const OTHER = 'rotother';
const DAY = 86_400_000;

/**
 * One account used by two workspaces in two resource groups, user datastores
 * holding its key or a SAS signed with it (one of them registered in a
 * workspace linked to another account), a file-share datastore and a stale
 * one: discovery, the plan, the rotation, and what every consumer can do after.
 */
describe('consumers and rotation of a storage account', { timeout: 120_000 }, () => {
  let server: TestServer;
  let admin: ClientSecret;
  let reader: ClientSecret;
  let keyOperator: ClientSecret;
  let token: string;
  let clients: ReturnType<typeof managementClients>;
  let key1: string;
  let key2: string;
  let serviceSas: string;
  let accountSas: string;
  let fileSas: string;
  const staleKey = randomBytes(64).toString('base64');
  const started = new Date(Date.now() - 1000).toISOString();

  const path = (group = GROUP_A, account = ACCOUNT) => accountPath(server, group, account);
  const blobKey = (key: string) => ({
    datastoreType: 'AzureBlob' as const,
    accountName: ACCOUNT,
    credentials: { credentialsType: 'AccountKey' as const, secrets: { secretsType: 'AccountKey' as const, key } },
  });
  const blobSas = (sasToken: string) => ({
    datastoreType: 'AzureBlob' as const,
    accountName: ACCOUNT,
    credentials: { credentialsType: 'Sas' as const, secrets: { secretsType: 'Sas' as const, sasToken } },
  });

  /** Every consumer of ACCOUNT that should work, where its client writes (a container, or a share when `file`), read from the datastore when not given. */
  const working: { group: string; workspace: string; datastore?: string; container?: string; share?: string; file?: boolean }[] = [
    { group: GROUP_A, workspace: 'ws-alpha', container: 'training' },
    { group: GROUP_B, workspace: 'ws-beta', container: 'training' },
    { group: GROUP_A, workspace: 'ws-alpha', datastore: 'workspaceblobstore' },
    { group: GROUP_B, workspace: 'ws-beta', datastore: 'workspaceartifactstore', container: 'azureml' },
    { group: GROUP_A, workspace: 'ws-alpha', datastore: 'training-key', container: 'training' },
    { group: GROUP_B, workspace: 'ws-beta', datastore: 'features-sas', container: 'features' },
    { group: GROUP_B, workspace: 'ws-beta', datastore: 'features-account-sas', container: 'features' },
    { group: GROUP_B, workspace: 'ws-gamma', datastore: 'borrowed-training', container: 'training' },
    { group: GROUP_A, workspace: 'ws-alpha', datastore: 'shared-files', share: 'shared', file: true },
    { group: GROUP_A, workspace: 'ws-alpha', datastore: 'shared-files-sas', share: 'shared', file: true },
    { group: GROUP_B, workspace: 'ws-beta', datastore: 'workspacefilestore', file: true },
  ];

  async function containerOf(group: string, workspace: string, datastore: string): Promise<string> {
    const properties = (await clients.ml.datastores.get(group, workspace, datastore)).properties as { containerName?: string; fileShareName?: string };
    return properties.containerName ?? properties.fileShareName!;
  }

  /** Each consumer's client reads what it holds from mlspace and makes real requests with it. */
  async function assertAllWork(): Promise<void> {
    for (const consumer of working) {
      const held = await heldCredential(server, admin, consumer.group, consumer.workspace, consumer.datastore);
      const where = consumer.container ?? consumer.share ?? (await containerOf(consumer.group, consumer.workspace, consumer.datastore!));
      const request = consumer.file ? writeAndListFiles(server, ACCOUNT, where, held) : writeAndList(server, ACCOUNT, where, held);
      await expect(request, `${consumer.workspace}/${consumer.datastore ?? '(workspace key)'}`).resolves.toBeUndefined();
    }
  }

  beforeAll(async () => {
    // Each rotation holds for a moment after planning its verification, so a test can act while one is in progress.
    server = await startTestServer({ env: { MLSPACE_FAULT_PAUSE_AT: 'verify-moved.started:700' } });
    admin = adminSecret(server);
    const created = await Promise.all(['Reader', 'Storage Account Key Operator'].map((role) => runCli(['ad', 'sp', 'create', '--role', role, '--data-dir', server.dataDir])));
    [reader, keyOperator] = created.map((result) => JSON.parse(result.stdout));
    token = await tokenFor(server);
    clients = managementClients(server);
    const { resources, storage, ml } = clients;
    for (const group of [GROUP_A, GROUP_B]) await resources.resourceGroups.createOrUpdate(group, { location: 'eastus' });
    const account = await storage.storageAccounts.beginCreateAndWait(GROUP_A, ACCOUNT, {
      location: 'eastus',
      sku: { name: 'Standard_LRS' },
      kind: 'StorageV2',
      keyPolicy: { keyExpirationPeriodInDays: 90 },
    });
    const other = await storage.storageAccounts.beginCreateAndWait(GROUP_B, OTHER, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    [key1, key2] = (await storage.storageAccounts.listKeys(GROUP_A, ACCOUNT)).keys!.map((key) => key.value!);
    const service = new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key1));
    for (const container of ['training', 'features']) await service.createContainer(container);
    await new ShareServiceClient(`${server.file}/${ACCOUNT}`, new FileSharedKeyCredential(ACCOUNT, key1)).createShare('shared');
    const expiry = new Date(Date.now() + DAY);
    serviceSas = (await storage.storageAccounts.listServiceSAS(GROUP_A, ACCOUNT, {
      canonicalizedResource: `/blob/${ACCOUNT}/features`,
      resource: 'c',
      permissions: 'rwl',
      sharedAccessExpiryTime: expiry,
      keyToSign: 'key1',
    })).serviceSasToken!;
    fileSas = (await storage.storageAccounts.listServiceSAS(GROUP_A, ACCOUNT, {
      canonicalizedResource: `/file/${ACCOUNT}/shared`,
      resource: 's',
      permissions: 'rcwl',
      sharedAccessExpiryTime: expiry,
      keyToSign: 'key1',
    })).serviceSasToken!;
    accountSas = (await storage.storageAccounts.listAccountSAS(GROUP_A, ACCOUNT, {
      services: 'b',
      resourceTypes: 'co',
      permissions: 'rwlc',
      sharedAccessExpiryTime: expiry,
      keyToSign: 'key1',
    })).accountSasToken!;

    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP_A, 'ws-alpha', { location: 'eastus', storageAccount: account.id });
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP_B, 'ws-beta', { location: 'eastus', storageAccount: account.id });
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP_B, 'ws-gamma', { location: 'eastus', storageAccount: other.id });
    await ml.datastores.createOrUpdate(GROUP_A, 'ws-alpha', 'training-key', { properties: { ...blobKey(key1), containerName: 'training' } });
    await ml.datastores.createOrUpdate(GROUP_B, 'ws-beta', 'features-sas', { properties: { ...blobSas(serviceSas), containerName: 'features' } });
    await ml.datastores.createOrUpdate(GROUP_B, 'ws-beta', 'features-account-sas', { properties: { ...blobSas(accountSas), containerName: 'features' } });
    await ml.datastores.createOrUpdate(GROUP_B, 'ws-gamma', 'borrowed-training', { properties: { ...blobKey(key1), containerName: 'training' } });
    await ml.datastores.createOrUpdate(GROUP_A, 'ws-alpha', 'stale-key', { properties: { ...blobKey(staleKey), containerName: 'training' } }, { skipValidation: true });
    await ml.datastores.createOrUpdate(GROUP_A, 'ws-alpha', 'shared-files', {
      properties: { datastoreType: 'AzureFile', accountName: ACCOUNT, fileShareName: 'shared', credentials: blobKey(key1).credentials } as never,
    });
    await ml.datastores.createOrUpdate(GROUP_A, 'ws-alpha', 'shared-files-sas', {
      properties: { datastoreType: 'AzureFile', accountName: ACCOUNT, fileShareName: 'shared', credentials: blobSas(fileSas).credentials } as never,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('listConsumers finds every holder in every group, with the key it matches, key ages, and no secret', async () => {
    const response = await armRequest(server, 'POST', `${path()}/listConsumers`, { token });
    expect(response.status).toBe(200);
    const body = response.json;
    expect(body).toMatchObject({ name: ACCOUNT, resourceGroup: GROUP_A, activeKey: 'key1', keyPolicy: { keyExpirationPeriodInDays: 90 } });
    expect(body.keyAges.key1).toMatchObject({ creationTime: expect.any(String), ageInDays: expect.any(Number), expired: false });
    expect(Date.parse(body.keyAges.key1.expiresOn) - Date.parse(body.keyAges.key1.creationTime)).toBe(90 * DAY);
    const byId = new Map<string, any>(body.value.map((consumer: any) => [consumer.id.split('/workspaces/')[1], consumer]));
    expect([...byId.keys()].sort()).toEqual([
      'ws-alpha',
      'ws-alpha/datastores/shared-files',
      'ws-alpha/datastores/shared-files-sas',
      'ws-alpha/datastores/stale-key',
      'ws-alpha/datastores/training-key',
      'ws-alpha/datastores/workspaceartifactstore',
      'ws-alpha/datastores/workspaceblobstore',
      'ws-alpha/datastores/workspacefilestore',
      'ws-beta',
      'ws-beta/datastores/features-account-sas',
      'ws-beta/datastores/features-sas',
      'ws-beta/datastores/workspaceartifactstore',
      'ws-beta/datastores/workspaceblobstore',
      'ws-beta/datastores/workspacefilestore',
      'ws-gamma/datastores/borrowed-training',
    ]);
    expect(byId.get('ws-beta')).toMatchObject({ kind: 'workspace', resourceGroup: GROUP_B, credentialsType: 'AccountKey', matches: 'key1' });
    expect(byId.get('ws-alpha/datastores/stale-key')).toMatchObject({ kind: 'datastore', system: false, matches: 'stale' });
    expect(byId.get('ws-alpha/datastores/workspaceblobstore')).toMatchObject({ system: true, matches: 'key1' });
    expect(byId.get('ws-alpha/datastores/shared-files')).toMatchObject({ datastoreType: 'AzureFile', fileShareName: 'shared', matches: 'key1' });
    expect(byId.get('ws-gamma/datastores/borrowed-training')).toMatchObject({ resourceGroup: GROUP_B, containerName: 'training', matches: 'key1' });
    expect(byId.get('ws-beta/datastores/features-sas')).toMatchObject({
      credentialsType: 'Sas',
      matches: 'key1',
      sas: { kind: 'service', signedResource: 'c', permissions: 'rwl', expired: false, signedWith: 'key1', expiry: expect.any(String) },
    });
    expect(byId.get('ws-beta/datastores/features-account-sas').sas).toMatchObject({ kind: 'account', signedWith: 'key1' });
    expect(byId.get('ws-alpha/datastores/shared-files-sas').sas).toMatchObject({ kind: 'service', signedResource: 's', signedWith: 'key1' });
    expect(body.counts).toEqual({ consumers: 15, key1: 14, key2: 0, stale: 1, unknown: 0, keyless: 0 });
    for (const secret of [key1, key2, staleKey, ...[serviceSas, accountSas, fileSas].map((sas) => new URLSearchParams(sas).get('sig')!)]) {
      expect(response.text).not.toContain(secret);
    }
  });

  test('a key operator may list consumers; a Reader may neither list them nor rotate', async () => {
    expect((await armRequest(server, 'POST', `${path()}/listConsumers`, { token: await tokenFor(server, keyOperator) })).status).toBe(200);
    const readerToken = await tokenFor(server, reader);
    for (const action of ['listConsumers', 'rotateKeys']) {
      const response = await armRequest(server, 'POST', `${path()}/${action}`, { token: readerToken, body: { dryRun: true } });
      expect([response.status, response.json.error.code], action).toEqual([403, 'AuthorizationFailed']);
      expect(response.json.error.message).toContain(`Microsoft.Storage/storageAccounts/${action}/action`);
    }
    const bulk = await armRequest(server, 'POST', `/subscriptions/${server.subscriptionId}/providers/Microsoft.Storage/rotateKeys`, { token: readerToken, body: { dryRun: true } });
    expect(bulk.status).toBe(403);
    const operator = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token: await tokenFor(server, keyOperator), body: { dryRun: true } });
    expect(operator.status).toBe(403);
  });

  test('a dry run plans without changing anything; a SAS signed with the retired key blocks the rotation unless reissueSas', async () => {
    const dry = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: { dryRun: true } });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ dryRun: true, retiredKey: 'key1', keptKey: 'key2', counts: { consumers: 15, moveKey: 11, blocked: 3, stale: 1, keep: 0 } });
    expect(dry.json.attention.filter((entry: any) => entry.action === 'blocked')).toHaveLength(3);
    expect(dry.json.consumers.find((consumer: any) => consumer.id.endsWith('/stale-key'))).toMatchObject({ action: 'stale' });

    const refused = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: {} });
    expect([refused.status, refused.json.error.code]).toEqual([409, 'RotationWouldBreakConsumers']);
    expect(refused.json.error.message).toMatch(/features-sas.*reissueSas: true/);

    const withReissue = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: { dryRun: true, reissueSas: true } });
    expect(withReissue.json.counts).toMatchObject({ moveKey: 11, reissueSas: 3, blocked: 0 });
    const bad = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: { keyName: 'key3' } });
    expect([bad.status, bad.json.error.message]).toEqual([400, expect.stringContaining("'keyName' must be one of 'key1', 'key2'")]);

    expect((await clients.storage.storageAccounts.listKeys(GROUP_A, ACCOUNT)).keys!.map((key) => key.value)).toEqual([key1, key2]);
    expect(await heldCredential(server, admin, GROUP_B, 'ws-beta', 'features-sas')).toEqual({ credentialsType: 'Sas', secret: serviceSas });
  });

  describe('rotateKeys with reissueSas', () => {
    let status: any;
    let accepted: Awaited<ReturnType<typeof armRequest>>;

    beforeAll(async () => {
      await assertAllWork();
      accepted = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: { reissueSas: true } });
      status = await waitForRotation(server, token, accepted.headers['azure-asyncoperation'] as string);
    });

    test('is an ARM long-running operation: 202 with Azure-AsyncOperation and Location, then Succeeded', async () => {
      expect(accepted.status).toBe(202);
      expect(accepted.headers['azure-asyncoperation']).toMatch(new RegExp(`${path()}/rotations/[0-9a-f-]{36}\\?api-version=`));
      expect(accepted.headers.location).toMatch(/\/result\?api-version=/);
      expect(accepted.json).toMatchObject({ status: 'InProgress', properties: { plan: { retiredKey: 'key1', keptKey: 'key2' } } });
      expect(status).toMatchObject({ status: 'Succeeded', properties: { counts: { verified: 14, failed: 0, restored: 0, sasReissued: 3 } } });
      expect(status.properties.steps.map((step: any) => `${step.name}.${step.phase}`)).toEqual([
        'plan.done',
        'move.started',
        'move.done',
        'verify-moved.started',
        'verify-moved.done',
        'regenerate.started',
        'regenerate.done',
        'verify-final.started',
        'verify-final.done',
      ]);
      const result = await getOperation(server, token, accepted.headers.location as string);
      expect([result.status, result.json.status]).toEqual([200, 'Succeeded']);
      expect(result.json.properties.results).toHaveLength(14);
    });

    test('every consumer works with what it now holds, and holds key2 or a SAS signed with it', async () => {
      await assertAllWork();
      const consumers = (await armRequest(server, 'POST', `${path()}/listConsumers`, { token })).json;
      expect(consumers.counts).toEqual({ consumers: 15, key1: 0, key2: 14, stale: 1, unknown: 0, keyless: 0 });
      expect(consumers.activeKey).toBe('key2');
      const keys = (await clients.storage.storageAccounts.listKeys(GROUP_A, ACCOUNT)).keys!.map((key) => key.value);
      expect(keys[1]).toBe(key2);
      expect(keys[0]).not.toBe(key1);
      expect(await heldCredential(server, admin, GROUP_A, 'ws-alpha', 'shared-files')).toEqual({ credentialsType: 'AccountKey', secret: key2 });
    });

    test('the reissued SAS grants what the old one did, signed with key2; the old SAS and the old key1 are refused', async () => {
      const reissued = await heldCredential(server, admin, GROUP_B, 'ws-beta', 'features-sas');
      const oldParams = new URLSearchParams(serviceSas);
      const newParams = new URLSearchParams(reissued.secret);
      for (const name of ['sr', 'sp', 'se']) expect(newParams.get(name), name).toBe(oldParams.get(name));
      expect(newParams.get('sig')).not.toBe(oldParams.get('sig'));
      const refused = { statusCode: 403, code: 'AuthenticationFailed' };
      await expect(writeAndList(server, ACCOUNT, 'features', { credentialsType: 'Sas', secret: serviceSas })).rejects.toMatchObject(refused);
      await expect(writeAndList(server, ACCOUNT, 'features', { credentialsType: 'Sas', secret: accountSas })).rejects.toMatchObject(refused);
      await expect(writeAndList(server, ACCOUNT, 'training', { credentialsType: 'AccountKey', secret: key1 })).rejects.toMatchObject(refused);
      await expect(writeAndListFiles(server, ACCOUNT, 'shared', { credentialsType: 'AccountKey', secret: key1 })).rejects.toMatchObject(refused);
      await expect(writeAndListFiles(server, ACCOUNT, 'shared', { credentialsType: 'Sas', secret: fileSas })).rejects.toMatchObject(refused);
    });

    test('while a rotation runs, a second one is a 409 and so is regenerateKey; a datastore registered meanwhile with the retired key is moved too', async () => {
      const running = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: { reissueSas: true } });
      expect(running.status).toBe(202);
      // Registered once the first round has moved every consumer (the server pauses before verifying): a second round must move it.
      const status = running.headers['azure-asyncoperation'] as string;
      const movedOnce = async () => (await getOperation(server, token, status)).json.properties.steps.some((step: any) => step.name === 'move' && step.phase === 'done');
      await until(movedOnce);
      const retiring = (await clients.storage.storageAccounts.listKeys(GROUP_A, ACCOUNT)).keys![1]!.value!;
      await clients.ml.datastores.createOrUpdate(GROUP_A, 'ws-alpha', 'late-comer', { properties: { ...blobKey(retiring), containerName: 'features' } });
      working.push({ group: GROUP_A, workspace: 'ws-alpha', datastore: 'late-comer', container: 'features' });
      const second = await armRequest(server, 'POST', `${path()}/rotateKeys`, { token, body: { reissueSas: true } });
      expect([second.status, second.json.error.code]).toEqual([409, 'RotationInProgress']);
      expect(second.json.error.message).toContain(`already in progress (operation ${running.json.name}`);
      const regenerate = await armRequest(server, 'POST', `${path()}/regenerateKey`, { token, body: { keyName: 'key1' } });
      expect([regenerate.status, regenerate.json.error.code]).toEqual([409, 'RotationInProgress']);
      const consumers = await armRequest(server, 'POST', `${path()}/listConsumers`, { token });
      expect(consumers.json.rotationInProgress).toMatchObject({ id: running.json.name });
      const done = await waitForRotation(server, token, running.headers['azure-asyncoperation'] as string);
      expect(done).toMatchObject({ status: 'Succeeded', properties: { plan: { retiredKey: 'key2', keptKey: 'key1' } } });
      expect(done.properties.steps.filter((step: any) => step.name === 'move' && step.phase === 'done').map((step: any) => step.round)).toEqual([1, 2]);
      expect(await heldCredential(server, admin, GROUP_A, 'ws-alpha', 'late-comer')).not.toEqual({ credentialsType: 'AccountKey', secret: retiring });
      await assertAllWork();
    });
  });

  test('a consumer failing verification rolls the rotation back before any key is regenerated', async () => {
    await clients.storage.storageAccounts.beginCreateAndWait(GROUP_A, 'rotfail', { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    const keys = (await clients.storage.storageAccounts.listKeys(GROUP_A, 'rotfail')).keys!.map((key) => key.value!);
    const service = new BlobServiceClient(`${server.blob}/rotfail`, new StorageSharedKeyCredential('rotfail', keys[0]!));
    for (const container of ['kept', 'doomed']) await service.createContainer(container);
    const account = await clients.storage.storageAccounts.getProperties(GROUP_A, 'rotfail');
    await clients.ml.workspaces.beginCreateOrUpdateAndWait(GROUP_A, 'ws-fail', { location: 'eastus', storageAccount: account.id });
    for (const [name, container] of [['kept-data', 'kept'], ['doomed-data', 'doomed']] as const) {
      await clients.ml.datastores.createOrUpdate(GROUP_A, 'ws-fail', name, {
        properties: { ...blobKey(keys[0]!), accountName: 'rotfail', containerName: container },
      });
    }
    await service.deleteContainer('doomed');

    const accepted = await armRequest(server, 'POST', `${path(GROUP_A, 'rotfail')}/rotateKeys`, { token, body: {} });
    expect(accepted.status).toBe(202);
    const status = await waitForRotation(server, token, accepted.headers['azure-asyncoperation'] as string);
    expect(status).toMatchObject({ status: 'Failed', error: { code: 'ConsumerVerificationFailed' } });
    expect(status.error.message).toMatch(/ws-fail\/datastores\/doomed-data: the container 'doomed' does not exist/);
    expect(status.properties.steps.map((step: any) => step.name)).not.toContain('regenerate');
    expect(status.properties.counts).toMatchObject({ restored: 6, moved: 6, verified: 0, failed: 0 });
    expect((await clients.storage.storageAccounts.listKeys(GROUP_A, 'rotfail')).keys!.map((key) => key.value)).toEqual(keys);
    expect(await heldCredential(server, admin, GROUP_A, 'ws-fail', 'kept-data')).toEqual({ credentialsType: 'AccountKey', secret: keys[0] });
    expect(await heldCredential(server, admin, GROUP_A, 'ws-fail')).toEqual({ credentialsType: 'AccountKey', secret: keys[0] });
    await writeAndList(server, 'rotfail', 'kept', { credentialsType: 'AccountKey', secret: keys[0]! });
    await clients.ml.datastores.delete(GROUP_A, 'ws-fail', 'doomed-data');
  });

  test('a bulk rotation picks accounts by the age of their active key and reports each', async () => {
    const scope = `/subscriptions/${server.subscriptionId}/providers/Microsoft.Storage/rotateKeys`;
    const young = await armRequest(server, 'POST', scope, { token, body: { ifOlderThanDays: 30, dryRun: true } });
    expect(young.status).toBe(200);
    const byName = new Map<string, any>(young.json.value.map((entry: any) => [entry.accountName, entry]));
    expect(byName.get(ACCOUNT)).toMatchObject({ action: 'skipped', activeKey: 'key1', reason: expect.stringContaining('not older than 30 days') });
    expect(byName.get('devstoreaccount1')).toMatchObject({ action: 'skipped', reason: expect.stringContaining('declared at start-up') });

    const group = await armRequest(server, 'POST', `/subscriptions/${server.subscriptionId}/resourceGroups/${GROUP_A}/providers/Microsoft.Storage/rotateKeys`, {
      token,
      body: { ifOlderThanDays: 0, dryRun: true, reissueSas: true },
    });
    expect(group.json.value.map((entry: any) => [entry.accountName, entry.action])).toEqual([
      ['rotfail', 'planned'],
      [ACCOUNT, 'planned'],
    ]);
    const rotated = await armRequest(server, 'POST', `/subscriptions/${server.subscriptionId}/resourceGroups/${GROUP_A}/providers/Microsoft.Storage/rotateKeys`, {
      token,
      body: { ifOlderThanDays: 0, reissueSas: true },
    });
    for (const entry of rotated.json.value) {
      expect(entry.action, entry.accountName).toBe('started');
      expect((await waitForRotation(server, token, entry.operation.azureAsyncOperation)).status).toBe('Succeeded');
    }
    await assertAllWork();
  });

  test('the activity log records who did what to keys and credentials, Reader can read it, and it holds no secret', async () => {
    const readerToken = await tokenFor(server, reader);
    const events = await armRequest(server, 'GET', `/subscriptions/${server.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values`, {
      token: readerToken,
      apiVersion: '2015-04-01',
    });
    expect([events.status, events.json.error.code]).toEqual([400, 'InvalidParameter']);
    const url = `/subscriptions/${server.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?$filter=${encodeURIComponent(`eventTimestamp ge '${started}' and resourceGroupName eq '${GROUP_A}'`)}`;
    const response = await armRequest(server, 'GET', url, { token: readerToken, apiVersion: '2015-04-01' });
    expect(response.status).toBe(200);
    const log: any[] = response.json.value;
    expect(log.every((event) => event.resourceGroupName === GROUP_A)).toBe(true);
    const times = log.map((event) => Date.parse(event.eventTimestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const rotation = log.find((event) => event.operationName.value === 'Microsoft.Storage/storageAccounts/rotateKeys/action' && event.status.value === 'Succeeded');
    expect(rotation).toMatchObject({
      caller: admin.clientId,
      claims: { appid: admin.clientId, name: 'mlspace-admin' },
      resourceId: expect.stringMatching(/\/storageAccounts\/(rotshared|rotfail)$/),
      operationName: { localizedValue: 'Rotate Storage Account Keys' },
      category: { value: 'Administrative' },
      level: 'Informational',
      subscriptionId: server.subscriptionId,
    });
    expect(log.filter((event) => event.correlationId === rotation.correlationId).map((event) => event.status.value)).toEqual(['Succeeded', 'Accepted']);
    expect(JSON.parse(rotation.properties.consumersChanged).ids.length).toBeGreaterThan(0);
    const failed = log.find((event) => event.operationName.value.endsWith('rotateKeys/action') && event.status.value === 'Failed' && event.properties.rolledBack);
    expect(JSON.parse(failed.properties.error).code).toBe('ConsumerVerificationFailed');
    const operations = new Set(log.map((event) => event.operationName.value));
    for (const operation of [
      'Microsoft.Storage/storageAccounts/listKeys/action',
      'Microsoft.Storage/storageAccounts/listConsumers/action',
      'Microsoft.MachineLearningServices/workspaces/datastores/write',
      'Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action',
      'Microsoft.MachineLearningServices/workspaces/listKeys/action',
    ]) {
      expect(operations, operation).toContain(operation);
    }
    const write = log.find((event) => event.operationName.value.endsWith('datastores/write') && event.resourceId.endsWith('/training-key'));
    expect(write.properties).toMatchObject({ credentialsType: 'AccountKey', credentialsChanged: 'true' });
    const denied = log.filter((event) => event.status.value === 'Failed' && event.properties.code === 'AuthorizationFailed').map((event) => [event.caller, event.operationName.value]);
    expect(denied).toContainEqual([reader.clientId, 'Microsoft.Storage/storageAccounts/rotateKeys/action']);
    expect(denied).toContainEqual([reader.clientId, 'Microsoft.Storage/storageAccounts/listConsumers/action']);
    const blocked = log.find((event) => event.status.value === 'Failed' && event.properties.code === 'RotationWouldBreakConsumers');
    expect(blocked.resourceId).toBe(path());

    const selected = await armRequest(server, 'GET', `${url}&$select=caller,operationName`, { token: readerToken, apiVersion: '2015-04-01' });
    expect(Object.keys(selected.json.value[0]).sort()).toEqual(['caller', 'operationName']);

    const keys = (await clients.storage.storageAccounts.listKeys(GROUP_A, ACCOUNT)).keys!.map((key) => key.value!);
    const all = await armRequest(server, 'GET', url.replace(encodeURIComponent(` and resourceGroupName eq '${GROUP_A}'`), ''), { token: readerToken, apiVersion: '2015-04-01' });
    const text = all.text;
    for (const secret of [key1, key2, ...keys, staleKey, admin.clientSecret, new URLSearchParams(serviceSas).get('sig')!, new URLSearchParams(fileSas).get('sig')!]) {
      expect(text).not.toContain(secret);
    }
    expect(JSON.parse(text).value.some((event: any) => event.resourceGroupName === GROUP_B)).toBe(true);
  });

  test('no key, SAS signature or secret reached the server log or the database in the clear', async () => {
    const output = server.output();
    const stored = await storedMetadata(server);
    for (const secret of [key1, key2, staleKey, ...[serviceSas, accountSas, fileSas].map((sas) => new URLSearchParams(sas).get('sig')!)]) {
      expect(output).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
  });
});
