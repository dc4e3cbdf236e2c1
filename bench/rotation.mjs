#!/usr/bin/env node
// Key rotation benchmark: `npx tsc -p tsconfig.json && node bench/rotation.mjs [--load-only | --scale-only]`.
//
// (1) Zero-downtime under load. Clients of every kind of consumer (two workspaces'
//     key copies, a blob datastore with an account key, one with a SAS, a file
//     datastore) read and write continuously while the account's keys are rotated
//     four times. Each client behaves as a well-behaved client of mlspace does: it reads
//     its credential from mlspace (workspace listKeys, datastore listSecrets) once,
//     keeps using it, and on a 403 AuthenticationFailed reads it again and retries
//     once. A request counts as FAILED only if it still fails after that retry.
//     Because every consumer is moved to the kept key (and verified) before the
//     retired key is regenerated, the re-read always returns a credential that
//     works: the run expects zero failed requests, and exits 1 otherwise.
// (2) Scale. 100 workspaces (created through the API) and 10,000 user datastores
//     on one account (SEEDED straight into the metadata store, through the same
//     repository code the API uses, while the server is stopped: creating them
//     one PUT at a time would measure the API, not the rotation). It prints the
//     latency of listConsumers and the time of a full rotation.
//
// `npm run bench` runs both parts too, through lib/scenarios/rotation.mjs, with PASS/FAIL targets.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileKeyCredential } from '@azure/storage-file-share';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/mlspace.js');
const API = 'api-version=2023-05-01';
const ROTATIONS_UNDER_LOAD = 4;

// ---------------------------------------------------------------- server and ARM

/**
 * `mlspace up` on `dataDir`; with `database`, on that PostgreSQL database, as
 * one node of several when they share both (then each needs its own
 * `endpointsFile`). `cpu` pins the process to one core, where taskset exists.
 */
export async function startServer(dataDir, { database, endpointsFile, leaseSeconds, cpu } = {}) {
  const file = endpointsFile ?? path.join(dataDir, 'endpoints.json');
  fs.rmSync(file, { force: true });
  const options = [
    ...(database ? ['--database', database] : []),
    ...(endpointsFile ? ['--endpoints-file', endpointsFile] : []),
    ...(leaseSeconds ? ['--node-lease', String(leaseSeconds)] : []),
  ];
  const command = [BIN, 'up', '--data-dir', dataDir, ...options, '--blob-port', '0', '--file-port', '0', '--blob-https-port', '0', '--file-https-port', '0', '--arm-port', '0'];
  const pinned = cpu !== undefined && hasTaskset();
  const child = spawn(pinned ? 'taskset' : process.execPath, pinned ? ['-c', String(cpu), process.execPath, ...command] : command, {
    env: { ...process.env, MLSPACE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (const deadline = Date.now() + 30_000; !fs.existsSync(file); await sleep(25)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('mlspace up did not start');
  }
  const endpoints = JSON.parse(fs.readFileSync(file, 'utf8'));
  const arm = new Arm(endpoints);
  await arm.login();
  return {
    endpoints,
    arm,
    pinned,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
}

export class Arm {
  constructor(endpoints) {
    this.endpoints = endpoints;
    this.agent = new https.Agent({ ca: fs.readFileSync(endpoints.caFile), keepAlive: true, maxSockets: 32 });
    this.admin = JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8'));
  }

  async login() {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.admin.clientId, client_secret: this.admin.clientSecret, scope: 'https://management.azure.com/.default' });
    const { json } = await this.send('POST', `/${this.admin.tenantId}/oauth2/v2.0/token`, form.toString(), 'application/x-www-form-urlencoded');
    this.token = json.access_token;
  }

  sub(rest) {
    return `/subscriptions/${this.endpoints.subscriptionId}${rest}`;
  }

  async call(method, resource, body) {
    const separator = resource.includes('?') ? '&' : '?';
    const response = await this.send(method, `${resource}${separator}${API}`, body === undefined ? undefined : JSON.stringify(body), 'application/json');
    if (response.status >= 400) throw new Error(`${method} ${resource}: ${response.status} ${response.text}`);
    return response;
  }

  /** `ms` is the round trip to the last byte of the answer, before the client parses it. */
  send(method, resourcePath, body, contentType) {
    return new Promise((resolve, reject) => {
      const headers = { 'content-type': contentType };
      if (this.token) headers.authorization = `Bearer ${this.token}`;
      const started = performance.now();
      const req = https.request(new URL(resourcePath, this.endpoints.arm), { method, headers, agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          const ms = performance.now() - started;
          resolve({ status: res.statusCode, headers: res.headers, text, ms, json: text ? JSON.parse(text) : undefined });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const accountPath = (arm, group, account) => arm.sub(`/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${account}`);
const workspacePath = (arm, group, workspace) => arm.sub(`/resourceGroups/${group}/providers/Microsoft.MachineLearningServices/workspaces/${workspace}`);

export async function createAccount(arm, group, account) {
  await arm.call('PUT', arm.sub(`/resourcegroups/${group}`), { location: 'local' });
  const created = await arm.call('PUT', accountPath(arm, group, account), { location: 'local', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
  const keys = (await arm.call('POST', `${accountPath(arm, group, account)}/listKeys`)).json.keys.map((key) => key.value);
  return { id: created.json.id, keys };
}

/** Starts a rotation and polls its Azure-AsyncOperation until it ends; the final status and the client-side time. */
async function rotate(arm, group, account, body = { reissueSas: true }) {
  const started = performance.now();
  const accepted = await arm.call('POST', `${accountPath(arm, group, account)}/rotateKeys`, body);
  const statusPath = new URL(accepted.headers['azure-asyncoperation']).pathname;
  for (;;) {
    const { json } = await arm.call('GET', statusPath);
    if (json.status !== 'InProgress') return { status: json, ms: performance.now() - started };
    await sleep(50);
  }
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---------------------------------------------------------------- (1) under load

/**
 * A well-behaved client of one consumer: it reads the credential from mlspace,
 * caches it, and re-reads it once when the data plane answers 403.
 */
class ConsumerClient {
  constructor(name, endpoints, account, target, readCredential) {
    Object.assign(this, { name, endpoints, account, target, readCredential });
    this.stats = { ok: 0, failed: 0, rereads: 0, errors: [], latencies: [] };
  }

  async refresh() {
    this.credential = await this.readCredential();
    const { endpoints, account, target, credential } = this;
    if (target.share) {
      const service = credential.sas
        ? new ShareServiceClient(`${endpoints.file}/${account}?${credential.sas}`)
        : new ShareServiceClient(`${endpoints.file}/${account}`, new FileKeyCredential(account, credential.key));
      this.directory = service.getShareClient(target.share).rootDirectoryClient;
    } else {
      this.container = credential.sas
        ? new ContainerClient(`${endpoints.blob}/${account}/${target.container}?${credential.sas}`)
        : new BlobServiceClient(`${endpoints.blob}/${account}`, new StorageSharedKeyCredential(account, credential.key)).getContainerClient(target.container);
    }
  }

  /** Writes the names the load reads, so that every read finds something. */
  async prepare() {
    for (let i = 0; i < 16; i += 2) await this.once(i);
  }

  /** One write (even i) or read (odd i) of one of eight names. */
  async once(i) {
    const name = `${this.name}-${(i >> 1) % 8}.txt`;
    const body = `payload ${i}`;
    if (this.directory) {
      const file = this.directory.getFileClient(name);
      if (i % 2 === 0) await file.uploadData(Buffer.from(body));
      else await (await file.download()).readableStreamBody.resume();
    } else {
      const blob = this.container.getBlockBlobClient(name);
      if (i % 2 === 0) await blob.upload(body, body.length);
      else await blob.downloadToBuffer();
    }
  }

  /** One logical request; its latency includes the re-read and the retry when there was one. */
  async request(i) {
    const started = performance.now();
    try {
      await this.once(i);
      this.stats.ok++;
    } catch (error) {
      if (error.statusCode !== 403) return this.fail(error);
      // The credential this client cached was retired: read the current one from mlspace, retry once.
      this.stats.rereads++;
      try {
        await this.refresh();
        await this.once(i);
        this.stats.ok++;
      } catch (retryError) {
        return this.fail(retryError);
      }
    }
    this.stats.latencies.push(performance.now() - started);
  }

  fail(error) {
    this.stats.failed++;
    if (this.stats.errors.length < 5) this.stats.errors.push(`${error.statusCode ?? ''} ${error.code ?? ''} ${String(error.message).split('\n')[0]}`);
  }
}

async function loadBench({ durationAfterMs = 1500, workersPerConsumer = 3 } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bench-rotation-'));
  const server = await startServer(dataDir);
  try {
    const { arm, endpoints } = server;
    const group = 'bench-load';
    const account = 'benchload';
    const { id, keys } = await createAccount(arm, group, account);
    const blob = new BlobServiceClient(`${endpoints.blob}/${account}`, new StorageSharedKeyCredential(account, keys[0]));
    for (const container of ['load-key', 'load-sas']) await blob.createContainer(container);
    await new ShareServiceClient(`${endpoints.file}/${account}`, new FileKeyCredential(account, keys[0])).createShare('load-files');
    for (const workspace of ['load-ws-1', 'load-ws-2']) await arm.call('PUT', workspacePath(arm, group, workspace), { location: 'local', properties: { storageAccount: id } });
    const sasToken = (
      await arm.call('POST', `${accountPath(arm, group, account)}/ListServiceSas`, {
        canonicalizedResource: `/blob/${account}/load-sas`,
        signedResource: 'c',
        signedPermission: 'rwl',
        signedExpiry: new Date(Date.now() + 86_400_000).toISOString(),
        keyToSign: 'key1',
      })
    ).json.serviceSasToken;
    const register = (workspace, name, properties) => arm.call('PUT', `${workspacePath(arm, group, workspace)}/datastores/${name}`, { properties: { accountName: account, ...properties } });
    const accountKey = { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: keys[0] } };
    await register('load-ws-1', 'key-store', { datastoreType: 'AzureBlob', containerName: 'load-key', credentials: accountKey });
    await register('load-ws-2', 'sas-store', { datastoreType: 'AzureBlob', containerName: 'load-sas', credentials: { credentialsType: 'Sas', secrets: { secretsType: 'Sas', sasToken } } });
    await register('load-ws-1', 'file-store', { datastoreType: 'AzureFile', fileShareName: 'load-files', credentials: accountKey });

    const workspaceKey = (workspace) => async () => ({ key: (await arm.call('POST', `${workspacePath(arm, group, workspace)}/listKeys`)).json.userStorageKey });
    const datastoreSecret = (workspace, name) => async () => {
      const { json } = await arm.call('POST', `${workspacePath(arm, group, workspace)}/datastores/${name}/listSecrets`);
      return json.secretsType === 'Sas' ? { sas: json.sasToken } : { key: json.key };
    };
    const clients = [
      new ConsumerClient('ws1', endpoints, account, { container: 'load-key' }, workspaceKey('load-ws-1')),
      new ConsumerClient('ws2', endpoints, account, { container: 'load-sas' }, workspaceKey('load-ws-2')),
      new ConsumerClient('key', endpoints, account, { container: 'load-key' }, datastoreSecret('load-ws-1', 'key-store')),
      new ConsumerClient('sas', endpoints, account, { container: 'load-sas' }, datastoreSecret('load-ws-2', 'sas-store')),
      new ConsumerClient('file', endpoints, account, { share: 'load-files' }, datastoreSecret('load-ws-1', 'file-store')),
    ];
    for (const client of clients) {
      await client.refresh();
      await client.prepare();
    }

    let running = true;
    let counter = 0;
    const workers = clients.flatMap((client) =>
      Array.from({ length: workersPerConsumer }, async () => {
        while (running) await client.request(counter++);
      }),
    );
    const loadStarted = performance.now();
    await sleep(1000);
    const rotations = [];
    for (let i = 0; i < ROTATIONS_UNDER_LOAD; i++) {
      rotations.push(await rotate(arm, group, account));
      await sleep(300);
    }
    await sleep(durationAfterMs);
    running = false;
    await Promise.all(workers);
    const seconds = (performance.now() - loadStarted) / 1000;
    const total = clients.reduce((sum, client) => sum + client.stats.ok + client.stats.failed, 0);
    const failed = clients.reduce((sum, client) => sum + client.stats.failed, 0);
    const latencies = clients.flatMap((client) => client.stats.latencies).sort((a, b) => a - b);
    return {
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] },
      seconds,
      total,
      rps: total / seconds,
      failed,
      rereads: clients.reduce((sum, client) => sum + client.stats.rereads, 0),
      perConsumer: clients.map((client) => ({ consumer: client.name, ok: client.stats.ok, failed: client.stats.failed, rereads: client.stats.rereads, errors: client.stats.errors })),
      rotations: rotations.map(({ status, ms }) => ({ status: status.status, retired: status.properties.plan.retiredKey, ms: Math.round(ms), error: status.error })),
    };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- (2) scale

/** SEEDING: user datastores written straight into the metadata store with the server stopped, through dist's repositories. */
async function seedDatastores(dataDir, plan, database) {
  if (database) return seedPostgresDatastores(dataDir, plan, database);
  const { openSqlite } = await import(path.join(ROOT, 'dist/db/sqlite.js'));
  const { Sealer } = await import(path.join(ROOT, 'dist/secrets/seal.js'));
  const { DatastoreRepo } = await import(path.join(ROOT, 'dist/db/datastores.js'));
  const db = openSqlite(path.join(dataDir, 'metadata.sqlite'));
  try {
    const repo = new DatastoreRepo(db, Sealer.open(dataDir));
    const now = Date.now();
    db.transaction(() => {
      for (const datastore of plan) repo.write({ system: false, isDefault: false, tags: {}, properties: {}, created: now, modified: now, ...datastore });
    })();
  } finally {
    db.close();
  }
}

/** The same seeding in the PostgreSQL dialect, in one transaction. */
async function seedPostgresDatastores(dataDir, plan, database) {
  const { default: pg } = await import('pg');
  const { Sealer } = await import(path.join(ROOT, 'dist/secrets/seal.js'));
  const { PgDatastoreRepo } = await import(path.join(ROOT, 'dist/db/postgres/datastores.js'));
  const { transaction } = await import(path.join(ROOT, 'dist/db/postgres/sql.js'));
  const pool = new pg.Pool({ connectionString: database, max: 1 });
  try {
    const repo = new PgDatastoreRepo(pool, Sealer.open(dataDir));
    const now = Date.now();
    await transaction(pool, async (client) => {
      for (const datastore of plan) await repo.write(client, { system: false, isDefault: false, tags: {}, properties: {}, created: now, modified: now, ...datastore });
    });
  } finally {
    await pool.end();
  }
}

/** With `database` (a PostgreSQL URL), the metadata lives there, as on a multi-node deployment. */
export async function scaleBench({ workspaces = 100, datastores = 10_000, containers = 100, database } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bench-scale-'));
  let server = await startServer(dataDir, { database });
  try {
    const group = 'bench-scale';
    const account = 'benchscale';
    const timings = {};
    let t = performance.now();
    const { id, keys } = await createAccount(server.arm, group, account);
    const blob = new BlobServiceClient(`${server.endpoints.blob}/${account}`, new StorageSharedKeyCredential(account, keys[0]));
    const containerNames = Array.from({ length: containers }, (_, i) => `data-${String(i).padStart(3, '0')}`);
    for (const name of containerNames) await blob.createContainer(name);
    const workspaceIds = [];
    for (let i = 0; i < workspaces; i += 10) {
      const batch = Array.from({ length: Math.min(10, workspaces - i) }, (_, j) => `scale-ws-${String(i + j).padStart(3, '0')}`);
      const created = await Promise.all(batch.map((name) => server.arm.call('PUT', workspacePath(server.arm, group, name), { location: 'local', properties: { storageAccount: id } })));
      workspaceIds.push(...created.map((response) => response.json.properties.workspaceId));
    }
    timings.createWorkspacesMs = performance.now() - t;
    // One container SAS per container, signed with key1, shared by the SAS datastores of that container.
    const sasByContainer = new Map();
    for (const name of containerNames) {
      const { json } = await server.arm.call('POST', `${accountPath(server.arm, group, account)}/ListServiceSas`, {
        canonicalizedResource: `/blob/${account}/${name}`,
        signedResource: 'c',
        signedPermission: 'rl',
        signedExpiry: new Date(Date.now() + 86_400_000).toISOString(),
        keyToSign: 'key1',
      });
      sasByContainer.set(name, json.serviceSasToken);
    }
    await server.stop();

    t = performance.now();
    const endpoint = new URL(server.endpoints.blob).host;
    const seeded = Array.from({ length: datastores }, (_, i) => {
      const containerName = containerNames[(Math.floor(i / 100) + (i % 5)) % containers];
      const sas = i % 10 === 9;
      return {
        workspaceId: workspaceIds[i % workspaces],
        name: `ds-${String(i).padStart(5, '0')}`,
        type: 'AzureBlob',
        accountName: account,
        containerName,
        endpoint,
        protocol: 'http',
        credentialsType: sas ? 'Sas' : 'AccountKey',
        secret: sas ? sasByContainer.get(containerName) : keys[0],
      };
    });
    await seedDatastores(dataDir, seeded, database);
    timings.seedDatastoresMs = performance.now() - t;

    server = await startServer(dataDir, { database });
    const listConsumers = () => server.arm.call('POST', `${accountPath(server.arm, group, account)}/listConsumers`);
    const first = await listConsumers();
    const consumerCount = first.json.counts.consumers;
    const latencies = [];
    for (let i = 0; i < 10; i++) latencies.push((await listConsumers()).ms);
    latencies.sort((a, b) => a - b);
    const rotation = await rotate(server.arm, group, account);
    const after = (await listConsumers()).json;
    return {
      workspaces,
      datastores,
      consumers: consumerCount,
      listConsumersBytes: first.text.length,
      listConsumersMs: { first: first.ms, median: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies[latencies.length - 1] },
      rotation: {
        status: rotation.status.status,
        error: rotation.status.error,
        clientMs: rotation.ms,
        serverMs: Date.parse(rotation.status.endTime) - Date.parse(rotation.status.startTime),
        counts: rotation.status.properties.counts,
        steps: stepDurations(rotation.status.properties.steps),
      },
      afterRotation: after.counts,
      timings,
    };
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** How long each step took, from its started to its done journal entries. */
function stepDurations(steps) {
  const durations = {};
  const started = new Map();
  for (const step of steps) {
    if (step.phase === 'started') started.set(step.name, Date.parse(step.time));
    else if (started.has(step.name)) durations[step.name] = (durations[step.name] ?? 0) + Date.parse(step.time) - started.get(step.name);
  }
  return durations;
}

// ---------------------------------------------------------------- report

/** Each part is true (the sizes above), false (skipped) or the options of loadBench or scaleBench (smaller sizes for a quick run, say). */
export async function runRotationBench({ load = true, scale = true } = {}) {
  const options = (part) => (part === true ? undefined : part);
  return { load: load ? await loadBench(options(load)) : undefined, scale: scale ? await scaleBench(options(scale)) : undefined };
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const result = await runRotationBench({ load: !args.has('--scale-only'), scale: !args.has('--load-only') });
  const fmt = (ms) => `${ms.toFixed(1)} ms`;
  let ok = true;
  console.log(`machine: ${os.cpus().length} cores, node ${process.version}`);
  if (result.load) {
    const { load } = result;
    console.log(`\n(1) rotation under load: every consumer reads and writes with its credential while the keys are rotated ${load.rotations.length} times`);
    console.log(`    requests: ${load.total} in ${load.seconds.toFixed(1)} s = ${load.rps.toFixed(0)} req/s; failed: ${load.failed}; 403s recovered by re-reading the credential from mlspace: ${load.rereads}`);
    console.log(`    latency: p50 ${fmt(load.latencyMs.p50)}, p99 ${fmt(load.latencyMs.p99)}, max ${fmt(load.latencyMs.max)}`);
    for (const rotation of load.rotations) console.log(`    rotation retiring ${rotation.retired}: ${rotation.status} in ${rotation.ms} ms${rotation.error ? ` (${rotation.error.code})` : ''}`);
    for (const consumer of load.perConsumer) console.log(`      ${consumer.consumer.padEnd(5)} ok ${consumer.ok}, failed ${consumer.failed}, re-reads ${consumer.rereads}${consumer.errors.length ? `: ${consumer.errors.join(' | ')}` : ''}`);
    if (load.failed > 0 || load.rotations.some((rotation) => rotation.status !== 'Succeeded')) ok = false;
    if (load.rps < 200) console.log('    WARNING: below the 200 req/s the benchmark is meant to sustain');
  }
  if (result.scale) {
    const { scale } = result;
    console.log(`\n(2) scale: ${scale.workspaces} workspaces (API) + ${scale.datastores} datastores (SEEDED into the metadata store) = ${scale.consumers} consumers`);
    console.log(`    setup: workspaces ${fmt(scale.timings.createWorkspacesMs)}, seeding ${fmt(scale.timings.seedDatastoresMs)}`);
    console.log(
      `    listConsumers: first call ${fmt(scale.listConsumersMs.first)}, then median ${fmt(scale.listConsumersMs.median)}, p95 ${fmt(scale.listConsumersMs.p95)}, max ${fmt(scale.listConsumersMs.max)} (${(scale.listConsumersBytes / 1e6).toFixed(1)} MB) — target < 200 ms`,
    );
    console.log(`    full rotation: ${scale.rotation.status} in ${fmt(scale.rotation.serverMs)} (server), ${fmt(scale.rotation.clientMs)} (client, polling) — target < 10 s`);
    console.log(`    steps: ${Object.entries(scale.rotation.steps).map(([name, ms]) => `${name} ${ms} ms`).join(', ')}`);
    console.log(`    counts: ${JSON.stringify(scale.rotation.counts)}; after: ${JSON.stringify(scale.afterRotation)}`);
    if (scale.rotation.status !== 'Succeeded') ok = false;
  }
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
