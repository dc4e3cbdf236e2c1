import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from '../../src/cluster/cluster-node.js';
import type { ClusterStore } from '../../src/db/cluster.js';
import { PgAccountRepo } from '../../src/db/postgres/accounts.js';
import { PgClusterStore } from '../../src/db/postgres/cluster.js';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { Sealer } from '../../src/secrets/seal.js';
import { KeyRing } from '../../src/storage/auth/keyring.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';

const KEY1 = Buffer.alloc(64, 1).toString('base64');
const KEY2 = Buffer.alloc(64, 2).toString('base64');
const LEASE_MS = 600;
const quiet = { info() {}, warn() {}, error() {} } as never;

/** A cluster store whose check-ins can be held back, as a node cut off from PostgreSQL (or stopped) would be. */
function partitionable(store: ClusterStore): ClusterStore & { cut: boolean } {
  const gate = {
    cut: false,
    checkIn: async (...args: Parameters<ClusterStore['checkIn']>) => {
      while (gate.cut) await new Promise((resolve) => setTimeout(resolve, 10));
      return store.checkIn(...args);
    },
    currentEpoch: () => store.currentEpoch(),
    bumpEpoch: () => store.bumpEpoch(),
    laggards: (epoch: number, lease: number) => store.laggards(epoch, lease),
    leave: (id: string) => store.leave(id),
    join: (node: Parameters<ClusterStore['join']>[0]) => store.join(node),
    alone: <T>(id: string, lease: number, work: (others: string[]) => Promise<T>) => store.alone(id, lease, work),
    listen: (handlers: Parameters<ClusterStore['listen']>[0]) => store.listen(handlers),
  };
  return gate;
}

interface Node {
  keyring: KeyRing;
  cluster: ClusterNode;
  store: ReturnType<typeof partitionable>;
  accounts: PgAccountRepo;
}

/** Two nodes' key rings over one database: what every server node runs beside its listeners. */
describe('key rings of several nodes over PostgreSQL', () => {
  let database: TestDatabase;
  let dir: string;
  const nodes: Node[] = [];

  async function startNode(): Promise<Node> {
    const pool: pg.Pool = database.pool(4);
    const sealer = Sealer.open(dir, {});
    const accounts = new PgAccountRepo(pool, sealer);
    const keyring = new KeyRing(Buffer.alloc(32));
    const store = partitionable(new PgClusterStore(pool, database.url));
    const cluster = new ClusterNode(store, keyring, { leaseMs: LEASE_MS, reload: async () => keyring.loadAll(await accounts.list()), logger: quiet });
    await cluster.start();
    const node = { keyring, cluster, store, accounts };
    nodes.push(node);
    return node;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cluster-'));
    database = await createTestDatabase('mlspace_cluster');
    const pool = database.pool(1);
    await migratePostgres(pool);
    await new PgAccountRepo(pool, Sealer.open(dir, {})).create({
      name: 'clusteracct',
      keys: [KEY1, KEY2],
      keyCreated: [1, 1],
      allowSharedKeyAccess: true,
      created: 1,
      resourceGroup: 'rg',
      settings: { location: 'eastus', skuName: 'Standard_LRS', kind: 'StorageV2', tags: {}, properties: {} },
    });
  });
  afterAll(async () => {
    for (const node of nodes) await node.cluster.stop();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const key1Of = (node: Node) => node.keyring.get('clusteracct')?.keys[0]?.toString('base64');

  it('serve once joined, with the keys the database holds; a node alone is sole until another has joined', async () => {
    const a = await startNode();
    expect(a.cluster.sole()).toBeDefined();
    const b = await startNode();
    // B's start returned once A had checked in at the epoch B moved on, which ended A's being alone.
    expect([a.cluster.sole(), b.cluster.sole()]).toEqual([undefined, undefined]);
    expect([a.keyring.current(), b.keyring.current()]).toEqual([true, true]);
    expect([key1Of(a), key1Of(b)]).toEqual([KEY1, KEY1]);
    // Each learns of the other at its next check-in: orphaned content then stays a while for the other's reads.
    await expect.poll(() => a.cluster.othersLive && b.cluster.othersLive).toBe(true);
  });

  it('a key changed through one node is loaded by every node before the change returns', async () => {
    const [a, b] = nodes as [Node, Node];
    for (let round = 0; round < 20; round++) {
      const key = Buffer.alloc(64, 10 + round).toString('base64');
      const updated = await a.accounts.setKey('clusteracct', 0, key, Date.now());
      await a.keyring.changed(updated!);
      expect(key1Of(b)).toBe(key);
    }
  });

  it('a node cut off from the database stops confirming its keys within its lease, and the writer waits no longer than that', async () => {
    const [a, b] = nodes as [Node, Node];
    b.store.cut = true;
    const started = performance.now();
    const updated = await a.accounts.setKey('clusteracct', 0, KEY1, Date.now());
    await a.keyring.changed(updated!);
    const waited = performance.now() - started;
    // B kept its old key, but no longer vouches for it: its lease ran out before A's change returned.
    expect(key1Of(b)).not.toBe(KEY1);
    expect(b.keyring.current()).toBe(false);
    expect(waited).toBeLessThan(LEASE_MS * 3);
    // A, alone as far as the database knows, is sole again: a new stretch, since B wrote nothing it could know of.
    await expect.poll(() => a.cluster.sole(), { timeout: 5000 }).toBeDefined();
    const stretch = a.cluster.sole();
    b.store.cut = false;
    await expect.poll(() => b.keyring.current(), { timeout: 5000 }).toBe(true);
    expect(key1Of(b)).toBe(KEY1);
    // B came back from a lapse: it vouched for its keys again only once A had stopped being sole.
    expect(a.cluster.sole()).toBeUndefined();
    expect(stretch).toBeDefined();
  });

  it('a node that leaves is not waited for, and the one left knows it is alone', async () => {
    const [a, b] = nodes as [Node, Node];
    expect(await a.cluster.alone(async (othersLive) => othersLive)).toBe(true);
    await b.cluster.stop();
    expect(await a.cluster.alone(async (othersLive) => othersLive)).toBe(false);
    await expect.poll(() => a.cluster.othersLive).toBe(false);
    nodes.splice(1, 1);
    const started = performance.now();
    const updated = await a.accounts.setKey('clusteracct', 1, KEY1, Date.now());
    await a.keyring.changed(updated!);
    expect(performance.now() - started).toBeLessThan(LEASE_MS / 2);
  });

  it('a node joins only once a node alone has finished what needed it alone', async () => {
    const [a] = nodes as [Node];
    let finish = () => {};
    const holding = a.cluster.alone(() => new Promise<void>((resolve) => (finish = resolve)));
    let joined = false;
    const joining = startNode().then(() => (joined = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(joined).toBe(false);
    finish();
    await Promise.all([holding, joining]);
    expect(joined).toBe(true);
  });
});
