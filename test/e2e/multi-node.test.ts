import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { adminSecret, armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { accountPath, heldCredential, latestRotation, waitForRotation, writeAndList } from '../helpers/rotation.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { DEV_ACCOUNT, DEV_KEY, startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-nodes';
const ACCOUNT = 'nodesacct';
const LEASE_SECONDS = 2;

function container(node: TestServer, key: string, name = 'shared'): ContainerClient {
  return new BlobServiceClient(`${node.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key), { retryOptions: { maxTries: 1 } }).getContainerClient(name);
}

/** `count` signed reads of the container's properties, `concurrency` at a time: the status of each. */
async function burst(client: ContainerClient, count: number, concurrency = 32): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next++ < count) {
      const status = await client.getProperties().then(
        (response) => response._response.status,
        (error: { statusCode?: number }) => error.statusCode ?? 0,
      );
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/**
 * Three mlspace nodes on one PostgreSQL database and one data directory, as
 * docs/scale-out.md deploys them: what one node does, every node sees, keys
 * above all.
 */
describe('three nodes on one database', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let keys: string[];
  const node = (index: number) => cluster.nodes[index]!;

  async function listKeys(through: TestServer): Promise<string[]> {
    return (await managementClients(through).storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys!.map((key) => key.value!);
  }

  async function regenerate(through: TestServer, keyName: 'key1' | 'key2'): Promise<string[]> {
    const response = await armRequest(through, 'POST', `${accountPath(through, GROUP, ACCOUNT)}/regenerateKey`, { token: await tokenFor(through), body: { keyName } });
    expect(response.status, response.text).toBe(200);
    return response.json.keys.map((key: { value: string }) => key.value);
  }

  beforeAll(async () => {
    // Every rotation holds a second after it has moved its consumers, so the one that wins the race below is
    // still running when the other request arrives, however the two requests are scheduled.
    cluster = await startCluster(3, { leaseSeconds: LEASE_SECONDS, env: { MLSPACE_FAULT_PAUSE_AT: 'move.done:1000' } });
    const { resources, storage } = managementClients(node(0));
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'eastus' });
    await storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    keys = await listKeys(node(1));
    await container(node(2), keys[0]!).create();
  });
  afterAll(() => cluster?.close());

  test('an account created through one node is served by every node', async () => {
    for (const index of [0, 1, 2]) expect((await container(node(index), keys[1]!).getProperties())._response.status).toBe(200);
  });

  test('a key regenerated through A is refused by B and C from the moment the call returns, 1,000 requests each; the new key works at once', async () => {
    const old = keys[0]!;
    keys = await regenerate(node(0), 'key1');
    const [onB, onC] = await Promise.all([burst(container(node(1), old), 1000), burst(container(node(2), old), 1000)]);
    expect(Object.fromEntries(onB)).toEqual({ 403: 1000 });
    expect(Object.fromEntries(onC)).toEqual({ 403: 1000 });
    const [newOnB, newOnC] = await Promise.all([burst(container(node(1), keys[0]!), 1000), burst(container(node(2), keys[0]!), 1000)]);
    expect(Object.fromEntries(newOnB)).toEqual({ 200: 1000 });
    expect(Object.fromEntries(newOnC)).toEqual({ 200: 1000 });
  });

  test('a role granted through one node is in force on the others when the call returns, and so is its removal and a revocation of delegation keys', async () => {
    const shared = `${accountPath(node(0), GROUP, ACCOUNT)}/blobServices/default/containers/shared`;
    const created = await armRequest(node(0), 'POST', '/providers/Mlspace.Identity/servicePrincipals', { token: await tokenFor(node(0)), body: { role: 'Storage Blob Delegator', scopes: [accountPath(node(0), GROUP, ACCOUNT)] } });
    expect(created.status, created.text).toBe(201);
    const reader = created.json;
    const blobsOn = (index: number) =>
      new BlobServiceClient(`${node(index).blobHttps}/${ACCOUNT}`, managementClients(node(index), reader).credential, { retryOptions: { maxTries: 1 }, tlsOptions: { ca: fs.readFileSync(node(index).caFile) } } as object);
    const read = (index: number) =>
      blobsOn(index).getContainerClient('shared').getBlobClient('role.txt').downloadToBuffer().then(
        (body) => body.toString(),
        (error: { statusCode?: number }) => error.statusCode,
      );
    await container(node(0), keys[0]!).getBlockBlobClient('role.txt').upload('granted', 7);
    expect(await Promise.all([read(0), read(1), read(2)])).toEqual([403, 403, 403]);

    const assignment = `${shared}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
    const granted = await armRequest(node(0), 'PUT', assignment, {
      token: await tokenFor(node(0)),
      apiVersion: '2022-04-01',
      body: { properties: { roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', principalId: reader.clientId } },
    });
    expect(granted.status, granted.text).toBe(201);
    expect(await Promise.all([read(1), read(2), read(0)])).toEqual(['granted', 'granted', 'granted']);

    // A user delegation SAS signed with a key from node B, used on C, refused on every node once A revokes the keys.
    const key = await blobsOn(1).getUserDelegationKey(new Date(Date.now() - 60_000), new Date(Date.now() + 3600_000));
    const sas = generateBlobSASQueryParameters({ containerName: 'shared', blobName: 'role.txt', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) }, key, ACCOUNT).toString();
    const viaSas = (index: number) => new BlobServiceClient(`${node(index).blob}/${ACCOUNT}?${sas}`, undefined, { retryOptions: { maxTries: 1 } }).getContainerClient('shared').getBlobClient('role.txt').downloadToBuffer().then((body) => body.toString(), (error: { statusCode?: number }) => error.statusCode);
    expect(await viaSas(2)).toBe('granted');
    const revoked = await armRequest(node(0), 'POST', `${accountPath(node(0), GROUP, ACCOUNT)}/revokeUserDelegationKeys`, { token: await tokenFor(node(0)) });
    expect(revoked.status, revoked.text).toBe(200);
    expect(await Promise.all([viaSas(0), viaSas(1), viaSas(2)])).toEqual([403, 403, 403]);

    const removed = await armRequest(node(2), 'DELETE', assignment, { token: await tokenFor(node(2)), apiVersion: '2022-04-01' });
    expect(removed.status, removed.text).toBe(200);
    expect(await Promise.all([read(0), read(1), read(2)])).toEqual([403, 403, 403]);
  });

  test('a blob written through A is read byte-exact through C, and listed by B', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await container(node(0), keys[0]!).getBlockBlobClient('written-on-a.bin').uploadData(data, { blockSize: 1024 * 1024 });
    expect((await container(node(2), keys[1]!).getBlockBlobClient('written-on-a.bin').downloadToBuffer()).equals(data)).toBe(true);
    const names: string[] = [];
    for await (const blob of container(node(1), keys[0]!).listBlobsFlat()) names.push(blob.name);
    expect(names).toContain('written-on-a.bin');
  });

  test('a lease acquired through B blocks a write through C', async () => {
    const onB = container(node(1), keys[0]!).getBlockBlobClient('leased.txt');
    await onB.upload('first', 5);
    const lease = await onB.getBlobLeaseClient().acquireLease(-1);
    const onC = container(node(2), keys[0]!).getBlockBlobClient('leased.txt');
    await expect(onC.upload('second', 6)).rejects.toMatchObject({ statusCode: 412, details: { errorCode: 'LeaseIdMissing' } });
    await onC.upload('second', 6, { conditions: { leaseId: lease.leaseId! } });
    expect((await onB.downloadToBuffer()).toString()).toBe('second');
  });

  test('a node killed mid-upload leaves nothing partial on any node', async () => {
    const size = 8 * 1024 * 1024;
    const victim = node(1);
    const url = container(victim, keys[0]!).getBlockBlobClient('cut-off.bin').url;
    // A raw Put Blob whose body stops half way; the node dies while waiting for the rest.
    const sas = generateBlobSASQueryParameters(
      { containerName: 'shared', blobName: 'cut-off.bin', permissions: BlobSASPermissions.parse('cw'), expiresOn: new Date(Date.now() + 600_000) },
      new StorageSharedKeyCredential(ACCOUNT, keys[0]!),
    );
    const request = http.request(`${url}?${sas}`, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': size, 'x-ms-version': '2023-11-03' } });
    request.on('error', () => {});
    request.write(randomBytes(size / 2));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await victim.stop('SIGKILL');
    request.destroy();
    for (const index of [0, 2]) {
      await expect(container(node(index), keys[0]!).getBlockBlobClient('cut-off.bin').getProperties()).rejects.toMatchObject({ statusCode: 404 });
      const names: string[] = [];
      for await (const blob of container(node(index), keys[0]!).listBlobsFlat()) names.push(blob.name);
      expect(names).not.toContain('cut-off.bin');
    }
    await cluster.start(1);
  });

  test('a node restarting while another uploads sweeps only old unreferenced files: the upload in progress commits whole', async () => {
    const size = 4 * 1024 * 1024;
    const body = randomBytes(size);
    const writer = node(0);
    const url = container(writer, keys[0]!).getBlockBlobClient('during-restart.bin').url;
    const sas = generateBlobSASQueryParameters(
      { containerName: 'shared', blobName: 'during-restart.bin', permissions: BlobSASPermissions.parse('cw'), expiresOn: new Date(Date.now() + 600_000) },
      new StorageSharedKeyCredential(ACCOUNT, keys[0]!),
    );
    // Content nobody refers to, left two hours ago by an interrupted write: the restart removes it.
    const leftover = path.join(cluster.dataDir, 'blobs', 'ff', `ff${randomBytes(15).toString('hex')}`);
    fs.mkdirSync(path.dirname(leftover), { recursive: true });
    fs.writeFileSync(leftover, 'left by a crash');
    fs.utimesSync(leftover, new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
    const answer = new Promise<number>((resolve, reject) => {
      const request = http.request(`${url}?${sas}`, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': size, 'x-ms-version': '2023-11-03' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      request.on('error', reject);
      request.write(body.subarray(0, size / 2));
      // Half the body is in the writer's content file when node C restarts and sweeps.
      setTimeout(async () => {
        await node(2).stop();
        await cluster.start(2);
        request.end(body.subarray(size / 2));
      }, 300);
    });
    expect(await answer).toBe(201);
    expect(fs.existsSync(leftover)).toBe(false);
    expect(await container(node(2), keys[0]!).getBlockBlobClient('during-restart.bin').downloadToBuffer()).toEqual(body);
  });

  test('a node stopped past its lease refuses signed requests when it wakes until it has caught up, and never takes a key regenerated meanwhile', async () => {
    const sleeper = node(2);
    const old = keys[1]!;
    sleeper.process.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 500));
    keys = await regenerate(node(0), 'key2');
    sleeper.process.kill('SIGCONT');
    const woken = await burst(container(sleeper, old), 200, 8);
    expect([...woken.keys()].every((status) => status === 403 || status === 503), JSON.stringify([...woken])).toBe(true);
    await expect.poll(async () => (await burst(container(sleeper, keys[1]!), 1, 1)).get(200), { timeout: 10_000 }).toBe(1);
    expect(Object.fromEntries(await burst(container(sleeper, old), 100, 8))).toEqual({ 403: 100 });
  });

  test('two nodes asked to rotate the same account at once: one rotation runs, the other request is a 409', async () => {
    const tokens = await Promise.all([tokenFor(node(0)), tokenFor(node(1))]);
    const ask = (index: number) => armRequest(node(index), 'POST', `${accountPath(node(index), GROUP, ACCOUNT)}/rotateKeys`, { token: tokens[index]!, body: {} });
    const answers = await Promise.all([ask(0), ask(1)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 409]);
    expect(answers.find((answer) => answer.status === 409)!.json.error.code).toBe('RotationInProgress');
    const running = answers.find((answer) => answer.status === 202)!;
    // Polled through a third node: every node answers for every rotation.
    const done = await waitForRotation(node(2), await tokenFor(node(2)), running.headers['azure-asyncoperation'] as string);
    expect(done.status).toBe('Succeeded');
    keys = await listKeys(node(2));
  });

  test('kill -9 of the node running a rotation: another node resumes it once its lease runs out, and no consumer is left stale', async () => {
    const { ml, storage } = managementClients(node(0));
    const account = await storage.storageAccounts.getProperties(GROUP, ACCOUNT);
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, 'nodes-ws', { location: 'eastus', storageAccount: account.id });
    await ml.datastores.createOrUpdate(GROUP, 'nodes-ws', 'shared-data', {
      properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: 'shared', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: keys[0]! } } },
    });
    await node(0).stop();
    const doomed = await cluster.start(0, { MLSPACE_FAULT_CRASH_AT: 'verify-moved.done' });
    const answer = await armRequest(doomed, 'POST', `${accountPath(doomed, GROUP, ACCOUNT)}/rotateKeys`, { token: await tokenFor(doomed), body: {} });
    expect(answer.status, answer.text).toBe(202);
    await expect.poll(() => doomed.process.signalCode, { timeout: 20_000 }).toBe('SIGKILL');
    const survivor = node(1);
    const token = await tokenFor(survivor);
    const latest = await latestRotation(survivor, token, GROUP, ACCOUNT);
    const rotation = await waitForRotation(survivor, token, `${survivor.arm}${latest.id}?api-version=2023-01-01`, 60_000);
    expect(rotation.status, JSON.stringify(rotation.error)).toBe('Succeeded');
    expect(rotation.properties.steps.map((step: { name: string }) => step.name)).toContain('restart');
    for (const datastore of [undefined, 'shared-data']) {
      const held = await heldCredential(survivor, adminSecret(survivor), GROUP, 'nodes-ws', datastore);
      await writeAndList(node(2), ACCOUNT, 'shared', held);
    }
    await cluster.start(0);
  });
});

/**
 * Nodes started together on an empty database and an empty shared data
 * directory, as an orchestrator starts them: they make its shared files one at
 * a time, so they agree on one master key, one CA, one token-signing key and
 * one admin client.
 */
describe('three nodes started at once on an empty data directory', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(3, { leaseSeconds: LEASE_SECONDS, atOnce: true });
  });
  afterAll(() => cluster?.close());

  test('they agree on the CA, the admin client and the token-signing key: a token from any node is taken by every node', async () => {
    const [first, ...others] = cluster.nodes;
    const token = await tokenFor(first!);
    for (const node of cluster.nodes) {
      // Over TLS with the shared ca.pem, with the shared admin client's token from the first node.
      const listed = await armRequest(node, 'GET', `/subscriptions/${node.subscriptionId}/resourcegroups`, { token });
      expect(listed.status, listed.text).toBe(200);
      await managementClients(node).resources.resourceGroups.createOrUpdate(`rg-${node.arm.split(':').at(-1)}`, { location: 'eastus' });
    }
    for (const node of others) expect(node.subscriptionId).toBe(first!.subscriptionId);
  });

  test('of two nodes first started together with different master keys on an empty database, one serves and the other refuses, saying why', async () => {
    const database = await createTestDatabase('mlspace_nodes');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-nodes-'));
    const outcomes = await Promise.allSettled(
      [0, 1].map((index) =>
        startTestServer({
          dataDir,
          endpointsFile: path.join(dataDir, `endpoints-${index}.json`),
          args: ['--database', database.url],
          env: { MLSPACE_MASTER_KEY: randomBytes(32).toString('base64') },
        }),
      ),
    );
    try {
      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
      expect(String(refused.reason)).toMatch(/master key from MLSPACE_MASTER_KEY is not the one this deployment's secrets were sealed with/);
    } finally {
      for (const outcome of outcomes) if (outcome.status === 'fulfilled') await outcome.value.stop('SIGKILL');
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * A node alone answers Get Blob's lookups from memory (cacheWhileAlone); it
 * must stop before any other node serves, whether that node has just started
 * or wakes from a stop past its lease.
 */
describe('a node alone, and a second node that starts or wakes', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  const containerOn = (node: TestServer) =>
    new BlobServiceClient(`${node.blob}/${DEV_ACCOUNT}`, new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY), { retryOptions: { maxTries: 1 } }).getContainerClient('alone');
  const blobOn = (node: TestServer) => containerOn(node).getBlockBlobClient('x.txt');
  const read = async (node: TestServer) => (await blobOn(node).downloadToBuffer()).toString();
  beforeAll(async () => {
    cluster = await startCluster(1, { leaseSeconds: LEASE_SECONDS });
  });
  afterAll(() => cluster?.close());

  test('what the other node writes is what the first node reads next', async () => {
    const first = cluster.nodes[0]!;
    await containerOn(first).create();
    await blobOn(first).upload('v1', 2);
    for (let i = 0; i < 20; i++) expect(await read(first)).toBe('v1');

    const second = await cluster.start(1);
    await blobOn(second).upload('v2', 2);
    expect(await read(first)).toBe('v2');

    // Stopped past its lease, the second node is gone as far as the first knows: alone again, it reads from memory.
    second.process.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 1000));
    for (let i = 0; i < 20; i++) expect(await read(first)).toBe('v2');
    second.process.kill('SIGCONT');
    // Its first signed requests may be 503 ServerBusy, until it has caught up and the first node has stopped being alone.
    await expect.poll(() => blobOn(second).upload('v3', 2).then(() => 'written', (error: { statusCode?: number }) => String(error.statusCode)), { timeout: 15_000 }).toBe('written');
    expect(await read(first)).toBe('v3');
  });
});

/** A node of this host killed with kill -9: its process is gone, so nobody waits for its lease to run out. */
describe('a node killed and started again, with a long lease', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(2, { leaseSeconds: 30 });
  });
  afterAll(() => cluster?.close());

  test('starts again, and a key regenerated meanwhile returns, well within the dead node lease', async () => {
    await cluster.nodes[1]!.stop('SIGKILL');
    const started = performance.now();
    const again = await cluster.start(1);
    const { storage, resources } = managementClients(again);
    await resources.resourceGroups.createOrUpdate('rg-restart', { location: 'eastus' });
    await storage.storageAccounts.beginCreateAndWait('rg-restart', 'restartacct', { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    await storage.storageAccounts.regenerateKey('rg-restart', 'restartacct', { keyName: 'key1' });
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});

describe('jobs on two nodes', { timeout: 120_000 }, () => {
  let cluster: TestCluster;
  const sleeping = (marker: string) => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.trim() === `sleep ${marker}`);
  const statusOf = async (through: TestServer, name: string) => (await managementClients(through).ml.jobs.get('rg-jobs-nodes', 'jobsws', name)).properties.status;
  const create = (through: TestServer, name: string, marker: string) =>
    managementClients(through).ml.jobs.createOrUpdate('rg-jobs-nodes', 'jobsws', name, { properties: { jobType: 'Command', command: `sleep ${marker}`, environmentId: 'azureml:x:1' } as never });

  beforeAll(async () => {
    cluster = await startCluster(2, { leaseSeconds: 1, args: ['--enable-local-jobs'] });
    const { resources, storage, ml } = managementClients(cluster.nodes[0]!);
    await resources.resourceGroups.createOrUpdate('rg-jobs-nodes', { location: 'eastus' });
    const account = await storage.storageAccounts.beginCreateAndWait('rg-jobs-nodes', 'jobsnodesacct', { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    await ml.workspaces.beginCreateOrUpdateAndWait('rg-jobs-nodes', 'jobsws', { location: 'eastus', storageAccount: account.id });
  });
  afterAll(() => cluster?.close());

  test('a cancel asked of another node stops the job where it runs', async () => {
    const [first, second] = cluster.nodes as [TestServer, TestServer];
    await create(first, 'remote-cancel', '44.25');
    await expect.poll(() => sleeping('44.25').length, { timeout: 20_000 }).toBe(1);
    await managementClients(second).ml.jobs.beginCancelAndWait('rg-jobs-nodes', 'jobsws', 'remote-cancel', { updateIntervalInMs: 200 });
    expect(await statusOf(second, 'remote-cancel')).toBe('Canceled');
    await expect.poll(() => sleeping('44.25').length, { timeout: 10_000 }).toBe(0);
  });

  test('a job whose node is killed is failed by another, and what it left running is stopped', async () => {
    const [first, second] = cluster.nodes as [TestServer, TestServer];
    await create(first, 'node-lost', '44.75');
    await expect.poll(() => sleeping('44.75').length, { timeout: 20_000 }).toBe(1);
    await first.stop('SIGKILL');
    await expect.poll(() => statusOf(second, 'node-lost'), { timeout: 20_000 }).toBe('Failed');
    await expect.poll(() => sleeping('44.75').length, { timeout: 10_000 }).toBe(0);
  });
});
