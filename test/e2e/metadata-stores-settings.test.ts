import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountDeclarationRepo, type AccountDeclarationStore } from '../../src/db/account-declarations.js';
import { PgAccountDeclarationRepo } from '../../src/db/postgres/account-declarations.js';
import { PgSettingsRepo } from '../../src/db/postgres/settings.js';
import { SettingsRepo, type SettingsStore } from '../../src/db/settings.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/** The settings and account-declaration stores, which must behave the same over SQLite and over PostgreSQL. */
interface Dialect {
  settings: SettingsStore;
  declarations: AccountDeclarationStore;
  close(): Promise<void>;
}

async function sqliteDialect(): Promise<Dialect> {
  const { db, sealer, close } = sqliteScratch();
  return { settings: new SettingsRepo(db), declarations: new AccountDeclarationRepo(db, sealer), close };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, sealer, close } = await postgresScratch('mlspace_settings');
  return { settings: new PgSettingsRepo(pool), declarations: new PgAccountDeclarationRepo(pool, sealer), close };
}

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('the settings and declaration stores over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
  });
  afterAll(() => stores?.close());

  it('keep a setting as its first writer set it', async () => {
    const { settings } = stores;
    expect(await settings.get('unknown')).toBeUndefined();
    await settings.setOnce('masterKeyCheckTest', 'first');
    expect(await settings.get('masterKeyCheckTest')).toBe('first');
    await settings.setOnce('masterKeyCheckTest', 'second');
    expect(await settings.get('masterKeyCheckTest')).toBe('first');
  });

  it('keep the last declaration of each account, unsealed when read', async () => {
    const { declarations } = stores;
    expect(await declarations.get('unknown')).toBeUndefined();
    await declarations.set('acct1', 'key1:');
    expect(await declarations.get('acct1')).toBe('key1:');
    await declarations.set('acct1', 'key1b:key2b');
    expect(await declarations.get('acct1')).toBe('key1b:key2b');
    expect(await declarations.get('acct2')).toBeUndefined();
  });
});
