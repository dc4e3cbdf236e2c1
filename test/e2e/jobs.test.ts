import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandJob } from '@azure/arm-machinelearning';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn, type CliResult } from '../helpers/cli.js';
import { armRequest, managementClients, tokenFor } from '../helpers/management.js';
import { accountPath } from '../helpers/rotation.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GROUP = 'rg-jobs';
const WS_ACCOUNT = 'jobwsacct';
const DATA_ACCOUNT = 'jobdataacct';
const WORKSPACE = 'jobws';

/** What the job's script prints: stdout first, then (a moment later, so the order is sure) stderr. */
const EXPECTED_LOG = 'reading 2 files\nto stderr\n';
const TRAIN_SH = `set -e
echo "reading $(ls "$1" | wc -l | tr -d ' ') files"
cat "$1"/a.txt "$1"/sub/b.txt > "$2/combined.txt"
sleep 0.2
echo "to stderr" >&2
`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('command jobs run on the host, through the real credentials', { timeout: 180_000 }, () => {
  let server: TestServer;
  let home: string;
  let work: string;
  let cli: (...args: string[]) => Promise<CliResult>;
  const ws = ['-w', WORKSPACE, '-g', GROUP];

  const keyOf = async (account: string, index = 0) => (await managementClients(server).storage.storageAccounts.listKeys(GROUP, account)).keys![index]!.value!;
  const blobs = async (account: string) => new BlobServiceClient(`${server.blob}/${account}`, new StorageSharedKeyCredential(account, await keyOf(account)));
  const jobOf = (name: string) => managementClients(server).ml.jobs.get(GROUP, WORKSPACE, name);
  const ended = (name: string) =>
    until(`job ${name} to end`, async () => {
      const job = await jobOf(name);
      return ['Completed', 'Failed', 'Canceled'].includes(job.properties.status!) ? job : undefined;
    });
  const show = async (name: string) => JSON.parse((await cli('ml', 'job', 'show', '-n', name, ...ws)).stdout) as { status: string; error?: { code: string; message: string }; notes: string[] };
  const writeDatastoreYaml = (key: string) => {
    const file = path.join(work, 'datastore.yml');
    fs.writeFileSync(file, `type: azure_blob\nname: trainingdata\naccount_name: ${DATA_ACCOUNT}\ncontainer_name: training\ncredentials:\n  account_key: ${key}\n`);
    return file;
  };
  const jobYaml = (name: string, extra = '') => {
    const file = path.join(work, `${name}.yml`);
    fs.writeFileSync(
      file,
      `$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
name: ${name}
command: sh train.sh \${{inputs.training}} \${{outputs.model}}
code: ./src
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:1
inputs:
  training:
    type: uri_folder
    path: azureml://datastores/trainingdata/paths/images/
outputs:
  model:
    type: uri_folder
${extra}`,
    );
    return file;
  };
  const runJob = async (name: string) => {
    const created = await cli('ml', 'job', 'create', '--file', jobYaml(name), ...ws, '-o', 'none');
    expect(created.code, created.stderr).toBe(0);
    return ended(name);
  };

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-jobs-'));
    work = path.join(home, 'work');
    fs.mkdirSync(path.join(work, 'src'), { recursive: true });
    fs.writeFileSync(path.join(work, 'src', 'train.sh'), TRAIN_SH);
    // A canary in the server's environment: no job may see it.
    server = await startTestServer({ dataDir: path.join(home, 'data'), args: ['--enable-local-jobs'], env: { MLSPACE_CANARY: 'server-only-canary' } });
    cli = cliIn(home);
    expect((await cli('login', '-o', 'none')).code).toBe(0);
    const { resources, storage, ml } = managementClients(server);
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'westeurope' });
    for (const account of [WS_ACCOUNT, DATA_ACCOUNT]) await storage.storageAccounts.beginCreateAndWait(GROUP, account, { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    const training = (await blobs(DATA_ACCOUNT)).getContainerClient('training');
    await training.create();
    await training.getBlockBlobClient('images/a.txt').uploadData(Buffer.from('alpha\n'));
    await training.getBlockBlobClient('images/sub/b.txt').uploadData(Buffer.from('beta\n'));
    const account = await storage.storageAccounts.getProperties(GROUP, WS_ACCOUNT);
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'westeurope', storageAccount: account.id });
    expect((await cli('ml', 'datastore', 'create', '--file', writeDatastoreYaml(await keyOf(DATA_ACCOUNT)), ...ws, '-o', 'none')).code).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('runs a job that reads a datastore folder and writes an output: its log and output are in the workspace storage, byte-exact', async () => {
    const streamed = await cli('ml', 'job', 'create', '--file', jobYaml('first'), '--stream', ...ws);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stdout).toContain(`RunId: first\n\nStreaming user_logs/std_log.txt\n`);
    expect(streamed.stdout).toContain(EXPECTED_LOG);
    expect(streamed.stdout).toContain('Status: Completed');

    const job = await jobOf('first');
    const properties = job.properties as CommandJob;
    expect(properties.status).toBe('Completed');
    expect(properties.codeId).toMatch(/\/codes\/[0-9a-f-]{36}\/versions\/1$/);
    expect(properties.outputs!.default).toMatchObject({ uri: 'azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.first' });
    const wsBlobs = await blobs(WS_ACCOUNT);
    const log = await wsBlobs.getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.first/user_logs/std_log.txt').downloadToBuffer();
    expect(log.toString()).toBe(EXPECTED_LOG);
    expect((await wsBlobs.getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.first/user_logs/std_log.txt').getProperties()).blobType).toBe('AppendBlob');
    const defaultContainer = (await managementClients(server).ml.datastores.get(GROUP, WORKSPACE, 'workspaceblobstore')).properties as { containerName: string };
    const output = await wsBlobs.getContainerClient(defaultContainer.containerName).getBlobClient('azureml/first/model/combined.txt').downloadToBuffer();
    expect(output.toString()).toBe('alpha\nbeta\n');

    const shown = await show('first');
    expect(shown.notes).toEqual(expect.arrayContaining([expect.stringMatching(/is recorded but not built/), expect.stringMatching(/Input 'training' asks for ReadOnlyMount; it is downloaded instead/)]));
    const into = path.join(home, 'download');
    expect((await cli('ml', 'job', 'download', '-n', 'first', '--all', '--download-path', into, ...ws, '-o', 'none')).code).toBe(0);
    expect(fs.readFileSync(path.join(into, 'artifacts', 'user_logs', 'std_log.txt'), 'utf8')).toBe(EXPECTED_LOG);
    expect(fs.readFileSync(path.join(into, 'named-outputs', 'model', 'combined.txt'), 'utf8')).toBe('alpha\nbeta\n');

    // One step from the job's output to a registered model, downloaded byte-exact.
    expect((await cli('ml', 'model', 'create', '--name', 'combined', '--path', 'azureml://jobs/first/outputs/model', ...ws, '-o', 'none')).code).toBe(0);
    expect((await cli('ml', 'model', 'download', '--name', 'combined', '--download-path', path.join(home, 'models'), ...ws, '-o', 'none')).code).toBe(0);
    expect(fs.readFileSync(path.join(home, 'models', 'combined', 'combined.txt'), 'utf8')).toBe('alpha\nbeta\n');
  });

  it('runs a job that reads a data asset by name and version', async () => {
    const dataYaml = path.join(work, 'data.yml');
    fs.writeFileSync(dataYaml, 'name: training-images\ntype: uri_folder\npath: azureml://datastores/trainingdata/paths/images/\n');
    expect((await cli('ml', 'data', 'create', '--file', dataYaml, ...ws, '-o', 'none')).code).toBe(0);
    const shown = JSON.parse((await cli('ml', 'data', 'show', '-n', 'training-images', ...ws)).stdout);
    expect(shown).toMatchObject({ name: 'training-images', version: '1', type: 'uri_folder', path: 'azureml://datastores/trainingdata/paths/images/' });
    const file = path.join(work, 'asset.yml');
    fs.writeFileSync(file, `name: fromasset\ncommand: ls \${{inputs.images}}\nenvironment: azureml:AzureML-minimal:1\ninputs:\n  images:\n    type: uri_folder\n    path: azureml:training-images:1\n    mode: download\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    expect((await ended('fromasset')).properties.status).toBe('Completed');
    const log = await (await blobs(WS_ACCOUNT)).getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.fromasset/user_logs/std_log.txt').downloadToBuffer();
    expect(log.toString()).toBe('a.txt\nsub\n');
    // Asked for download, it says nothing about mounts.
    expect((await show('fromasset')).notes.some((note) => note.includes("Input 'images'"))).toBe(false);

    expect((await cli('ml', 'data', 'archive', '-n', 'training-images', ...ws)).code).toBe(0);
    expect(JSON.parse((await cli('ml', 'data', 'list', ...ws)).stdout)).toEqual([]);
  });

  it("gives the command a scrubbed environment: Azure ML's variables and its own, nothing of the server's", async () => {
    const file = path.join(work, 'env.yml');
    fs.writeFileSync(file, `name: envcheck\ncommand: env | sort\nenvironment: azureml:AzureML-minimal:1\nenvironment_variables:\n  MY_SETTING: "42"\n  AZUREML_RUN_ID: spoofed\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    expect((await ended('envcheck')).properties.status).toBe('Completed');
    const log = (await (await blobs(WS_ACCOUNT)).getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.envcheck/user_logs/std_log.txt').downloadToBuffer()).toString();
    // The run id stays the job's own: it is how another node finds the job's processes after this one dies.
    expect(log).toContain('AZUREML_RUN_ID=envcheck\n');
    expect(log).toContain('MY_SETTING=42\n');
    expect(log).not.toContain('canary');
    expect(log).not.toMatch(/^MLSPACE_/m);
    // Exactly these names, and those sh adds itself.
    const names = log.split('\n').filter(Boolean).map((line) => line.split('=')[0]);
    expect(names.filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name!))).toEqual(
      ['AZUREML_ARM_RESOURCEGROUP', 'AZUREML_ARM_SUBSCRIPTION', 'AZUREML_ARM_WORKSPACE_NAME', 'AZUREML_EXPERIMENT_NAME', 'AZUREML_RUN_ID', 'HOME', 'LANG', 'MY_SETTING', 'PATH', 'TMPDIR'],
    );
  });

  it('reads a data asset whose path is an https URL of this server', async () => {
    const url = `${server.blobHttps}/${DATA_ACCOUNT}/training/images/a.txt`;
    const dataYaml = path.join(work, 'url-data.yml');
    fs.writeFileSync(dataYaml, `name: alpha\ntype: uri_file\npath: ${url}\n`);
    expect((await cli('ml', 'data', 'create', '--file', dataYaml, ...ws, '-o', 'none')).code).toBe(0);
    const file = path.join(work, 'url.yml');
    fs.writeFileSync(file, `name: fromurl\ncommand: cat \${{inputs.alpha}}\nenvironment: azureml:AzureML-minimal:1\ninputs:\n  alpha:\n    type: uri_file\n    path: azureml:alpha@latest\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    expect((await ended('fromurl')).properties.status).toBe('Completed');
    const log = await (await blobs(WS_ACCOUNT)).getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.fromurl/user_logs/std_log.txt').downloadToBuffer();
    expect(log.toString()).toBe('alpha\n');
    const elsewhere = path.join(work, 'elsewhere.yml');
    fs.writeFileSync(elsewhere, `name: elsewhere\ntype: uri_file\npath: ${server.blobHttps}/${DATA_ACCOUNT}/other/x.txt\n`);
    expect((await cli('ml', 'data', 'create', '--file', elsewhere, ...ws)).stderr).toContain("points into container 'other' of account 'jobdataacct', which no datastore of workspace 'jobws' reads");
  });

  it('runs a job the official client creates, with a literal input and an output', async () => {
    // @azure/arm-machinelearning 2.1.1 serializes asset inputs without their uri (its mappers lack them), so this job reads none.
    const { ml } = managementClients(server);
    await ml.jobs.createOrUpdate(GROUP, WORKSPACE, 'viaclient', {
      properties: {
        jobType: 'Command',
        command: 'echo "lr=${{inputs.lr}}" | tee ${{outputs.result}}/lr.txt',
        environmentId: 'azureml:AzureML-minimal:1',
        inputs: { lr: { jobInputType: 'literal', value: '0.01' } },
        outputs: { result: { jobOutputType: 'uri_folder' } },
      } as CommandJob,
    });
    expect((await ended('viaclient')).properties.status).toBe('Completed');
    const wsBlobs = await blobs(WS_ACCOUNT);
    expect((await wsBlobs.getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.viaclient/user_logs/std_log.txt').downloadToBuffer()).toString()).toBe('lr=0.01\n');
    const defaultContainer = ((await managementClients(server).ml.datastores.get(GROUP, WORKSPACE, 'workspaceblobstore')).properties as { containerName: string }).containerName;
    expect((await wsBlobs.getContainerClient(defaultContainer).getBlobClient('azureml/viaclient/result/lr.txt').downloadToBuffer()).toString()).toBe('lr=0.01\n');
  });

  it("reads a datastore without credentials with the workspace's identity, once that identity holds a data role", async () => {
    const { ml } = managementClients(server);
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'byidentity', {
      properties: { datastoreType: 'AzureBlob', accountName: DATA_ACCOUNT, containerName: 'training', credentials: { credentialsType: 'None' } } as never,
    });
    const file = path.join(work, 'identity.yml');
    const write = (name: string) =>
      fs.writeFileSync(file, `name: ${name}\ncommand: cat \${{inputs.images}}/a.txt\nenvironment: azureml:AzureML-minimal:1\ninputs:\n  images:\n    type: uri_folder\n    path: azureml://datastores/byidentity/paths/images/\n`);
    write('identity-refused');
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    await ended('identity-refused');
    const refused = await show('identity-refused');
    expect(refused.error!.message).toMatch(/refused the identity of workspace 'jobws' \(datastore 'byidentity' of workspace 'jobws' holds no credential\) access to 'training' \(403 AuthorizationPermissionMismatch\): give it a data role there/);

    const principalId = (await ml.workspaces.get(GROUP, WORKSPACE)).identity!.principalId!;
    const scope = `${accountPath(server, GROUP, DATA_ACCOUNT)}/blobServices/default/containers/training`;
    expect((await cli('role', 'assignment', 'create', '--assignee', principalId, '--role', 'Storage Blob Data Reader', '--scope', scope, '-o', 'none')).code).toBe(0);
    write('identity-granted');
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    expect((await ended('identity-granted')).properties.status).toBe('Completed');
    const log = await (await blobs(WS_ACCOUNT)).getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.identity-granted/user_logs/std_log.txt').downloadToBuffer();
    expect(log.toString()).toBe('alpha\n');
  });

  it("fails when the datastore's key was regenerated, naming the datastore and the fix; re-registered, it completes", async () => {
    await managementClients(server).storage.storageAccounts.regenerateKey(GROUP, DATA_ACCOUNT, { keyName: 'key1' });
    await runJob('stale-datastore');
    const failed = await show('stale-datastore');
    expect(failed.status).toBe('Failed');
    expect(failed.error!.message).toMatch(
      /^The job could not download input 'training': The key held by datastore 'trainingdata' of workspace 'jobws' is no longer key1 or key2 of storage account 'jobdataacct' \(key1 was regenerated at .*\)\. To fix it, re-register the datastore with a current one: mlspace ml datastore create/,
    );
    expect((await cli('ml', 'datastore', 'create', '--file', writeDatastoreYaml(await keyOf(DATA_ACCOUNT)), ...ws, '-o', 'none')).code).toBe(0);
    expect((await runJob('reregistered')).properties.status).toBe('Completed');
  });

  it("fails when the workspace's key copy is stale, naming sync-keys; after sync-keys it completes", async () => {
    await managementClients(server).storage.storageAccounts.regenerateKey(GROUP, WS_ACCOUNT, { keyName: 'key1' });
    // The code snapshot cannot be uploaded with the stale key either: the CLI says so, naming the same fix.
    const upload = await cli('ml', 'job', 'create', '--file', jobYaml('stale-upload'), ...ws);
    expect(upload.stderr).toContain("To fix it, run: mlspace ml workspace sync-keys -w jobws -g rg-jobs");
    const file = path.join(work, 'nocode.yml');
    fs.writeFileSync(file, `name: stale-workspace\ncommand: echo hi\nenvironment: azureml:AzureML-minimal:1\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    await ended('stale-workspace');
    const failed = await show('stale-workspace');
    expect(failed.status).toBe('Failed');
    expect(failed.error!.message).toMatch(
      /^The job could not start the job log: The key workspace 'jobws' holds for its storage account 'jobwsacct' is no longer key1 or key2 \(key1 was regenerated at .*\)\. To fix it, run: mlspace ml workspace sync-keys -n jobws -g rg-jobs\.$/,
    );
    expect((await cli('ml', 'workspace', 'sync-keys', '-n', WORKSPACE, '-g', GROUP)).code).toBe(0);
    expect((await runJob('synced')).properties.status).toBe('Completed');
  });

  it('completes while a rotation moves and regenerates the keys it writes with', async () => {
    const file = path.join(work, 'slow.yml');
    fs.writeFileSync(file, `name: during-rotation\ncommand: for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; sleep 0.3; done\nenvironment: azureml:AzureML-minimal:1\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    await until('the job to run', async () => ((await jobOf('during-rotation')).properties.status === 'Running' ? true : undefined));
    // Consumer discovery sees it: it writes with the workspace's key copy.
    const consumers = await armRequest(server, 'POST', `${accountPath(server, GROUP, WS_ACCOUNT)}/listConsumers`, { token: await tokenFor(server) });
    expect((consumers.json as { runningJobs: unknown[] }).runningJobs).toEqual([
      expect.objectContaining({ kind: 'job', jobName: 'during-rotation', status: 'Running', uses: ["the key copy of workspace 'jobws'"], matches: 'followsHolders' }),
    ]);
    const rotated = await cli('storage', 'account', 'keys', 'rotate', '-g', GROUP, '-n', WS_ACCOUNT, '-o', 'json');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect((await ended('during-rotation')).properties.status).toBe('Completed');
    const log = await (await blobs(WS_ACCOUNT)).getContainerClient('azureml').getBlobClient('ExperimentRun/dcid.during-rotation/user_logs/std_log.txt').downloadToBuffer();
    expect(log.toString()).toBe(Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join(''));
  });

  it('fails, in its own words, when its output datastore is deleted while it runs', async () => {
    const { ml } = managementClients(server);
    const scratch = { datastoreType: 'AzureBlob', accountName: DATA_ACCOUNT, containerName: 'training', credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: await keyOf(DATA_ACCOUNT) } } };
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'scratch', { properties: scratch } as Parameters<typeof ml.datastores.createOrUpdate>[3]);
    const file = path.join(work, 'gone.yml');
    fs.writeFileSync(file, `name: datastore-gone\ncommand: sleep 2; echo done > \${{outputs.out}}/done.txt\nenvironment: azureml:AzureML-minimal:1\noutputs:\n  out:\n    type: uri_folder\n    path: azureml://datastores/scratch/paths/gone/\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    await until('the job to run', async () => ((await jobOf('datastore-gone')).properties.status === 'Running' ? true : undefined));
    await ml.datastores.delete(GROUP, WORKSPACE, 'scratch');
    await ended('datastore-gone');
    const failed = await show('datastore-gone');
    expect(failed.status).toBe('Failed');
    expect(failed.error).toEqual({
      code: 'DatastoreNotFound',
      message: "The job could not upload output 'out': 'azureml://datastores/scratch/paths/gone/' no longer points into a datastore of workspace 'jobws': its datastore was deleted after the job was created. Register it again (mlspace ml datastore create) and run the job again.",
    });

    // A storage URL names a container, which the datastore that read it may have left for another: the job,
    // queued behind jobs that fill every slot, finds no datastore reading its input's container when it starts.
    await (await blobs(DATA_ACCOUNT)).createContainer('scratchbox');
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'scratch', { properties: { ...scratch, containerName: 'scratchbox' } } as Parameters<typeof ml.datastores.createOrUpdate>[3]);
    // The busy jobs hold their slots until the test lets them go.
    const release = path.join(work, 'release-busy');
    const busy = Array.from({ length: os.availableParallelism() }, (_, i) => `busy-${i}`);
    for (const name of busy) {
      fs.writeFileSync(file, `name: ${name}\ncommand: while [ ! -e ${release} ]; do sleep 0.1; done\nenvironment: azureml:AzureML-minimal:1\n`);
      expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
      await until(`${name} to run`, async () => ((await jobOf(name)).properties.status === 'Running' ? true : undefined));
    }
    const url = `${server.blob}/${DATA_ACCOUNT}/scratchbox/in/`;
    fs.writeFileSync(file, `name: datastore-moved\ncommand: ls \${{inputs.data}}\nenvironment: azureml:AzureML-minimal:1\ninputs:\n  data:\n    type: uri_folder\n    path: ${url}\n`);
    const moved = await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none');
    expect(moved.code, moved.stderr).toBe(0);
    expect((await jobOf('datastore-moved')).properties.status).toBe('Queued');
    await ml.datastores.createOrUpdate(GROUP, WORKSPACE, 'scratch', { properties: scratch } as Parameters<typeof ml.datastores.createOrUpdate>[3]);
    fs.writeFileSync(release, '');
    await ended('datastore-moved');
    expect((await show('datastore-moved')).error).toEqual({
      code: 'DatastoreNotFound',
      message: `The job could not download input 'data': '${url}' no longer points into a datastore of workspace 'jobws': the datastore that read its container was deleted, or registered onto another container, after the job was created. Register it again (mlspace ml datastore create) and run the job again.`,
    });
    for (const name of busy) await ended(name);
  });

  it('streams a log that grows over several reads, each line once and in order', async () => {
    const file = path.join(work, 'growing.yml');
    fs.writeFileSync(file, `name: growing\ncommand: for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.4; done\nenvironment: azureml:AzureML-minimal:1\n`);
    const streamed = await cli('ml', 'job', 'create', '--file', file, '--stream', ...ws);
    expect(streamed.code, streamed.stderr).toBe(0);
    const lines = Array.from({ length: 8 }, (_, i) => `line ${i + 1}\n`).join('');
    expect(streamed.stdout).toContain(`Streaming user_logs/std_log.txt\n${'='.repeat(31)}\n\n${lines}\nExecution Summary`);
  });

  it('cancels a job: Canceled, with no process of it left', async () => {
    const file = path.join(work, 'long.yml');
    fs.writeFileSync(file, `name: long\ncommand: sleep 37.25 & sleep 37.5; wait\nenvironment: azureml:AzureML-minimal:1\nlimits:\n  timeout: 600\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    await until('the job to run', async () => ((await jobOf('long')).properties.status === 'Running' ? true : undefined));
    const processes = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => /^sleep 37\.(25|5)$/.test(line.trim()));
    await until('the job to start its processes', async () => (processes().length === 2 ? true : undefined));
    expect((await cli('ml', 'job', 'cancel', '-n', 'long', ...ws)).code).toBe(0);
    expect((await jobOf('long')).properties.status).toBe('Canceled');
    await until('its processes to end', async () => (processes().length === 0 ? true : undefined), 10_000);
  });

  it('stops a job at its time limit, Failed with the reason', async () => {
    const file = path.join(work, 'timeout.yml');
    fs.writeFileSync(file, `name: too-slow\ncommand: sleep 30\nenvironment: azureml:AzureML-minimal:1\nlimits:\n  timeout: 1\n`);
    expect((await cli('ml', 'job', 'create', '--file', file, ...ws, '-o', 'none')).code).toBe(0);
    await ended('too-slow');
    expect((await show('too-slow')).error).toMatchObject({ code: 'JobTimeout' });
  });

  it('refuses bad YAML and unknown references before anything runs, saying what to fix', async () => {
    const write = (name: string, text: string) => {
      const file = path.join(work, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const noEnv = await cli('ml', 'job', 'create', '--file', write('noenv.yml', 'command: echo hi\n'), ...ws);
    expect(noEnv.stderr).toContain("noenv.yml: 'environment' is required");
    const typo = await cli('ml', 'job', 'create', '--file', write('typo.yml', 'command: echo hi\nenvironment: azureml:x:1\ninptus: {}\n'), ...ws);
    expect(typo.stderr).toContain("typo.yml: unknown field 'inptus'");
    fs.writeFileSync(path.join(work, 'ghost2.yml'), `name: ghost2\ncommand: ls \${{inputs.x}}\nenvironment: azureml:x:1\ninputs:\n  x:\n    type: uri_folder\n    path: azureml://datastores/nosuchstore/paths/a/\n`);
    const ghost = await cli('ml', 'job', 'create', '--file', path.join(work, 'ghost2.yml'), ...ws);
    expect(ghost.stderr).toContain("names datastore 'nosuchstore', which workspace 'jobws' does not have");
    const placeholder = await cli('ml', 'job', 'create', '--file', write('ph.yml', 'name: ph\ncommand: echo ${{inputs.nope}}\nenvironment: azureml:x:1\n'), ...ws);
    expect(placeholder.stderr).toContain("refers to ${{inputs.nope}}, which is not an input or output of the job (it declares none)");
    await expect(jobOf('ghost2')).rejects.toMatchObject({ statusCode: 404 });
    await expect(jobOf('ph')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('lets only Contributor or above create jobs', async () => {
    const reader = JSON.parse((await cli('ad', 'sp', 'create', '--role', 'Reader', '--data-dir', server.dataDir)).stdout) as { tenantId: string; clientId: string; clientSecret: string };
    const { ml } = managementClients(server, reader);
    const refused = await ml.jobs
      .createOrUpdate(GROUP, WORKSPACE, 'by-reader', { properties: { jobType: 'Command', command: 'echo hi', environmentId: 'azureml:x:1' } as CommandJob })
      .catch((error: unknown) => error as { statusCode: number });
    expect(refused.statusCode).toBe(403);
    await expect(jobOf('by-reader')).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('a server without --enable-local-jobs', { timeout: 60_000 }, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('refuses to create a job, saying how to enable them', async () => {
    const { resources, storage, ml } = managementClients(server);
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'westeurope' });
    const account = await storage.storageAccounts.beginCreateAndWait(GROUP, WS_ACCOUNT, { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'westeurope', storageAccount: account.id });
    const refused = await ml.jobs
      .createOrUpdate(GROUP, WORKSPACE, 'nope', { properties: { jobType: 'Command', command: 'echo hi', environmentId: 'azureml:x:1' } as CommandJob })
      .catch((error: unknown) => error as { statusCode: number; code: string; message: string });
    expect(refused).toMatchObject({ statusCode: 400, code: 'LocalJobsDisabled', message: expect.stringContaining("mlspace up --enable-local-jobs") });
  });
});

describe('a server killed while a job runs', { timeout: 120_000 }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-jobs-crash-'));
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('marks the job Failed at the next start, saying why, and leaves none of its processes', async () => {
    const args = ['--enable-local-jobs', '--node-lease', '1'];
    server = await startTestServer({ dataDir, args });
    const { resources, storage, ml } = managementClients(server);
    await resources.resourceGroups.createOrUpdate(GROUP, { location: 'westeurope' });
    const account = await storage.storageAccounts.beginCreateAndWait(GROUP, WS_ACCOUNT, { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    await ml.workspaces.beginCreateOrUpdateAndWait(GROUP, WORKSPACE, { location: 'westeurope', storageAccount: account.id });
    await ml.jobs.createOrUpdate(GROUP, WORKSPACE, 'orphan', { properties: { jobType: 'Command', command: 'sleep 41.75', environmentId: 'azureml:x:1' } as CommandJob });
    const processes = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.trim() === 'sleep 41.75');
    await until('the job to run', async () => (processes().length === 1 ? true : undefined));
    await server.stop('SIGKILL');

    server = await startTestServer({ dataDir, args });
    const job = await until('the job to be failed', async () => {
      const found = await managementClients(server!).ml.jobs.get(GROUP, WORKSPACE, 'orphan');
      return found.properties.status === 'Failed' ? found : undefined;
    });
    const raw = await armRequest(server, 'GET', job.id!, { token: await tokenFor(server) });
    expect((raw.json as { properties: { error: unknown } }).properties.error).toMatchObject({ code: 'ServerRestarted', message: expect.stringMatching(/restarted while the job ran|the node running the job stopped answering/i) });
    await until('its processes to end', async () => (processes().length === 0 ? true : undefined), 10_000);
  });
});
