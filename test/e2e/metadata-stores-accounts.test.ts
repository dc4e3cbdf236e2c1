import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountRepo, type AccountStore } from '../../src/db/accounts.js';
import { ActivityRepo, type ActivityRecord, type ActivityStore } from '../../src/db/activity-log.js';
import { PgAccountRepo } from '../../src/db/postgres/accounts.js';
import { PgActivityRepo } from '../../src/db/postgres/activity-log.js';
import type { AccountSettings, StorageAccountRecord } from '../../src/db/records.js';
import { BUILTIN_RESOURCE_GROUP } from '../../src/db/resource-groups.js';
import { Sealer } from '../../src/secrets/seal.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/**
 * The accounts and activity-log stores, over every dialect: each must behave
 * the same over SQLite and over PostgreSQL (as test/e2e/metadata-stores.test.ts).
 */
interface Dialect {
  accounts: AccountStore;
  activity: ActivityStore;
  /** Accounts of the same database, read with another sealer. */
  accountsWith(sealer: Sealer): AccountStore;
  close(): Promise<void>;
}

/** A sealer with a master key of its own, made in a directory of its own. */
function newSealer(dirs: string[]): Sealer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-sealer-'));
  dirs.push(dir);
  return Sealer.open(dir, {});
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function sqliteDialect(): Promise<Dialect> {
  const { db, sealer, close } = sqliteScratch();
  return { accounts: new AccountRepo(db, sealer), activity: new ActivityRepo(db), accountsWith: (other) => new AccountRepo(db, other), close };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, sealer, close } = await postgresScratch('mlspace_stores_accounts');
  return { accounts: new PgAccountRepo(pool, sealer), activity: new PgActivityRepo(pool), accountsWith: (other) => new PgAccountRepo(pool, other), close };
}

const SETTINGS: AccountSettings = { location: 'eastus', skuName: 'Standard_GRS', kind: 'StorageV2', tags: { team: 'ml' }, properties: { accessTier: 'Hot' } };

function account(name: string, resourceGroup: string): StorageAccountRecord {
  return {
    name,
    keys: [`${name}-key1`, `${name}-key2`],
    keyCreated: [1_700_000_000_001, 1_700_000_000_002],
    allowSharedKeyAccess: true,
    created: 1_700_000_000_000,
    resourceGroup,
    settings: SETTINGS,
  };
}

const T = 1_700_000_000_000;
const STORAGE_ID = '/subscriptions/sub/resourceGroups/RG-Act/providers/Microsoft.Storage/storageAccounts/alpha';

function event(id: string, at: number, overrides: Partial<ActivityRecord> = {}): ActivityRecord {
  return {
    id,
    at,
    resourceGroup: 'RG-Act',
    resourceId: STORAGE_ID,
    operation: 'Microsoft.Storage/storageAccounts/regenerateKey/action',
    status: 'Succeeded',
    callerId: 'caller-1',
    callerName: 'Ada',
    correlationId: 'corr-1',
    properties: { keyName: 'key1' },
    ...overrides,
  };
}

/** Added out of order; four share T + 10 so that the id breaks the tie (byte-wise: 'E' before 'b'). */
const EVENTS: ActivityRecord[] = [
  event('c', T + 10),
  event('a', T),
  event('E', T + 10, { status: 'Started' }),
  event('d', T + 10, { correlationId: 'corr-2' }),
  event('b', T + 10, { resourceGroup: 'other-rg', resourceId: '/subscriptions/sub/resourceGroups/other-rg/providers/Microsoft.Storage/storageAccounts/beta' }),
  event('f', T + 20, { resourceGroup: undefined, resourceId: '/subscriptions/sub', operation: 'Microsoft.StorageSync/storageSyncServices/write', properties: {} }),
  event('g', T + 30, { operation: 'Microsoft.MachineLearningServices/workspaces/listKeys/action', status: 'Failed', properties: { error: 'denied', detail: 'x' } }),
  event('z', T + 1_000),
];

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('the account and activity stores over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
  });
  afterAll(() => stores?.close());

  it('create accounts, found by name and listed byte-wise, by group in any case', async () => {
    const { accounts } = stores;
    const alpha = account('alpha', 'RG-Mixed');
    expect(await accounts.create(alpha)).toBe(true);
    expect(await accounts.create(account('beta', 'rg-mixed'))).toBe(true);
    expect(await accounts.create(account('Zulu', 'other'))).toBe(true);
    expect(await accounts.create(account('a_b', 'RG-MIXED'))).toBe(true);
    expect(await accounts.create({ ...account('alpha', 'elsewhere'), keys: ['x', 'y'] })).toBe(false);

    expect(await accounts.get('alpha')).toEqual(alpha);
    expect(await accounts.get('nobody')).toBeUndefined();
    expect((await accounts.list()).map((each) => each.name)).toEqual(['Zulu', 'a_b', 'alpha', 'beta']);
    const mixed = await accounts.listByGroup('rg-MIXED');
    expect(mixed.map((each) => [each.name, each.resourceGroup])).toEqual([
      ['a_b', 'RG-MIXED'],
      ['alpha', 'RG-Mixed'],
      ['beta', 'rg-mixed'],
    ]);
    expect(mixed[1]).toEqual(alpha);
    expect(await accounts.listByGroup('no-such-group')).toEqual([]);
  });

  it('seal keys at rest: a store with another master key cannot read them', async () => {
    await expect(stores.accountsWith(newSealer(tempDirs)).get('alpha')).rejects.toThrow();
  });

  it('put declared accounts with default settings, and re-key them leaving group and settings alone', async () => {
    const { accounts } = stores;
    const declared = { name: 'devstore', keys: ['d1', 'd2'] as [string, string], keyCreated: [10, 20] as [number, number], allowSharedKeyAccess: true, created: 5 };
    await accounts.put(declared);
    expect(await accounts.get('devstore')).toEqual({
      ...declared,
      resourceGroup: BUILTIN_RESOURCE_GROUP,
      settings: { location: 'local', skuName: 'Standard_LRS', kind: 'StorageV2', tags: {}, properties: {} },
    });

    const rekeyed = { name: 'alpha', keys: ['n1', 'n2'] as [string, string], keyCreated: [30, 40] as [number, number], allowSharedKeyAccess: false, created: 999 };
    await accounts.put(rekeyed);
    expect(await accounts.get('alpha')).toEqual({ ...account('alpha', 'RG-Mixed'), keys: ['n1', 'n2'], keyCreated: [30, 40], allowSharedKeyAccess: false });
  });

  it('save settings and the shared-key switch', async () => {
    const { accounts } = stores;
    const settings: AccountSettings = {
      location: 'westeurope',
      skuName: 'Standard_ZRS',
      kind: 'BlobStorage',
      tags: { env: 'prod' },
      keyExpirationPeriodInDays: 90,
      properties: { minimumTlsVersion: 'TLS1_2' },
      blobService: { isVersioningEnabled: true, deleteRetentionPolicy: { enabled: true, days: 7 } },
    };
    await accounts.saveSettings('alpha', true, settings);
    expect(await accounts.get('alpha')).toMatchObject({ allowSharedKeyAccess: true, settings, keys: ['n1', 'n2'], resourceGroup: 'RG-Mixed' });
    await accounts.saveSettings('alpha', false, SETTINGS);
    expect(await accounts.get('alpha')).toMatchObject({ allowSharedKeyAccess: false, settings: SETTINGS });
    // A doc holding only some settings takes the rest from the defaults.
    await accounts.saveSettings('devstore', true, { location: 'northeurope' } as AccountSettings);
    expect((await accounts.get('devstore'))?.settings).toEqual({ location: 'northeurope', skuName: 'Standard_LRS', kind: 'StorageV2', tags: {}, properties: {} });
  });

  it('set one key at a time, answering the account as it now is', async () => {
    const { accounts } = stores;
    const before = (await accounts.get('beta'))!;
    const first = await accounts.setKey('beta', 0, 'beta-new1', 1_800_000_000_001);
    expect(first).toEqual({ ...before, keys: ['beta-new1', 'beta-key2'], keyCreated: [1_800_000_000_001, 1_700_000_000_002] });
    expect(await accounts.get('beta')).toEqual(first);
    const second = await accounts.setKey('beta', 1, 'beta-new2', 1_800_000_000_002);
    expect(second).toEqual({ ...before, keys: ['beta-new1', 'beta-new2'], keyCreated: [1_800_000_000_001, 1_800_000_000_002] });
    expect(await accounts.get('beta')).toEqual(second);
    expect(await accounts.setKey('nobody', 0, 'k', 1)).toBeUndefined();
  });

  it('delete an account once', async () => {
    const { accounts } = stores;
    expect(await accounts.delete('beta')).toBe(true);
    expect(await accounts.delete('beta')).toBe(false);
    expect(await accounts.get('beta')).toBeUndefined();
    expect((await accounts.list()).map((each) => each.name)).toEqual(['Zulu', 'a_b', 'alpha', 'devstore']);
  });

  it('keep the activity log and answer each filter newest first', async () => {
    const { activity } = stores;
    for (const each of EVENTS) await activity.add(each);
    const ids = async (query: Partial<Parameters<ActivityStore['query']>[0]>) =>
      (await activity.query({ from: T, to: T + 30, limit: 100, ...query })).map((each) => each.id);

    // Newest first; at T + 10 by id, byte-wise, descending.
    expect(await ids({})).toEqual(['g', 'f', 'd', 'c', 'b', 'E', 'a']);
    expect(await activity.query({ from: T + 20, to: T + 30, limit: 10 })).toEqual([EVENTS[6], EVENTS[5]]);
    expect(await ids({ from: T + 1, to: T + 10 })).toEqual(['d', 'c', 'b', 'E']);
    expect(await ids({ from: T + 11, to: T + 19 })).toEqual([]);
    expect(await ids({ to: T + 2_000 })).toEqual(['z', 'g', 'f', 'd', 'c', 'b', 'E', 'a']);
    expect(await ids({ resourceGroup: 'rg-act' })).toEqual(['g', 'd', 'c', 'E', 'a']);
    expect(await ids({ resourceGroup: 'OTHER-RG' })).toEqual(['b']);
    expect(await ids({ resourceId: STORAGE_ID.toUpperCase() })).toEqual(['g', 'd', 'c', 'E', 'a']);
    expect(await ids({ resourceId: '/SUBSCRIPTIONS/sub' })).toEqual(['f']);
    expect(await ids({ correlationId: 'corr-2' })).toEqual(['d']);
    expect(await ids({ provider: 'microsoft.STORAGE' })).toEqual(['d', 'c', 'b', 'E', 'a']);
    expect(await ids({ provider: 'Microsoft.StorageSync' })).toEqual(['f']);
    expect(await ids({ resourceGroup: 'RG-Act', provider: 'Microsoft.MachineLearningServices' })).toEqual(['g']);
    expect(await ids({ limit: 3 })).toEqual(['g', 'f', 'd']);
    expect(await ids({ limit: 0 })).toEqual([]);
  });

  it('page the activity log with the (at, id) cursor', async () => {
    const { activity } = stores;
    expect((await activity.query({ from: T, to: T + 30, before: { at: T + 10, id: 'c' }, limit: 10 })).map((each) => each.id)).toEqual(['b', 'E', 'a']);
    expect((await activity.query({ from: T, to: T + 30, before: { at: T + 10, id: 'E' }, limit: 10 })).map((each) => each.id)).toEqual(['a']);
    expect((await activity.query({ from: T, to: T + 30, before: { at: T + 10, id: 'zz' }, limit: 10 })).map((each) => each.id)).toEqual(['d', 'c', 'b', 'E', 'a']);
    expect((await activity.query({ from: T, to: T + 30, before: { at: T + 10.5, id: '' }, limit: 10 })).map((each) => each.id)).toEqual(['d', 'c', 'b', 'E', 'a']);

    const pages: string[][] = [];
    let before: { at: number; id: string } | undefined;
    for (;;) {
      const page = await activity.query({ from: T, to: T + 30, resourceGroup: 'rg-act', before, limit: 2 });
      if (page.length === 0) break;
      pages.push(page.map((each) => each.id));
      const last = page[page.length - 1]!;
      before = { at: last.at, id: last.id };
    }
    expect(pages).toEqual([['g', 'd'], ['c', 'E'], ['a']]);
  });
});
