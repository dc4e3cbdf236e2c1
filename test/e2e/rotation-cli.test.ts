import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliIn, type CliResult } from '../helpers/cli.js';
import { adminSecret, managementClients } from '../helpers/management.js';
import { heldCredential, writeAndList } from '../helpers/rotation.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-cli-rot';
const ACCOUNT = 'clirotacct';

function ok(result: CliResult): CliResult {
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** `mlspace storage account keys consumers|rotate` and `mlspace monitor activity-log list`, as a user runs them. */
describe('the CLI for consumers, rotation and the activity log', { timeout: 120_000 }, () => {
  let home: string;
  let server: TestServer;
  let cli: ReturnType<typeof cliIn>;
  let key1: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-rotcli-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    cli = cliIn(home);
    ok(await cli('login', '-o', 'none'));
    const { resources, storage, ml } = managementClients(server);
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'eastus' });
    const account = await storage.storageAccounts.beginCreateAndWait(GROUP, ACCOUNT, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    key1 = (await storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys![0]!.value!;
    await new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key1)).createContainer('data');
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, 'cli-ws', { location: 'eastus', storageAccount: account.id });
    await ml.datastores.createOrUpdate(GROUP, 'cli-ws', 'data', {
      properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: 'data', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: key1 } } },
    });
  });
  afterAll(async () => {
    await server?.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  test('keys consumers: a table of holders, the whole answer as JSON, and --query over it', async () => {
    const table = ok(await cli('storage', 'account', 'keys', 'consumers', '-g', GROUP, '-n', ACCOUNT, '-o', 'table')).stdout;
    expect(table.split('\n')[0]).toMatch(/^Kind\s+ResourceGroup\s+Workspace\s+Datastore\s+Credential\s+Matches\s+SasExpiry/);
    expect(table).toMatch(/datastore\s+rg-cli-rot\s+cli-ws\s+data\s+AccountKey\s+key1/);
    const json = JSON.parse(ok(await cli('storage', 'account', 'keys', 'consumers', '-g', GROUP, '-n', ACCOUNT)).stdout);
    expect(json).toMatchObject({ activeKey: 'key1', counts: { consumers: 5, key1: 5 } });
    expect(ok(await cli('storage', 'account', 'keys', 'consumers', '-g', GROUP, '-n', ACCOUNT, '--query', 'activeKey', '-o', 'tsv')).stdout).toBe('key1\n');
    expect(table + JSON.stringify(json)).not.toContain(key1);
  });

  test('keys rotate: a dry run, then the rotation, after which every consumer still works', async () => {
    const plan = JSON.parse(ok(await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '-n', ACCOUNT, '--dry-run')).stdout);
    expect(plan).toMatchObject({ dryRun: true, retiredKey: 'key1', keptKey: 'key2', counts: { moveKey: 5 } });
    const status = JSON.parse(ok(await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '-n', ACCOUNT)).stdout);
    expect(status).toMatchObject({ status: 'Succeeded', properties: { plan: { retiredKey: 'key1' }, counts: { verified: 5 } } });
    const held = await heldCredential(server, adminSecret(server), GROUP, 'cli-ws', 'data');
    await writeAndList(server, ACCOUNT, 'data', held);
    await expect(writeAndList(server, ACCOUNT, 'data', { credentialsType: 'AccountKey', secret: key1 })).rejects.toMatchObject({ statusCode: 403 });

    const table = ok(await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '-n', ACCOUNT, '--key', 'secondary', '-o', 'table')).stdout;
    expect(table).toMatch(/Succeeded\s+key2\s+key1\s+5\s+0/);
  });

  test('keys rotate: a rollback is a one-line error and exit code 1; bad usage is exit code 2', async () => {
    const { ml } = managementClients(server);
    const current = await heldCredential(server, adminSecret(server), GROUP, 'cli-ws', 'data');
    const service = new BlobServiceClient(`${server.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, current.secret));
    await service.createContainer('doomed');
    await ml.datastores.createOrUpdate(GROUP, 'cli-ws', 'doomed', {
      properties: { datastoreType: 'AzureBlob', accountName: ACCOUNT, containerName: 'doomed', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: current.secret } } },
    });
    await service.deleteContainer('doomed');
    const failed = await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '-n', ACCOUNT);
    expect([failed.code, failed.stdout]).toEqual([1, '']);
    expect(failed.stderr).toMatch(/^ERROR: Key rotation [0-9a-f-]{36} failed and every consumer was restored: \(ConsumerVerificationFailed\) .*doomed.*\n$/);
    await ml.datastores.delete(GROUP, 'cli-ws', 'doomed');

    const usage = await cli('storage', 'account', 'keys', 'rotate', '-n', ACCOUNT);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining("'-g, --resource-group <name>' not specified")]);
    const bulkWithKey = await cli('storage', 'account', 'keys', 'rotate', '--if-older-than', '0d', '--key', 'primary');
    expect(bulkWithKey.code).toBe(2);
    const badAge = await cli('storage', 'account', 'keys', 'rotate', '--if-older-than', 'three months');
    expect([badAge.code, badAge.stderr]).toEqual([2, expect.stringContaining('such as 90d')]);
  });

  test('keys rotate --if-older-than: every old-enough account of the group, one row each', async () => {
    const table = ok(await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '--if-older-than', '0d', '-o', 'table')).stdout;
    expect(table).toMatch(new RegExp(`${ACCOUNT}\\s+${GROUP}\\s+key1\\s+\\S+\\s+started\\s+Succeeded`));
    const young = JSON.parse(ok(await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '--if-older-than', '30')).stdout);
    expect(young).toEqual([expect.objectContaining({ accountName: ACCOUNT, action: 'skipped' })]);
  });

  test('monitor activity-log list: rotations and key operations, filtered as az filters them', async () => {
    const table = ok(await cli('monitor', 'activity-log', 'list', '-g', GROUP, '-o', 'table')).stdout;
    expect(table.split('\n')[0]).toMatch(/^EventTimestamp\s+Operation\s+Status\s+Caller\s+ResourceGroup\s+Resource/);
    expect(table).toMatch(/Rotate Storage Account Keys\s+Succeeded\s+mlspace-admin\s+rg-cli-rot\s+clirotacct/);
    const failed = JSON.parse(ok(await cli('monitor', 'activity-log', 'list', '-g', GROUP, '--status', 'Failed', '--namespace', 'Microsoft.Storage')).stdout);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((event: any) => event.status.value === 'Failed' && event.operationName.value.startsWith('Microsoft.Storage/'))).toBe(true);
    const rotation = failed.find((event: any) => event.properties.rolledBack === 'true');
    const events = JSON.parse(ok(await cli('monitor', 'activity-log', 'list', '--correlation-id', rotation.correlationId, '--query', '[].status.value')).stdout);
    expect(events).toEqual(['Failed', 'Accepted']);
    expect(JSON.parse(ok(await cli('monitor', 'activity-log', 'list', '--max-events', '2')).stdout)).toHaveLength(2);
    const future = ok(await cli('monitor', 'activity-log', 'list', '--start-time', '2999-01-01T00:00:00Z', '--end-time', '2999-01-02T00:00:00Z')).stdout;
    expect(JSON.parse(future)).toEqual([]);
    const bad = await cli('monitor', 'activity-log', 'list', '--offset', 'a week');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--offset must be a number and a unit')]);
  });
});
