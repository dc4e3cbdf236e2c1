import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgResourceGroupRepo } from '../../src/db/postgres/resource-groups.js';
import { BUILTIN_RESOURCE_GROUP, ResourceGroupRepo, type ResourceGroupStore } from '../../src/db/resource-groups.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/**
 * One suite, every dialect: each store of the metadata interface must behave
 * the same over SQLite and over PostgreSQL (MinIO's ObjectLayer tests are the
 * model). Stores join as their PostgreSQL dialect is written.
 */
interface Dialect {
  groups: ResourceGroupStore;
  close(): Promise<void>;
}

async function sqliteDialect(): Promise<Dialect> {
  const { db, close } = sqliteScratch();
  return { groups: new ResourceGroupRepo(db), close };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, close } = await postgresScratch('mlspace_stores');
  return { groups: new PgResourceGroupRepo(pool), close };
}

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('the metadata stores over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
  });
  afterAll(() => stores?.close());

  it('keep resource groups: names unique and found in any case, tags changed, deleted once', async () => {
    const { groups } = stores;
    expect((await groups.get(BUILTIN_RESOURCE_GROUP))?.location).toBe('local');
    const group = { name: 'RG-Contract', location: 'eastus', tags: { team: 'ml' }, created: 1_700_000_000_123 };
    expect(await groups.create(group)).toBe(true);
    expect(await groups.create({ ...group, name: 'rg-contract' })).toBe(false);
    expect(await groups.get('rg-CONTRACT')).toEqual(group);
    await groups.create({ name: 'alpha', location: 'westus', tags: {}, created: 1 });
    expect((await groups.list()).map((each) => each.name)).toEqual(['alpha', 'mlspace-builtin', 'RG-Contract']);
    await groups.saveTags({ ...group, tags: { team: 'data' }, managedBy: '/subscriptions/x' });
    expect(await groups.get('RG-Contract')).toEqual({ ...group, tags: { team: 'data' }, managedBy: '/subscriptions/x' });
    expect(await groups.delete('rg-contract')).toBe(true);
    expect(await groups.delete('rg-contract')).toBe(false);
    expect(await groups.get('RG-Contract')).toBeUndefined();
  });
});
