import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileSharedKeyCredential } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminSecret, armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { accountPath, heldCredential, latestRotation, waitForRotation, writeAndList, writeAndListFiles } from '../helpers/rotation.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-crash';
const OTHER_GROUP = 'rg-crash-other';
const ACCOUNT = 'crashacct';

/** The journal points, in the order a rotation passes them; each is where a kill -9 lands once. */
const FORWARD = ['plan.done', 'move.started', 'move.done', 'verify-moved.started', 'verify-moved.done', 'regenerate.started', 'regenerate.done', 'verify-final.started', 'verify-final.done'];
const ROLLBACK = ['rollback.started', 'rollback.done', 'verify-restored.started', 'verify-restored.done'];

/** Consumers of the account and where each one's client reads and writes. */
const CONSUMERS = [
  { group: GROUP, workspace: 'crash-ws', blob: 'data' },
  { group: OTHER_GROUP, workspace: 'crash-ws-other', blob: 'data' },
  { group: GROUP, workspace: 'crash-ws', datastore: 'data-key', blob: 'data' },
  { group: OTHER_GROUP, workspace: 'crash-ws-other', datastore: 'data-sas', blob: 'data' },
  { group: GROUP, workspace: 'crash-ws', datastore: 'files-key', share: 'files' },
];

async function waitForExit(server: TestServer, timeoutMs = 20_000): Promise<NodeJS.Signals | null> {
  const deadline = Date.now() + timeoutMs;
  while (server.process.exitCode === null && server.process.signalCode === null) {
    if (Date.now() > deadline) throw new Error(`the server did not exit:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return server.process.signalCode;
}

/**
 * kill -9 at each journaled point of a rotation, then a plain restart: the
 * restarted server finishes the rotation (or, on the rollback path, the
 * rollback) by itself, and every consumer works with what it holds.
 */
describe('a rotation killed at any journaled step', { timeout: 180_000 }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-crash-'));
  let server: TestServer | undefined;

  const start = async (crashAt?: string) => {
    server = await startTestServer({ dataDir, env: crashAt ? { MLSPACE_FAULT_CRASH_AT: crashAt } : {} });
    return server;
  };

  async function keys(running: TestServer): Promise<string[]> {
    return (await managementClients(running).storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys!.map((key) => key.value!);
  }

  async function assertConsumersWork(running: TestServer): Promise<void> {
    for (const consumer of CONSUMERS) {
      const held = await heldCredential(running, adminSecret(running), consumer.group, consumer.workspace, consumer.datastore);
      const request = consumer.share ? writeAndListFiles(running, ACCOUNT, consumer.share, held) : writeAndList(running, ACCOUNT, consumer.blob!, held);
      await expect(request, `${consumer.workspace}/${consumer.datastore ?? '(workspace key)'}`).resolves.toBeUndefined();
    }
  }

  /** Starts a rotation on a server armed to die at `point`, and waits for it to die there; the keys before it. */
  async function rotateAndCrash(point: string): Promise<string[]> {
    const doomed = await start(point);
    const token = await tokenFor(doomed);
    const before = await keys(doomed);
    // At plan.done the server dies before it can answer: the client sees the connection drop.
    const answer = await armRequest(doomed, 'POST', `${accountPath(doomed, GROUP, ACCOUNT)}/rotateKeys`, { token, body: { reissueSas: true } }).catch((error: Error) => error);
    if (!(answer instanceof Error)) expect(answer.status, answer.text).toBe(202);
    expect(await waitForExit(doomed)).toBe('SIGKILL');
    return before;
  }

  /** Restarts without the fault and waits for the interrupted rotation to end by itself. */
  async function restartAndSettle(): Promise<{ running: TestServer; rotation: any }> {
    const running = await start();
    const token = await tokenFor(running);
    const latest = await latestRotation(running, token, GROUP, ACCOUNT);
    const rotation = await waitForRotation(running, token, `${running.arm}${latest.id}?api-version=2023-01-01`);
    expect(rotation.properties.attempts).toBe(2);
    expect(rotation.properties.steps.map((step: any) => step.name)).toContain('restart');
    return { running, rotation };
  }

  beforeAll(async () => {
    const running = await start();
    const { resources, storage, ml } = managementClients(running);
    for (const group of [GROUP, OTHER_GROUP]) await resources.resourceGroups.createOrUpdate(group, { location: 'eastus' });
    const account = await storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    const [key1] = await keys(running);
    const service = new BlobServiceClient(`${running.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key1!));
    for (const container of ['data', 'doomed']) await service.createContainer(container);
    await new ShareServiceClient(`${running.file}/${ACCOUNT}`, new FileSharedKeyCredential(ACCOUNT, key1!)).createShare('files');
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, 'crash-ws', { location: 'eastus', storageAccount: account.id });
    await ml.workspaces.beginCreateOrUpdateAndWait(OTHER_GROUP, 'crash-ws-other', { location: 'eastus', storageAccount: account.id });
    const credentials = (key: string) => ({ credentialsType: 'AccountKey' as const, secrets: { secretsType: 'AccountKey' as const, key } });
    await ml.datastores.createOrUpdate(GROUP, 'crash-ws', 'data-key', { properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: 'data', credentials: credentials(key1!) } });
    await ml.datastores.createOrUpdate(GROUP, 'crash-ws', 'files-key', {
      properties: { datastoreType: 'AzureFile', accountName: ACCOUNT, fileShareName: 'files', credentials: credentials(key1!) } as never,
    });
    const sasToken = (await storage.storageAccounts.listServiceSAS(GROUP, ACCOUNT, {
      canonicalizedResource: `/blob/${ACCOUNT}/data`,
      resource: 'c',
      permissions: 'rwl',
      sharedAccessExpiryTime: new Date(Date.now() + 86_400_000),
      keyToSign: 'key1',
    })).serviceSasToken!;
    await ml.datastores.createOrUpdate(OTHER_GROUP, 'crash-ws-other', 'data-sas', {
      properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: 'data', credentials: { credentialsType: 'Sas', secrets: { secretsType: 'Sas', sasToken } } },
    });
    await assertConsumersWork(running);
    await running.stop();
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  for (const point of FORWARD) {
    test(`killed at ${point}: the restart completes the rotation and every consumer works`, async () => {
      const before = await rotateAndCrash(point);
      const { running, rotation } = await restartAndSettle();
      expect(rotation.status, JSON.stringify(rotation.error)).toBe('Succeeded');
      const retired = rotation.properties.plan.retiredKey === 'key1' ? 0 : 1;
      const after = await keys(running);
      expect(after[1 - retired]).toBe(before[1 - retired]);
      expect(after[retired]).not.toBe(before[retired]);
      await assertConsumersWork(running);
      await expect(writeAndList(running, ACCOUNT, 'data', { credentialsType: 'AccountKey', secret: before[retired]! })).rejects.toMatchObject({ statusCode: 403 });
      await running.stop();
    });
  }

  test('a rotation that kills the server every time it resumes is rolled back on the third restart, not resumed forever', async () => {
    const before = await rotateAndCrash('move.started');
    for (let restart = 1; restart <= 2; restart++) {
      // Still armed: the resumed rotation dies at the same point again.
      expect(await waitForExit(await start('move.started'))).toBe('SIGKILL');
    }
    const running = await start('move.started');
    const token = await tokenFor(running);
    const latest = await latestRotation(running, token, GROUP, ACCOUNT);
    const rotation = await waitForRotation(running, token, `${running.arm}${latest.id}?api-version=2023-01-01`);
    expect(rotation).toMatchObject({ status: 'Failed', error: { code: 'RotationInterrupted' }, properties: { attempts: 4 } });
    expect(await keys(running)).toEqual(before);
    await assertConsumersWork(running);
    await running.stop();
  });

  describe('on the rollback path (a datastore whose container was deleted)', () => {
    beforeAll(async () => {
      const running = await start();
      const { ml } = managementClients(running);
      const held = await heldCredential(running, adminSecret(running), GROUP, 'crash-ws', 'data-key');
      await ml.datastores.createOrUpdate(GROUP, 'crash-ws', 'doomed', {
        properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: 'doomed', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: held.secret } } },
      });
      await new BlobServiceClient(`${running.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, held.secret)).deleteContainer('doomed');
      await running.stop();
    });

    for (const point of ROLLBACK) {
      test(`killed at ${point}: the restart finishes the rollback, no key is regenerated, every consumer works`, async () => {
        const before = await rotateAndCrash(point);
        const { running, rotation } = await restartAndSettle();
        expect(rotation).toMatchObject({ status: 'Failed', error: { code: 'ConsumerVerificationFailed' } });
        expect(rotation.properties.steps.map((step: any) => step.name)).not.toContain('regenerate');
        expect(await keys(running)).toEqual(before);
        await assertConsumersWork(running);
        await running.stop();
      });
    }
  });
});
