// Local ML jobs: how long a trivial command job takes from its creation (the
// ARM PUT) to Running, median of 10; and how fast a job moves a 256 MiB folder
// of 1 MiB files in (input download) and out (output upload), beside the
// official storage client moving the same files in this process.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClientSecretCredential } from '@azure/identity';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/mlspace.js');
const MiB = 1024 * 1024;
const RUNS = 10;
const GROUP = 'jobbench';

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.floor((sorted.length - 1) / 2)] + sorted[Math.ceil((sorted.length - 1) / 2)]) / 2;
};

export default {
  id: 'ml-jobs',
  title: `Local ML jobs: creation to Running (median of ${RUNS}), and a job's input and output transfers beside the official client's`,
  servers: ['mlspace'],
  targets: [
    { row: 'to-running', of: 'mlspace', below: 1000 },
    { row: 'job-download', of: 'mlspace', vsRow: 'client-download' },
    { row: 'job-upload', of: 'mlspace', vsRow: 'client-upload' },
  ],

  async run({ mlspace }, settings, log) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-job-bench-'));
    const env = { ...process.env, MLSPACE_HOME: home };
    const cli = (...args) => execFileSync(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    try {
      const dataDir = path.dirname(mlspace.endpoints.adminClientFile);
      cli('login', '--data-dir', dataDir, '-o', 'none');
      cli('group', 'create', '-n', GROUP, '-l', 'eastus', '-o', 'none');
      for (const account of ['jobbenchws', 'jobbenchdata']) cli('storage', 'account', 'create', '-n', account, '-g', GROUP, '-o', 'none');
      cli('ml', 'workspace', 'create', '-n', 'jobbenchws', '-g', GROUP, '--storage-account', 'jobbenchws', '-o', 'none');
      const key = cli('storage', 'account', 'keys', 'list', '-g', GROUP, '-n', 'jobbenchdata', '--query', '[0].value', '-o', 'tsv').trim();
      const datastoreYaml = path.join(home, 'datastore.yml');
      fs.writeFileSync(datastoreYaml, `type: azure_blob\nname: benchdata\naccount_name: jobbenchdata\ncontainer_name: data\ncredentials:\n  account_key: ${key}\n`);

      // The data: as many 1 MiB files as the transfer size holds, through the official client.
      const files = settings.transferBytes / MiB;
      const container = new ContainerClient(`${mlspace.endpoints.blob}/jobbenchdata/data`, new StorageSharedKeyCredential('jobbenchdata', key));
      await container.create();
      const chunk = Buffer.alloc(MiB, 7);
      const names = Array.from({ length: files }, (_, i) => `folder/part-${String(i).padStart(4, '0')}.bin`);
      const clientUpload = await timed(() => inPool(names, (name) => container.getBlockBlobClient(name).uploadData(chunk)));
      const local = path.join(home, 'local');
      fs.mkdirSync(local);
      const clientDownload = await timed(() => inPool(names, (name) => container.getBlobClient(name).downloadToFile(path.join(local, path.basename(name)))));
      cli('ml', 'datastore', 'create', '--file', datastoreYaml, '-w', 'jobbenchws', '-g', GROUP, '-o', 'none');

      const admin = JSON.parse(fs.readFileSync(mlspace.endpoints.adminClientFile, 'utf8'));
      const { Workspace } = await import(path.join(ROOT, 'dist/sdk/index.js'));
      const { trustCa } = await import(path.join(ROOT, 'dist/client/trust-ca.js'));
      const credential = new ClientSecretCredential(admin.tenantId, admin.clientId, admin.clientSecret, {
        authorityHost: mlspace.endpoints.authority,
        disableInstanceDiscovery: true,
        ...trustCa(mlspace.endpoints.caFile),
      });
      const ws = await Workspace.get('jobbenchws', { resourceGroup: GROUP, subscriptionId: mlspace.endpoints.subscriptionId, credential, endpoint: mlspace.endpoints.arm, caFile: mlspace.endpoints.caFile });
      const jobs = ws.arm.ml.jobs;
      /**
       * Creates a job (through the official client; as raw JSON when it has an asset input, whose uri
       * @azure/arm-machinelearning 2.1.1 does not serialize) and answers when it was seen Running and
       * when it ended, in ms after the PUT was sent.
       */
      const run = async (name, properties) => {
        const body = { properties: { jobType: 'Command', environmentId: 'azureml:bench:1', ...properties } };
        const start = performance.now();
        if (properties.inputs) await ws.arm.actions.request('PUT', `${ws.id}/jobs/${name}`, { body, apiVersion: '2022-10-01' });
        else await jobs.createOrUpdate(GROUP, 'jobbenchws', name, body);
        let running;
        for (;;) {
          const { status } = (await jobs.get(GROUP, 'jobbenchws', name)).properties;
          if (running === undefined && status !== 'NotStarted' && status !== 'Queued') running = performance.now() - start;
          if (status === 'Completed') return { running, ended: performance.now() - start };
          if (status === 'Failed' || status === 'Canceled') throw new Error(`bench job ${name} ended ${status}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };

      const latencies = [];
      for (let i = 0; i < RUNS; i++) latencies.push((await run(`trivial-${i}`, { command: 'true' })).running);
      const toRunning = median(latencies);
      log(`to Running: median ${toRunning.toFixed(0)} ms (min ${Math.min(...latencies).toFixed(0)}, max ${Math.max(...latencies).toFixed(0)})`);

      // The job's own command takes a moment too: the local copy between download and upload.
      const copy = await timed(async () => execFileSync('cp', ['-r', `${local}/.`, fs.mkdtempSync(path.join(home, 'copy-'))]));
      const transfer = await run('transfer', {
        command: 'cp -r ${{inputs.data}}/. ${{outputs.out}}/',
        inputs: { data: { jobInputType: 'uri_folder', uri: 'azureml://datastores/benchdata/paths/folder/', mode: 'Download' } },
        outputs: { out: { jobOutputType: 'uri_folder' } },
      });
      // The job's output must hold every file, byte for byte.
      const wsKey = cli('storage', 'account', 'keys', 'list', '-g', GROUP, '-n', 'jobbenchws', '--query', '[0].value', '-o', 'tsv').trim();
      const wsContainer = cli('ml', 'datastore', 'show', '-n', 'workspaceblobstore', '-w', 'jobbenchws', '-g', GROUP, '--query', 'container_name', '-o', 'tsv').trim();
      const outputs = new ContainerClient(`${mlspace.endpoints.blob}/jobbenchws/${wsContainer}`, new StorageSharedKeyCredential('jobbenchws', wsKey));
      let copied = 0;
      for await (const blob of outputs.listBlobsFlat({ prefix: 'azureml/transfer/out/' })) copied += blob.properties.contentLength === MiB ? 1 : 0;
      const sample = await outputs.getBlobClient('azureml/transfer/out/part-0000.bin').downloadToBuffer();
      if (copied !== files || !sample.equals(chunk)) throw new Error(`the transfer job's output holds ${copied} of ${files} files, or different bytes`);
      const jobDownload = Math.max(1, transfer.running - toRunning);
      const jobUpload = Math.max(1, transfer.ended - transfer.running - copy);
      const rate = (ms) => Math.round((settings.transferBytes / MiB / (ms / 1000)) * 10) / 10;
      log(`job: download ${rate(jobDownload)} MiB/s, upload ${rate(jobUpload)} MiB/s; client: download ${rate(clientDownload)} MiB/s, upload ${rate(clientUpload)} MiB/s`);
      const mlspaceValue = (value) => ({ mlspace: value });
      const size = `${files} × 1 MiB`;
      return [
        { id: 'to-running', label: `Job creation (PUT) to Running, trivial command, median of ${RUNS}`, unit: 'ms', values: mlspaceValue(Math.round(toRunning)) },
        { id: 'job-download', label: `A job's input download, ${size}`, unit: 'MiB/s', values: mlspaceValue(rate(jobDownload)) },
        { id: 'client-download', label: `The official client's download of the same files, concurrency 4`, unit: 'MiB/s', values: mlspaceValue(rate(clientDownload)) },
        { id: 'job-upload', label: `A job's output upload, ${size}`, unit: 'MiB/s', values: mlspaceValue(rate(jobUpload)) },
        { id: 'client-upload', label: `The official client's upload of the same files, concurrency 4`, unit: 'MiB/s', values: mlspaceValue(rate(clientUpload)) },
      ];
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
};

async function timed(work) {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function inPool(items, work, concurrency = 4) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}
