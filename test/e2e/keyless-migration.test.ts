import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ShareServiceClient, StorageSharedKeyCredential as FileKeyCredential } from '@azure/storage-file-share';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustCa } from '../../src/client/trust-ca.js';
import { cliIn } from '../helpers/cli.js';
import { armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { accountPath, waitForRotation } from '../helpers/rotation.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-migrate';

/** An account with a workspace and three user datastores holding its key: a blob container, a file share, and a SAS. */
async function accountWithConsumers(server: TestServer, account: string, workspace: string) {
  const { resources, storage, ml } = managementClients(server);
  await resources.resourceGroups.createOrUpdate(GROUP, { location: 'westeurope' });
  const created = await storage.storageAccounts.beginCreateAndWait(GROUP, account, { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
  const key = (await storage.storageAccounts.listKeys(GROUP, account)).keys![0]!.value!;
  await new BlobServiceClient(`${server.blob}/${account}`, new StorageSharedKeyCredential(account, key)).getContainerClient('data').create();
  await new ShareServiceClient(`${server.file}/${account}`, new FileKeyCredential(account, key)).getShareClient('files').create();
  await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, workspace, { location: 'westeurope', storageAccount: created.id });
  const sas = (await storage.storageAccounts.listServiceSAS(GROUP, account, { canonicalizedResource: `/blob/${account}/data`, resource: 'c', permissions: 'rl', sharedAccessExpiryTime: new Date(Date.now() + 86_400_000) })).serviceSasToken!;
  const register = (name: string, properties: object) => ml.datastores.createOrUpdate(GROUP, workspace, name, { properties: { accountName: account, ...properties } as never });
  await register('userkey', { datastoreType: 'AzureBlob', containerName: 'data', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key } } });
  await register('userfiles', { datastoreType: 'AzureFile', fileShareName: 'files', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key } } });
  await register('usersas', { datastoreType: 'AzureBlob', containerName: 'data', credentials: { credentialsType: 'Sas', secrets: { secretsType: 'Sas', sasToken: sas } } });
}

async function consumers(server: TestServer, account: string) {
  const answer = await armRequest(server, 'POST', `${accountPath(server, GROUP, account)}/listConsumers`, { token: await tokenFor(server) });
  return answer.json as { counts: Record<string, number>; keylessReadiness: { ready: boolean }; value: { id: string; matches: string; credentialsType: string }[] };
}

async function assignmentsOf(server: TestServer, principalId: string) {
  const authorization = new AuthorizationManagementClient(managementClients(server).credential, server.subscriptionId, { endpoint: server.arm, ...trustCa(server.caFile) });
  const found = [];
  for await (const assignment of authorization.roleAssignments.listForScope(`/subscriptions/${server.subscriptionId}`, { filter: `principalId eq '${principalId}'` })) found.push(assignment);
  return found;
}

describe('migrating an account to keyless, consumer by consumer', { timeout: 120_000 }, () => {
  let server: TestServer;
  let home: string;
  let cli: ReturnType<typeof cliIn>;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-migrate-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    cli = cliIn(home);
    expect((await cli('login', '-o', 'none')).code).toBe(0);
    await accountWithConsumers(server, 'migacct', 'migws');
  });
  afterAll(async () => {
    await server?.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('shows the plan with --dry-run and changes nothing', async () => {
    const plan = JSON.parse((await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct', '--dry-run', '-o', 'json')).stdout);
    expect(plan.status).toBe('DryRun');
    expect(plan.targets.map((target: { id: string }) => target.id.split('/workspaces/')[1]).sort()).toEqual(['migws', 'migws/datastores/userfiles', 'migws/datastores/userkey', 'migws/datastores/usersas']);
    const files = plan.targets.find((target: { id: string }) => target.id.endsWith('userfiles'));
    expect(files.roles).toEqual([{ roleDefinitionName: 'Storage File Data Privileged Contributor', scope: `${accountPath(server, GROUP, 'migacct')}/fileServices/default/fileshares/files` }]);
    const table = await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct', '--dry-run', '-o', 'table');
    expect(table.stdout).toMatch(/migws\/datastores\/userkey\s+Storage Blob Data Contributor\s+rg-migrate\/storageAccounts\/migacct\/containers\/data\s+DryRun/);
    expect((await consumers(server, 'migacct')).counts.consumers).toBe(7);
    expect(await assignmentsOf(server, plan.targets[0].principalId)).toEqual([]);
  });

  it('rolls back when an identity cannot be verified: roles removed, every key kept', async () => {
    const { ml } = managementClients(server);
    const key = (await managementClients(server).storage.storageAccounts.listKeys(GROUP, 'migacct')).keys![0]!.value!;
    // Registered without validation, on a container that does not exist: its identity cannot list it.
    await ml.datastores.createOrUpdate(GROUP, 'migws', 'ghost', {
      properties: { datastoreType: 'AzureBlob', accountName: 'migacct', containerName: 'missing', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key } } } as never,
    }, { skipValidation: true });
    const failed = await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct');
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/KeylessMigrationRolledBack.*datastores\/ghost.*the container 'missing' does not exist.*Nothing was changed/s);
    const principalId = (await ml.workspaces.get(GROUP, 'migws')).identity!.principalId!;
    expect(await assignmentsOf(server, principalId)).toEqual([]);
    const after = await consumers(server, 'migacct');
    expect(after.counts.consumers).toBe(8);
    expect(after.keylessReadiness.ready).toBe(false);
    await ml.datastores.delete(GROUP, 'migws', 'ghost');
  });

  it('moves every consumer, after which both keys are regenerated and nothing breaks; Shared Key goes off', async () => {
    const { ml, storage } = managementClients(server);
    const done = JSON.parse((await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct', '-o', 'json')).stdout);
    expect(done.status).toBe('Succeeded');
    const principalId = (await ml.workspaces.get(GROUP, 'migws')).identity!.principalId!;
    expect((await assignmentsOf(server, principalId)).length).toBe(5);
    const status = await armRequest(server, 'GET', `${accountPath(server, GROUP, 'migacct')}/keylessMigrations/${done.name}`, { token: await tokenFor(server) });
    expect(status.json).toMatchObject({ name: done.name, status: 'Succeeded' });

    const listed = await consumers(server, 'migacct');
    expect(listed.counts).toMatchObject({ consumers: 0, keyless: 6 });
    expect(listed.keylessReadiness.ready).toBe(true);
    for (const name of ['userkey', 'userfiles', 'usersas', 'workspaceblobstore']) {
      expect((await ml.datastores.get(GROUP, 'migws', name)).properties.credentials.credentialsType).toBe('None');
    }
    expect((await cli('ml', 'workspace', 'show', '-n', 'migws', '-g', GROUP, '--query', 'system_datastores_auth_mode', '-o', 'tsv')).stdout.trim()).toBe('identity');

    for (const keyName of ['key1', 'key2']) await storage.storageAccounts.regenerateKey(GROUP, 'migacct', { keyName });
    // The identity still reaches every container and share: switching the workspace back and forth checks it on the data plane.
    expect((await cli('ml', 'workspace', 'update', '-n', 'migws', '-g', GROUP, '--system-datastores-auth-mode', 'accessKey')).code).toBe(0);
    expect((await cli('ml', 'workspace', 'update', '-n', 'migws', '-g', GROUP, '--system-datastores-auth-mode', 'identity')).code).toBe(0);
    expect((await cli('storage', 'account', 'update', '-g', GROUP, '-n', 'migacct', '--allow-shared-key-access', 'false')).code).toBe(0);
  });

  it('refuses a system datastore on its own, and an unknown one, saying what to do', async () => {
    await accountWithConsumers(server, 'migacct2', 'migws2');
    const system = await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct2', '-w', 'migws2', '--datastore', 'workspaceblobstore');
    expect(system.stderr).toMatch(/system datastore.*moves with its workspace/);
    const unknown = await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct2', '-w', 'migws2', '--datastore', 'nope');
    expect(unknown.stderr).toMatch(/DatastoreNotFound/);
    // One datastore alone moves; the rest keep their keys.
    const one = JSON.parse((await cli('storage', 'account', 'keyless', 'migrate', '-g', GROUP, '-n', 'migacct2', '-w', 'migws2', '--datastore', 'userkey', '-o', 'json')).stdout);
    expect(one.targets.map((target: { id: string }) => target.id.split('/').pop())).toEqual(['userkey']);
    expect((await consumers(server, 'migacct2')).counts).toMatchObject({ consumers: 6, keyless: 1 });
  });

  it("resets a service principal's secret through the datastores that hold it: the new one works at once, the old one stops", async () => {
    const { ml } = managementClients(server);
    const created = await armRequest(server, 'POST', '/providers/Mlspace.Identity/servicePrincipals', {
      token: await tokenFor(server),
      body: { role: 'Storage Blob Data Reader', scopes: [`${accountPath(server, GROUP, 'migacct2')}/blobServices/default/containers/data`], displayName: 'etl' },
    });
    const etl = created.json as { tenantId: string; clientId: string; clientSecret: string };
    const register = (secret: string) =>
      ml.datastores.createOrUpdate(GROUP, 'migws2', 'etlstore', {
        properties: {
          datastoreType: 'AzureBlob',
          accountName: 'migacct2',
          containerName: 'data',
          credentials: { credentialsType: 'ServicePrincipal', tenantId: etl.tenantId, clientId: etl.clientId, secrets: { secretsType: 'ServicePrincipal', clientSecret: secret } },
        } as never,
      });
    await register(etl.clientSecret);

    const reset = JSON.parse((await cli('ad', 'sp', 'credential', 'reset', '--id', etl.clientId, '-o', 'json')).stdout);
    expect(reset).toMatchObject({ tenantId: server.tenantId, clientId: etl.clientId, status: 'Succeeded', consumers: [{ id: expect.stringMatching(/migws2\/datastores\/etlstore$/), state: 'verified' }] });
    // The rotation engine ran it: its journal shows the same steps as a key rotation's.
    const status = await armRequest(server, 'GET', `/providers/Mlspace.Identity/servicePrincipals/${etl.clientId}/rotations/${reset.resetId}`, { token: await tokenFor(server) });
    const steps = (status.json as { properties: { steps: { name: string; phase: string }[] } }).properties.steps.map((step) => `${step.name}.${step.phase}`);
    expect(steps).toEqual(['plan.done', 'move.started', 'move.done', 'verify-moved.started', 'verify-moved.done', 'regenerate.started', 'regenerate.done', 'verify-final.started', 'verify-final.done']);
    expect(JSON.stringify(status.json)).not.toContain(reset.clientSecret);
    expect(reset.clientSecret).not.toBe(etl.clientSecret);
    expect(await ml.datastores.listSecrets(GROUP, 'migws2', 'etlstore')).toMatchObject({ clientSecret: reset.clientSecret });
    const signIn = (secret: string) => managementClients(server, { ...etl, clientSecret: secret }).credential.getToken('https://storage.azure.com/.default');
    expect((await signIn(reset.clientSecret))!.token).toBeTruthy();
    await expect(signIn(etl.clientSecret)).rejects.toThrow(/Invalid client secret/);
    await expect(register(etl.clientSecret)).rejects.toMatchObject({ statusCode: 400, message: expect.stringMatching(/client secret is not valid/) });
    expect(server.output()).not.toContain(reset.clientSecret);

    // A datastore whose principal has no role on its container fails verification with the new secret: the reset
    // rolls back, every datastore keeps its secret, the old one still signs in and the new one never does.
    await ml.datastores.createOrUpdate(GROUP, 'migws2', 'etlfiles', {
      properties: {
        datastoreType: 'AzureFile',
        accountName: 'migacct2',
        fileShareName: 'files',
        credentials: { credentialsType: 'ServicePrincipal', tenantId: etl.tenantId, clientId: etl.clientId, secrets: { secretsType: 'ServicePrincipal', clientSecret: reset.clientSecret } },
      } as never,
    }, { skipValidation: true });
    const refused = await armRequest(server, 'POST', `/providers/Mlspace.Identity/servicePrincipals/${etl.clientId}/resetCredential`, { token: await tokenFor(server) });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ error: { code: 'SecretResetRolledBack', message: expect.stringMatching(/the old client secret was not retired and every consumer was restored: .*datastores\/etlfiles: /) } });
    expect(await ml.datastores.listSecrets(GROUP, 'migws2', 'etlstore')).toMatchObject({ clientSecret: reset.clientSecret });
    expect((await signIn(reset.clientSecret))!.token).toBeTruthy();
    await ml.datastores.delete(GROUP, 'migws2', 'etlfiles');

    const identity = (await ml.workspaces.get(GROUP, 'migws2')).identity!.principalId!;
    expect((await cli('ad', 'sp', 'credential', 'reset', '--id', identity)).stderr).toMatch(/workspace's identity: it has no secret/);
  });
});

describe('a migration interrupted by kill -9', { timeout: 120_000 }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-migrate-crash-'));
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is rolled back at the next start when it had not finished, and kept when it had', async () => {
    server = await startTestServer({ dataDir, env: { MLSPACE_FAULT_CRASH_AT: 'keyless-verifying' } });
    await accountWithConsumers(server, 'crashacct', 'crashws');
    const principalId = (await managementClients(server).ml.workspaces.get(GROUP, 'crashws')).identity!.principalId!;
    await armRequest(server, 'POST', `${accountPath(server, GROUP, 'crashacct')}/migrateToKeyless`, { token: await tokenFor(server), body: {} }).catch(() => undefined);
    expect(await server.stop()).toBeNull();

    server = await startTestServer({ dataDir, env: { MLSPACE_FAULT_CRASH_AT: 'keyless-done' } });
    // Rolled back: the roles it had assigned are gone, and every consumer holds its key as before.
    expect(await assignmentsOf(server, principalId)).toEqual([]);
    expect((await consumers(server, 'crashacct')).counts.consumers).toBe(7);
    await armRequest(server, 'POST', `${accountPath(server, GROUP, 'crashacct')}/migrateToKeyless`, { token: await tokenFor(server), body: {} }).catch(() => undefined);
    await server.stop();

    server = await startTestServer({ dataDir });
    // Killed after its last step committed: it stays done.
    expect((await consumers(server, 'crashacct')).counts).toMatchObject({ consumers: 0, keyless: 6 });
    expect((await assignmentsOf(server, principalId)).length).toBe(5);
  });
});

describe('a migration and a key rotation of one account', { timeout: 120_000 }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-migrate-rotate-'));
  let server: TestServer | undefined;
  let token: string;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const migrate = (account: string) => armRequest(server!, 'POST', `${accountPath(server!, GROUP, account)}/migrateToKeyless`, { token, body: {} });
  const rotate = (account: string) => armRequest(server!, 'POST', `${accountPath(server!, GROUP, account)}/rotateKeys`, { token, body: { reissueSas: true } });

  it('a rotation asked for while a migration runs is refused, saying what to wait for; the migration finishes', async () => {
    // The migration holds three seconds once its role assignments are made.
    server = await startTestServer({ dataDir, env: { MLSPACE_FAULT_PAUSE_AT: 'keyless-assigned:3000' } });
    await accountWithConsumers(server, 'lockacct', 'lockws');
    token = await tokenFor(server);
    const principalId = (await managementClients(server).ml.workspaces.get(GROUP, 'lockws')).identity!.principalId!;
    const migration = migrate('lockacct');
    await expect.poll(async () => (await assignmentsOf(server!, principalId)).length, { timeout: 10_000, interval: 100 }).toBe(5);
    const refused = await rotate('lockacct');
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.code).toBe('KeylessMigrationInProgress');
    expect(refused.json.error.message).toMatch(/storage account 'lockacct' are being moved to keyless access \(migration [0-9a-f-]+, assigning\)\. .*rotate once it has answered/);
    const done = await migration;
    expect(done.status, done.text).toBe(200);
    expect(done.json.status).toBe('Succeeded');
    expect((await consumers(server, 'lockacct')).counts).toMatchObject({ consumers: 0, keyless: 6 });
  });

  it('a migration asked for while a rotation runs is refused, saying what to wait for; the rotation finishes', async () => {
    // Every rotation holds three seconds once it has moved its consumers; the first test's server goes first.
    await server?.stop();
    server = await startTestServer({ dataDir, env: { MLSPACE_FAULT_PAUSE_AT: 'move.done:3000' } });
    token = await tokenFor(server);
    await accountWithConsumers(server, 'lockacct2', 'lockws2');
    const started = await rotate('lockacct2');
    expect(started.status, started.text).toBe(202);
    const refused = await migrate('lockacct2');
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.code).toBe('RotationInProgress');
    expect(refused.json.error.message).toMatch(/A key rotation of storage account 'lockacct2' is in progress \(operation [0-9a-f-]+, at step '\w+'\).*GET .*\/rotations\/.*then move them to keyless access/);
    // Nothing of the refused migration stays: no consumer lost its key.
    expect((await consumers(server, 'lockacct2')).counts.consumers).toBe(7);
    const rotation = await waitForRotation(server, token, started.headers['azure-asyncoperation'] as string);
    expect(rotation.status).toBe('Succeeded');
    const after = await migrate('lockacct2');
    expect(after.status, after.text).toBe(200);
  });
});

describe('a secret reset interrupted by kill -9', { timeout: 120_000 }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-reset-crash-'));
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes at the next start: the datastore holds a new secret that signs in, and the old one no longer does', async () => {
    server = await startTestServer({ dataDir, env: { MLSPACE_FAULT_CRASH_AT: 'verify-moved.done' } });
    await accountWithConsumers(server, 'resetacct', 'resetws');
    const created = await armRequest(server, 'POST', '/providers/Mlspace.Identity/servicePrincipals', {
      token: await tokenFor(server),
      body: { role: 'Storage Blob Data Reader', scopes: [`${accountPath(server, GROUP, 'resetacct')}/blobServices/default/containers/data`] },
    });
    const etl = created.json as { tenantId: string; clientId: string; clientSecret: string };
    await managementClients(server).ml.datastores.createOrUpdate(GROUP, 'resetws', 'etl', {
      properties: {
        datastoreType: 'AzureBlob',
        accountName: 'resetacct',
        containerName: 'data',
        credentials: { credentialsType: 'ServicePrincipal', tenantId: etl.tenantId, clientId: etl.clientId, secrets: { secretsType: 'ServicePrincipal', clientSecret: etl.clientSecret } },
      } as never,
    });
    await armRequest(server, 'POST', `/providers/Mlspace.Identity/servicePrincipals/${etl.clientId}/resetCredential`, { token: await tokenFor(server) }).catch(() => undefined);
    expect(await server.stop()).toBeNull();

    server = await startTestServer({ dataDir });
    const { ml } = managementClients(server);
    let held = '';
    for (let tries = 0; tries < 100; tries++) {
      const old = await managementClients(server, etl).credential.getToken('https://storage.azure.com/.default').then(() => true, () => false);
      held = ((await ml.datastores.listSecrets(GROUP, 'resetws', 'etl')) as { clientSecret: string }).clientSecret;
      if (!old && held !== etl.clientSecret) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(held).not.toBe(etl.clientSecret);
    expect((await managementClients(server, { ...etl, clientSecret: held }).credential.getToken('https://storage.azure.com/.default'))!.token).toBeTruthy();
    await expect(managementClients(server, etl).credential.getToken('https://storage.azure.com/.default')).rejects.toThrow(/Invalid client secret/);
    expect(server.output()).toMatch(/resuming an interrupted rotation/);
  });
});
