import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRepo, type AccountStore } from '../../src/db/accounts.js';
import { ConsumerRepo, type ConsumerStore } from '../../src/db/consumers.js';
import { DatastoreRepo, type DatastoreRecord } from '../../src/db/datastores.js';
import { DirectoryRepo, type DirectoryStore } from '../../src/db/directory.js';
import { PgAccountRepo } from '../../src/db/postgres/accounts.js';
import { PgConsumerRepo } from '../../src/db/postgres/consumers.js';
import { PgDatastoreRepo } from '../../src/db/postgres/datastores.js';
import { PgDirectoryRepo } from '../../src/db/postgres/directory.js';
import { PgRotationRepo } from '../../src/db/postgres/rotations.js';
import { PgWorkspaceRepo } from '../../src/db/postgres/workspaces.js';
import { RotationRepo, type RotationStore, type SubjectState } from '../../src/db/rotations.js';
import { WorkspaceRepo, type WorkspaceStore } from '../../src/db/workspaces.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/** Credential holders and the rotation journal's steps, the same over SQLite and over PostgreSQL. */
interface Dialect {
  accounts: AccountStore;
  workspaces: WorkspaceStore;
  consumers: ConsumerStore;
  rotations: RotationStore;
  directory: DirectoryStore;
  close(): Promise<void>;
}

async function sqliteDialect(): Promise<Dialect> {
  const { db, sealer, close } = sqliteScratch();
  const accounts = new AccountRepo(db, sealer);
  const consumers = new ConsumerRepo(db, sealer);
  const directory = new DirectoryRepo(db);
  return { accounts, workspaces: new WorkspaceRepo(db, sealer, new DatastoreRepo(db, sealer)), consumers, directory, rotations: new RotationRepo(db, accounts, consumers, directory), close };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, sealer, close } = await postgresScratch('mlspace_rotations', 4);
  const accounts = new PgAccountRepo(pool, sealer);
  const consumers = new PgConsumerRepo(pool, sealer);
  const directory = new PgDirectoryRepo(pool);
  return {
    accounts,
    workspaces: new PgWorkspaceRepo(pool, sealer, new PgDatastoreRepo(pool, sealer)),
    consumers,
    directory,
    rotations: new PgRotationRepo(pool, accounts, consumers, directory),
    close,
  };
}

const KEY1 = Buffer.alloc(64, 1).toString('base64');
const KEY2 = Buffer.alloc(64, 2).toString('base64');
const NEW_KEY1 = Buffer.alloc(64, 3).toString('base64');

function datastore(name: string, system: boolean, secret: string, credentialsType: 'AccountKey' | 'Sas' = 'AccountKey'): DatastoreRecord {
  return {
    workspaceId: 'ws-1',
    name,
    system,
    isDefault: false,
    type: 'AzureBlob',
    accountName: 'rotacct',
    containerName: 'data',
    endpoint: 'core.windows.net',
    protocol: 'https',
    credentialsType,
    secret,
    tags: {},
    properties: {},
    created: 1,
    modified: 1,
  };
}

const plan = { retiredKey: 'key1', counts: { consumers: 3 } };
const rotation = (id: string) => ({ id, kind: 'accountKey' as const, account: 'rotacct', resourceGroup: 'RG-Rot', retireIndex: 0 as const, reissueSas: false, plan, callerId: 'c', callerName: 'admin', created: 1_700_000_000_000, owner: 'node-a', leaseMs: 60_000 });
const entry = (step: string, detail: Record<string, unknown> = {}) => ({ step, phase: 'done' as const, detail });

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('credential holders and rotation steps over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
    await stores.accounts.create({ name: 'rotacct', keys: [KEY1, KEY2], keyCreated: [1, 1], allowSharedKeyAccess: true, created: 1, resourceGroup: 'RG-Rot', settings: { location: 'eastus', skuName: 'Standard_LRS', kind: 'StorageV2', tags: {}, properties: {} } });
    await stores.workspaces.create(
      { id: 'ws-1', resourceGroup: 'RG-Rot', name: 'rotws', storageAccount: 'rotacct', storageKey: KEY1, settings: { location: 'eastus', tags: {} } as never, created: 1, modified: 1 },
      [datastore('workspaceblobstore', true, KEY1), datastore('userdata', false, KEY2), datastore('shared', false, 'sv=2022-11-02&sig=x', 'Sas')],
    );
  });
  afterAll(() => stores?.close());

  const secrets = async () => Object.fromEntries((await stores.consumers.byAccount('rotacct')).map((holder) => [holder.ref, holder.secret]));

  it('find every holder of an account, in the same order', async () => {
    const holders = await stores.consumers.byAccount('rotacct');
    expect(holders.map((holder) => [holder.ref, holder.credentialsType])).toEqual([
      ['workspace:ws-1', 'AccountKey'],
      ['datastore:ws-1/shared', 'Sas'],
      ['datastore:ws-1/userdata', 'AccountKey'],
      ['datastore:ws-1/workspaceblobstore', 'AccountKey'],
    ]);
    expect(stores.consumers.fingerprint(holders[0]!).equals(stores.consumers.fingerprintOfSecret(KEY1))).toBe(true);
  });

  it('start one rotation per account, journaled from its plan', async () => {
    expect(await stores.rotations.start(rotation('rot-1'), { counts: plan.counts })).toBe(true);
    expect(await stores.rotations.start(rotation('rot-2'), {})).toBe(false);
    expect((await stores.rotations.running('rotacct'))?.id).toBe('rot-1');
    expect((await stores.rotations.steps('rot-1')).map((step) => [step.seq, step.step, step.phase, step.detail])).toEqual([[1, 'plan', 'done', { counts: plan.counts }]]);
    expect(await stores.rotations.reached('rot-1', 'plan', 'done')).toBe(true);
    expect(await stores.rotations.reached('rot-1', 'move', 'done')).toBe(false);
  });

  it('move consumers in one step with its journal entry, and nothing when the decision throws', async () => {
    const mover = (state: SubjectState) => {
      const kept = state.kind === 'accountKey' ? state.account!.keys[1] : '';
      const changes = state.holders
        .filter((holder) => holder.credentialsType === 'AccountKey' && holder.secret === KEY1)
        .map((holder) => ({ holder: holder as never, resourceId: `/id/${holder.ref}`, action: 'moveKey' as const, newSealed: stores.consumers.seal(kept) }));
      return { changes, result: { moveKey: changes.length } };
    };
    const refuse = (): never => {
      throw new Error('refused');
    };
    await expect(stores.rotations.moveConsumers('rot-1', 'accountKey', 'rotacct', refuse, () => entry('move'))).rejects.toThrow('refused');
    expect(await secrets()).toMatchObject({ 'workspace:ws-1': KEY1 });
    expect(await stores.rotations.reached('rot-1', 'move', 'done')).toBe(false);
    const moved = await stores.rotations.moveConsumers('rot-1', 'accountKey', 'rotacct', mover, (counts) => entry('move', counts));
    expect(moved).toEqual({ moveKey: 2 });
    expect(await secrets()).toMatchObject({ 'workspace:ws-1': KEY2, 'datastore:ws-1/workspaceblobstore': KEY2, 'datastore:ws-1/userdata': KEY2 });
    const moves = await stores.rotations.moves('rot-1');
    expect(moves.map((move) => [move.consumer, move.state, stores.consumers.unseal(move.oldSealed) === KEY1])).toEqual([
      ['datastore:ws-1/workspaceblobstore', 'moved', true],
      ['workspace:ws-1', 'moved', true],
    ]);
    expect((await stores.rotations.steps('rot-1')).at(-1)).toMatchObject({ step: 'move', detail: { moveKey: 2 } });
  });

  it('settle moves, and count them', async () => {
    await stores.rotations.settleMoves('rot-1', (moves) => moves.map((move) => ({ consumer: move.consumer, state: move.consumer.startsWith('workspace') ? 'verified' : 'failed', detail: 'why' })), entry('verify-moved'));
    expect((await stores.rotations.moveCounts('rot-1')).sort((a, b) => a.state.localeCompare(b.state))).toEqual([
      { state: 'failed', action: 'moveKey', n: 1 },
      { state: 'verified', action: 'moveKey', n: 1 },
    ]);
  });

  it('regenerate a key only when the decision says no one relies on it, with its journal entry', async () => {
    expect(await stores.rotations.regenerateKey('rot-1', 'rotacct', 0, NEW_KEY1, () => false, entry('regenerate'))).toBe(false);
    expect((await stores.accounts.get('rotacct'))!.keys[0]).toBe(KEY1);
    const regenerated = await stores.rotations.regenerateKey('rot-1', 'rotacct', 0, NEW_KEY1, (state) => state.kind === 'accountKey' && state.account !== undefined && state.holders.length === 4, entry('regenerate', { keyName: 'key1' }));
    expect(regenerated && regenerated.keys).toEqual([NEW_KEY1, KEY2]);
    expect(await stores.rotations.reached('rot-1', 'regenerate', 'done')).toBe(true);
  });

  it('roll moves back where the holder still has what the rotation gave it, and leave the others', async () => {
    await stores.workspaces.resyncKey((await stores.workspaces.get('rg-rot', 'rotws'))!, NEW_KEY1, 2);
    await stores.rotations.rollbackMoves('rot-1', (move, current) => current !== undefined && stores.consumers.unseal(current) === stores.consumers.unseal(move.newSealed), (counts) => entry('rollback', counts));
    expect((await stores.rotations.steps('rot-1')).at(-1)).toMatchObject({ step: 'rollback', detail: { restored: 0, changedElsewhere: 2 } });
    expect((await stores.rotations.moves('rot-1')).map((move) => move.state)).toEqual(['changedElsewhere', 'changedElsewhere']);
  });

  it('lease a rotation to one node at a time, to another once the lease runs out or is given up', async () => {
    expect(await stores.rotations.claim('rot-1', 'node-a', 60_000)).toBe(true);
    expect(await stores.rotations.claim('rot-1', 'node-b', 60_000)).toBe(false);
    expect(await stores.rotations.claim('rot-1', 'node-a', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await stores.rotations.claim('rot-1', 'node-b', 60_000)).toBe(true);
    expect(await stores.rotations.claim('rot-1', 'node-a', 60_000)).toBe(false);
    expect(await stores.rotations.claim('rot-1', 'node-a', 60_000, true)).toBe(true);
    await stores.rotations.release('rot-1', 'node-b');
    expect(await stores.rotations.claim('rot-1', 'node-b', 60_000)).toBe(false);
    await stores.rotations.release('rot-1', 'node-a');
    expect(await stores.rotations.claim('rot-1', 'node-b', 60_000)).toBe(true);
  });

  it('count restarts, and end the rotation', async () => {
    await stores.rotations.countAttempt('rot-1', entry('restart', { attempt: 2 }));
    expect((await stores.rotations.get('rot-1'))!.attempts).toBe(2);
    expect((await stores.rotations.unfinished()).map((each) => each.id)).toEqual(['rot-1']);
    await stores.rotations.setError('rot-1', { code: 'Test', message: 'rolled back' });
    await stores.rotations.finish('rot-1', 'Failed', { code: 'Test', message: 'rolled back' });
    expect(await stores.rotations.running('rotacct')).toBeUndefined();
    const [ended] = await stores.rotations.recent('rotacct', 5);
    expect([ended!.status, ended!.error, typeof ended!.ended, ended!.created]).toEqual(['Failed', { code: 'Test', message: 'rolled back' }, 'number', 1_700_000_000_000]);
    expect(await stores.rotations.start(rotation('rot-2'), {})).toBe(true);
    expect(await stores.rotations.claim('rot-1', 'node-b', 60_000, true)).toBe(false);
  });

  it("reset a principal's secret: its datastores in every account move, and only the kept hash stays, with its journal entry", async () => {
    const clientId = '11111111-2222-4333-8444-555555555555';
    await stores.directory.addPrincipal({ clientId, displayName: 'etl', secretHash: 'old1 old2', created: 1 }, []);
    await stores.workspaces.create({ id: 'ws-2', resourceGroup: 'RG-Rot', name: 'spws', storageAccount: 'rotacct', storageKey: KEY1, settings: { location: 'eastus', tags: {} } as never, created: 1, modified: 1 }, [
      { ...datastore('etl', false, 'old-secret'), workspaceId: 'ws-2', accountName: 'otheracct', credentialsType: 'ServicePrincipal', servicePrincipal: { tenantId: 't', clientId } },
    ]);
    const reset = { ...rotation('rot-sp'), kind: 'clientSecret' as const, account: clientId, resourceGroup: '', newSealed: stores.consumers.seal('new-secret') };
    expect(await stores.rotations.start(reset, {})).toBe(true);
    expect((await stores.rotations.get('rot-sp'))).toMatchObject({ kind: 'clientSecret', account: clientId });
    expect(stores.consumers.unseal((await stores.rotations.get('rot-sp'))!.newSealed!)).toBe('new-secret');
    let seen: SubjectState | undefined;
    await stores.rotations.moveConsumers('rot-sp', 'clientSecret', clientId, (state) => {
      seen = state;
      return { changes: state.holders.map((holder) => ({ holder, resourceId: `/id/${holder.ref}`, action: 'moveSecret' as const, newSealed: reset.newSealed })), result: {} };
    }, () => entry('move'));
    expect(seen).toMatchObject({ kind: 'clientSecret', principal: { clientId, secretHash: 'old1 old2' }, holders: [{ ref: 'datastore:ws-2/etl', accountName: 'otheracct', clientId, credentialsType: 'ServicePrincipal' }] });
    expect((await stores.consumers.principalHolders(clientId)).map((holder) => holder.secret)).toEqual(['new-secret']);
    expect(await stores.rotations.retireSecrets('rot-sp', clientId, 'kept', () => false, entry('regenerate'))).toBe(false);
    expect((await stores.directory.getPrincipal(clientId))!.secretHash).toBe('old1 old2');
    expect(await stores.rotations.retireSecrets('rot-sp', clientId, 'kept', () => true, entry('regenerate'))).toBe(true);
    expect((await stores.directory.getPrincipal(clientId))!.secretHash).toBe('kept');
    expect(await stores.rotations.reached('rot-sp', 'regenerate', 'done')).toBe(true);
  });
});

describe('rotation steps over PostgreSQL while the lease is renewed', () => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await postgresDialect();
  });
  afterAll(() => stores?.close());

  it('a step longer than the renewals around it commits: each renewal waits for it rather than make it fail', async () => {
    await stores.accounts.create({ name: 'rotacct', keys: [KEY1, KEY2], keyCreated: [1, 1], allowSharedKeyAccess: true, created: 1, resourceGroup: 'RG-Rot', settings: { location: 'eastus', skuName: 'Standard_LRS', kind: 'StorageV2', tags: {}, properties: {} } });
    const many = Array.from({ length: 400 }, (_, i) => datastore(`data${i}`, false, KEY1));
    await stores.workspaces.create(
      { id: 'ws-1', resourceGroup: 'RG-Rot', name: 'rotws', storageAccount: 'rotacct', storageKey: KEY1, settings: { location: 'eastus', tags: {} } as never, created: 1, modified: 1 },
      many,
    );
    await stores.rotations.start(rotation('rot-long'), {});
    // The running node renews its lease every few milliseconds, as RotationLease does every third of its lease.
    let renewing = true;
    const renewals = (async () => {
      let renewed = 0;
      while (renewing) {
        if (await stores.rotations.claim('rot-long', 'node-a', 60_000)) renewed++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return renewed;
    })();
    const moveAll = (state: SubjectState) => {
      const changes = state.holders.map((holder) => ({ holder: holder as never, resourceId: `/id/${holder.ref}`, action: 'moveKey' as const, newSealed: stores.consumers.seal(KEY2) }));
      return { changes, result: { moveKey: changes.length } };
    };
    try {
      expect(await stores.rotations.moveConsumers('rot-long', 'accountKey', 'rotacct', moveAll, (counts) => entry('move', counts))).toEqual({ moveKey: 401 });
    } finally {
      renewing = false;
    }
    expect(await renewals).toBeGreaterThan(0);
    expect((await stores.rotations.steps('rot-long')).at(-1)).toMatchObject({ step: 'move', detail: { moveKey: 401 } });
  });
});
