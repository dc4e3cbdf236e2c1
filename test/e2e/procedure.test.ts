import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CredentialRefusedError, Datastore, Model, Workspace } from '../../src/index.js';
import { cliIn, type CliResult } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RG = 'myresourcegroup';
const WS = 'myworkspace';
const ACCOUNT = 'mystorageaccount';

/** A command's result must be success; its stderr says why when it is not. */
function ok(result: CliResult): CliResult {
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** A failure is one line on stderr, `ERROR: ...`, with no stack trace, and nothing on stdout. */
function oneLineError(result: CliResult): string {
  expect(result.code).not.toBe(0);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ERROR: /);
  return lines[0]!;
}

/**
 * The documented procedure, "Regenerate storage account access keys", on a
 * fresh server: az replaced by the mlspace CLI (run as a separate process, as
 * a user runs it) and the Python by the SDK. Each step's outcome is asserted.
 */
describe('the documented key regeneration procedure, with the CLI and the SDK', { timeout: 120_000 }, () => {
  let home: string;
  let server: TestServer;
  let cli: ReturnType<typeof cliIn>;
  let work: string;
  let ws: Workspace;
  /** Every CLI output that was not asked to show a key, to check no key leaked into it. */
  const quietOutput: string[] = [];
  const keys: string[] = [];

  const quiet = async (...args: string[]) => {
    const result = await cli(...args);
    quietOutput.push(result.stdout, result.stderr);
    return result;
  };
  const accountKeys = async () => {
    const listed = JSON.parse(ok(await cli('storage', 'account', 'keys', 'list', '-g', RG, '-n', ACCOUNT)).stdout) as { keyName: string; value: string }[];
    keys.push(...listed.map((key) => key.value));
    return Object.fromEntries(listed.map((key) => [key.keyName, key.value]));
  };
  const datastoreYaml = (file: string, type: 'azure_blob' | 'azure_file', name: string, container: string, key: string) => {
    const field = type === 'azure_blob' ? 'container_name' : 'file_share_name';
    fs.writeFileSync(path.join(work, file), `type: ${type}\nname: ${name}\naccount_name: ${ACCOUNT}\n${field}: ${container}\ndescription: ${name}\ncredentials:\n  account_key: ${key}\n`);
    return path.join(work, file);
  };
  const modelCreate = (version: string) => quiet('ml', 'model', 'create', '--name', 'classifier', '--version', version, '--path', path.join(work, 'model'), '-w', WS, '-g', RG);
  const userDatastores = async () => {
    const all = await ws.datastores();
    return { blob: all.get('trainingdata')!, file: all.get('shareddata')! };
  };
  const upload = (datastore: Datastore) => datastore.upload(path.join(work, 'data'), 'incoming', { overwrite: true });

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-procedure-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-procedure-work-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    cli = cliIn(home);
    fs.mkdirSync(path.join(work, 'model', 'weights'), { recursive: true });
    fs.writeFileSync(path.join(work, 'model', 'MLmodel'), 'flavor: custom\n');
    fs.writeFileSync(path.join(work, 'model', 'weights', 'model.bin'), Buffer.alloc(300_000, 7));
    fs.mkdirSync(path.join(work, 'data'));
    fs.writeFileSync(path.join(work, 'data', 'rows.csv'), 'a,b\n1,2\n');
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of [home, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('mlspace login signs in to the local server with no CA setup, and keeps the secret in a 0600 file', async () => {
    const [account] = JSON.parse(ok(await quiet('login')).stdout);
    expect(account).toMatchObject({ id: server.subscriptionId, tenantId: server.tenantId, user: { type: 'servicePrincipal' } });
    expect(fs.statSync(path.join(home, 'config', 'client-secret')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(home, 'config')).mode & 0o777).toBe(0o700);
  });

  test('set-up: a group, an account, a workspace on it, a user blob and a user file datastore on the account, a model', async () => {
    expect(JSON.parse(ok(await quiet('group', 'create', '-n', RG, '-l', 'eastus')).stdout)).toMatchObject({ name: RG, location: 'eastus' });
    const account = JSON.parse(ok(await quiet('storage', 'account', 'create', '-n', ACCOUNT, '-g', RG, '--sku', 'Standard_LRS')).stdout);
    expect(account).toMatchObject({ name: ACCOUNT, resourceGroup: RG, location: 'eastus', provisioningState: 'Succeeded', primaryEndpoints: { file: `${server.file}/${ACCOUNT}/` } });
    const workspace = JSON.parse(ok(await quiet('ml', 'workspace', 'create', '-w', WS, '-g', RG, '--storage-account', ACCOUNT)).stdout);
    expect(workspace).toMatchObject({ name: WS, resource_group: RG, storage_account: account.id });

    expect(JSON.parse(ok(await quiet('storage', 'container', 'create', '-n', 'training', '--account-name', ACCOUNT)).stdout)).toEqual({ created: true });
    expect(JSON.parse(ok(await quiet('storage', 'share', 'create', '-n', 'shared', '--account-name', ACCOUNT)).stdout)).toEqual({ created: true });
    const { key1 } = await accountKeys();
    const blob = JSON.parse(ok(await quiet('ml', 'datastore', 'create', '--file', datastoreYaml('trainingdata.yml', 'azure_blob', 'trainingdata', 'training', key1!), '-w', WS, '-g', RG)).stdout);
    expect(blob).toMatchObject({ name: 'trainingdata', type: 'azure_blob', account_name: ACCOUNT, container_name: 'training', credentials: {}, credentials_type: 'AccountKey' });
    const file = JSON.parse(ok(await quiet('ml', 'datastore', 'create', '--file', datastoreYaml('shareddata.yml', 'azure_file', 'shareddata', 'shared', key1!), '-w', WS, '-g', RG)).stdout);
    expect(file).toMatchObject({ name: 'shareddata', type: 'azure_file', account_name: ACCOUNT, file_share_name: 'shared' });

    expect(JSON.parse(ok(await modelCreate('1')).stdout)).toMatchObject({ name: 'classifier', version: '1', path: 'azureml://datastores/workspaceblobstore/paths/models/classifier/1/' });

    ws = await Workspace.get(WS, { resourceGroup: RG, mlspaceHome: home });
    const { blob: blobStore, file: fileStore } = await userDatastores();
    expect((await upload(blobStore)).files).toEqual(['incoming/rows.csv']);
    expect((await upload(fileStore)).files).toEqual(['incoming/rows.csv']);
  });

  test("what needs to be updated: the SDK lists the datastores on the account with name, account and container", async () => {
    const onAccount = [...(await ws.datastores()).values()].filter((ds) => ds.accountName === ACCOUNT);
    expect(onAccount.map((ds) => [ds.name, ds.datastoreType, ds.containerName]).sort()).toEqual([
      ['shareddata', 'AzureFile', 'shared'],
      ['trainingdata', 'AzureBlob', 'training'],
      ['workspaceartifactstore', 'AzureBlob', 'azureml'],
      ['workspaceblobstore', 'AzureBlob', expect.stringMatching(/^azureml-blobstore-/)],
      ['workspacefilestore', 'AzureFile', expect.stringMatching(/^azureml-filestore-/)],
    ]);
    const defaultDs = await ws.getDefaultDatastore();
    expect([defaultDs.name, defaultDs.accountName, defaultDs.isDefault]).toEqual(['workspaceblobstore', ACCOUNT, true]);
    expect((await userDatastores()).file.fileShareName).toBe('shared');
  });

  describe('after keys renew --key primary', () => {
    let before: Record<string, string>;
    let after: Record<string, string>;

    beforeAll(async () => {
      before = await accountKeys();
      const renewed = await cli('storage', 'account', 'keys', 'renew', '-g', RG, '-n', ACCOUNT, '--key', 'primary');
      ok(renewed);
      expect(renewed.stderr).toContain("Renewed the primary key (key1) of storage account 'mystorageaccount'; the secondary key (key2) is unchanged.");
      after = await accountKeys();
    });

    test('only key1 was renewed', () => {
      expect(after.key1).not.toBe(before.key1);
      expect(after.key2).toBe(before.key2);
    });

    test('a model upload fails, naming the workspace, the account, the regeneration and sync-keys', async () => {
      const error = oneLineError(await modelCreate('2'));
      expect(error).toContain(`Storage account '${ACCOUNT}' refused the key workspace '${WS}' (resource group '${RG}') holds`);
      expect(error).toMatch(/no longer key1 or key2 of the account \(key1 was regenerated at \d{4}-\d\d-\d\dT[\d:.]+Z\)/);
      expect(error).toContain(`mlspace ml workspace sync-keys -w ${WS} -g ${RG}`);
    });

    test('both user datastores fail, naming the datastore, the account and re-registration', async () => {
      const { blob, file } = await userDatastores();
      for (const datastore of [blob, file]) {
        const failure = await upload(datastore).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(failure, datastore.name).toBeInstanceOf(CredentialRefusedError);
        const refused = failure as CredentialRefusedError;
        expect([refused.code, refused.verdict, refused.accountName, refused.holder.datastore?.name]).toEqual(['StaleCredential', 'stale', ACCOUNT, datastore.name]);
        expect(refused.message).toContain(`refused the key held by datastore '${datastore.name}' of workspace '${WS}'`);
        expect(refused.message).toContain('mlspace ml datastore create --file <datastore.yml>');
        expect(refused.message).toContain(datastore.datastoreType === 'AzureFile' ? 'Datastore.registerAzureFileShare' : 'Datastore.registerAzureBlobContainer');
      }
    });

    describe('after sync-keys', () => {
      beforeAll(async () => {
        // As the documents write it (-w), after signing in again.
        ok(await quiet('login'));
        ok(await quiet('ml', 'workspace', 'sync-keys', '-w', WS, '-g', RG));
      });

      test('model uploads work again; -n works as well as -w', async () => {
        expect(JSON.parse(ok(await modelCreate('2')).stdout)).toMatchObject({ version: '2' });
        ok(await quiet('ml', 'workspace', 'sync-keys', '-n', WS, '-g', RG));
        expect(JSON.parse(ok(await quiet('ml', 'model', 'list', '-w', WS, '-g', RG)).stdout)).toEqual([expect.objectContaining({ name: 'classifier', latest_version: '2' })]);
      });

      test('the workspace datastores were renewed too, the user datastores still fail', async () => {
        expect((await (await ws.getDefaultDatastore()).listFiles('models/classifier/')).length).toBe(4);
        const { blob, file } = await userDatastores();
        await expect(upload(blob)).rejects.toMatchObject({ code: 'StaleCredential', accountName: ACCOUNT });
        await expect(upload(file)).rejects.toMatchObject({ code: 'StaleCredential', accountName: ACCOUNT });
      });

      describe('after re-registering both datastores with the new key and overwrite', () => {
        beforeAll(async () => {
          // The blob datastore as the documents do it (the SDK with overwrite), the file datastore as az ml does (its YAML again).
          await Datastore.registerAzureBlobContainer({ workspace: ws, datastoreName: 'trainingdata', containerName: 'training', accountName: ACCOUNT, accountKey: after.key1!, overwrite: true });
          ok(await quiet('ml', 'datastore', 'create', '--file', datastoreYaml('shareddata.yml', 'azure_file', 'shareddata', 'shared', after.key1!), '-w', WS, '-g', RG));
        });

        test('both datastores work, and what was written before the renewal is still there', async () => {
          const { blob, file } = await userDatastores();
          for (const datastore of [blob, file]) {
            expect((await upload(datastore)).files, datastore.name).toEqual(['incoming/rows.csv']);
            const target = fs.mkdtempSync(path.join(work, `download-${datastore.name}-`));
            expect((await datastore.download(target, { prefix: 'incoming/' })).files).toEqual([path.join(target, 'incoming', 'rows.csv')]);
            expect(fs.readFileSync(path.join(target, 'incoming', 'rows.csv'), 'utf8')).toBe('a,b\n1,2\n');
          }
        });

        test('both model versions download intact, through the CLI and the SDK', async () => {
          const target = path.join(work, 'models');
          const downloaded = JSON.parse(ok(await quiet('ml', 'model', 'download', '--name', 'classifier', '--version', '1', '--download-path', target, '-w', WS, '-g', RG)).stdout);
          expect(downloaded.files.map((file: string) => path.relative(target, file)).sort()).toEqual([path.join('classifier', 'MLmodel'), path.join('classifier', 'weights', 'model.bin')]);
          expect(fs.readFileSync(path.join(target, 'classifier', 'weights', 'model.bin')).equals(Buffer.alloc(300_000, 7))).toBe(true);
          const latest = await Model.get(ws, 'classifier');
          expect(latest.version).toBe('2');
          const sdkTarget = path.join(work, 'models-sdk');
          expect((await latest.download(sdkTarget)).bytes).toBe(300_000 + 'flavor: custom\n'.length);
        });

        test('no key reached the output of a command that was not asked for one', () => {
          const output = quietOutput.join('\n');
          expect(keys.length).toBeGreaterThanOrEqual(4);
          for (const key of keys) expect(output).not.toContain(key);
        });
      });
    });
  });
});
