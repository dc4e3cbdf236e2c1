// Several mlspace nodes on one PostgreSQL database and one data directory
// (docs/scale-out.md): how long a regenerated key takes to be refused by
// every node, and what a second node adds to throughput. It starts its own
// nodes, so it takes none of the shared servers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { accountPath, createAccount, percentile, startServer } from '../../rotation.mjs';
import { autocannonGet } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';
import { createBenchDatabase } from '../postgres.mjs';

const REGENERATIONS = { full: 50, quick: 10 };
const GROUP = 'bench-nodes';
const ACCOUNT = 'benchnodes';

export default {
  id: 'scale-out',
  title: 'Several nodes on one PostgreSQL database (docs/scale-out.md)',
  servers: [],
  targets: [{ row: 'propagation-p99', of: 'mlspace-pg', below: 100 }],

  async run(servers, settings, log) {
    const rounds = settings.seconds >= 10 ? REGENERATIONS.full : REGENERATIONS.quick;
    log(`3 nodes: ${rounds} regenerations of key1, each timed until the old key is refused by all three`);
    const propagation = await withNodes(3, {}, (nodes, keys) => keyPropagation(nodes, keys, rounds));
    log(`1 KiB SAS GET: one node, then two (each pinned to its own core where taskset exists), ${settings.seconds} s each`);
    const single = await withNodes(1, { pin: true }, (nodes, keys) => sasThroughput(nodes, keys, settings));
    const double = await withNodes(2, { pin: true }, (nodes, keys) => sasThroughput(nodes, keys, settings));
    const pg = (value) => ({ 'mlspace-pg': value });
    return [
      { id: 'propagation-p50', label: `regenerateKey until the old key is refused on all 3 nodes, p50 of ${rounds}`, unit: 'ms', values: pg(propagation.p50) },
      { id: 'propagation-p99', label: `regenerateKey until the old key is refused on all 3 nodes, p99 of ${rounds}`, unit: 'ms', values: pg(propagation.p99) },
      { id: 'regenerate-p50', label: 'regenerateKey call (it returns once every node has the new key), p50', unit: 'ms', values: pg(propagation.callP50) },
      { id: 'one-node', label: `1 KiB SAS GET, 1 node, 32 connections${single.pinned ? ' (pinned)' : ''}`, unit: 'req/s', values: pg(single.perSecond) },
      { id: 'two-nodes', label: `1 KiB SAS GET, 2 nodes, 32 connections each${double.pinned ? ' (pinned)' : ''}`, unit: 'req/s', values: pg(double.perSecond) },
    ];
  },
};

/** `count` nodes, started one after the other on a fresh database and data directory, for the length of `work`. */
async function withNodes(count, { pin }, work) {
  const database = await createBenchDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bench-nodes-'));
  const nodes = [];
  try {
    for (let i = 0; i < count; i++) {
      nodes.push(await startServer(dataDir, { database: database.url, endpointsFile: path.join(dataDir, `endpoints-${i}.json`), cpu: pin ? i % os.cpus().length : undefined }));
    }
    const { keys } = await createAccount(nodes[0].arm, GROUP, ACCOUNT);
    await containerOn(nodes[0], keys[0]).create();
    return await work(nodes, keys);
  } finally {
    for (const node of nodes) await node.stop();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function containerOn(node, key) {
  return new BlobServiceClient(`${node.endpoints.blob}/${ACCOUNT}`, new StorageSharedKeyCredential(ACCOUNT, key), { retryOptions: { maxTries: 1 } }).getContainerClient('bench');
}

/** Per regeneration: from the call to the first 403 for the old key on the slowest node, each node polled back to back. */
async function keyPropagation(nodes, keys, rounds) {
  const [first] = nodes;
  let key1 = keys[0];
  const spans = [];
  const calls = [];
  for (let round = 0; round < rounds; round++) {
    const clients = nodes.map((node) => containerOn(node, key1));
    const started = performance.now();
    const regenerate = first.arm.call('POST', `${accountPath(first.arm, GROUP, ACCOUNT)}/regenerateKey`, { keyName: 'key1' }).then((response) => {
      calls.push(performance.now() - started);
      return response;
    });
    const refused = await Promise.all(clients.map((client) => firstRefusal(client, started)));
    spans.push(Math.max(...refused));
    key1 = (await regenerate).json.keys[0].value;
  }
  spans.sort((a, b) => a - b);
  calls.sort((a, b) => a - b);
  return { p50: percentile(spans, 50), p99: percentile(spans, 99), callP50: percentile(calls, 50) };
}

/** Milliseconds from `started` until the old key is refused. */
async function firstRefusal(client, started) {
  for (;;) {
    const status = await client.getProperties().then(
      () => 200,
      (error) => error.statusCode,
    );
    if (status === 403) return performance.now() - started;
    if (status !== 200) throw new Error(`a request with the old key answered ${status}`);
  }
}

/** autocannon against each node at once: the sum of their rates. */
async function sasThroughput(nodes, [key], settings) {
  const [first] = nodes;
  await containerOn(first, key).getBlockBlobClient('small-1k').upload(SMALL_BODY, SMALL_BODY.length);
  const sas = generateBlobSASQueryParameters(
    { containerName: 'bench', blobName: 'small-1k', permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
    new StorageSharedKeyCredential(ACCOUNT, key),
  ).toString();
  const results = await Promise.all(
    nodes.map((node) => autocannonGet(`${containerOn(node, key).getBlockBlobClient('small-1k').url}?${sas}`, { connections: 32, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds })),
  );
  return { perSecond: results.reduce((sum, result) => sum + result.perSecond, 0), pinned: nodes.every((node) => node.pinned) };
}
