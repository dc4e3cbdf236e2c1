import type { Sealer } from '../secrets/seal.js';
import type { AccountRecord, AccountSettings, StorageAccountRecord } from './records.js';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

/** An accounts row, in either dialect (PostgreSQL hands BIGINT columns over as text). */
export interface AccountRow {
  name: string;
  key1: string;
  key2: string;
  key1_created: number | string;
  key2_created: number | string;
  allow_shared_key: number;
  created: number | string;
  resource_group: string;
  doc: string;
}

/** Accounts created before the management plane (and declared ones) have no ARM attributes yet. */
export const DEFAULT_SETTINGS: AccountSettings = { location: 'local', skuName: 'Standard_LRS', kind: 'StorageV2', tags: {}, properties: {} };

/**
 * Storage accounts, as every dialect stores them (the SQLite one below,
 * src/db/postgres/accounts.ts): their two keys, sealed before they touch the
 * database, and the ARM attributes the management plane keeps.
 */
export interface AccountStore {
  /** In name order, byte-wise. */
  list(): Promise<StorageAccountRecord[]>;
  /** The group's accounts in name order; the group matches without regard to case. */
  listByGroup(resourceGroup: string): Promise<StorageAccountRecord[]>;
  get(name: string): Promise<StorageAccountRecord | undefined>;
  /** Creates or re-keys an account declared at start-up; its group and settings are left alone. */
  put(account: AccountRecord): Promise<void>;
  /** Creates an account through the management plane; false when the name is taken (names are server-wide). */
  create(account: StorageAccountRecord): Promise<boolean>;
  /** Replaces the ARM settings and the shared-key switch; keys are changed only by `setKey`. */
  saveSettings(name: string, allowSharedKeyAccess: boolean, settings: AccountSettings): Promise<void>;
  /** Replaces one key (0 = key1, 1 = key2) and returns the account as it now is. */
  setKey(name: string, index: 0 | 1, key: string, created: number): Promise<StorageAccountRecord | undefined>;
  delete(name: string): Promise<boolean>;
}

/**
 * Storage accounts: their two keys, sealed before they touch the database, and
 * the ARM attributes the management plane keeps (resource group, settings).
 */
export class AccountRepo implements AccountStore {
  private readonly selectAll;
  private readonly selectByGroup;
  private readonly selectOne;
  private readonly upsert;
  private readonly insert;
  private readonly updateSettings;
  private readonly updateKey;
  private readonly remove;

  constructor(private readonly db: Db, private readonly sealer: Sealer) {
    this.selectAll = db.prepare('SELECT * FROM accounts ORDER BY name');
    this.selectByGroup = db.prepare('SELECT * FROM accounts WHERE resource_group = ? ORDER BY name');
    this.selectOne = db.prepare('SELECT * FROM accounts WHERE name = ?');
    this.upsert = db.prepare(`
      INSERT INTO accounts (name, key1, key2, key1_created, key2_created, allow_shared_key, created)
      VALUES (@name, @key1, @key2, @key1_created, @key2_created, @allow_shared_key, @created)
      ON CONFLICT (name) DO UPDATE SET key1 = excluded.key1, key2 = excluded.key2,
        key1_created = excluded.key1_created, key2_created = excluded.key2_created,
        allow_shared_key = excluded.allow_shared_key`);
    this.insert = db.prepare(`
      INSERT INTO accounts (name, key1, key2, key1_created, key2_created, allow_shared_key, created, resource_group, doc)
      VALUES (@name, @key1, @key2, @key1_created, @key2_created, @allow_shared_key, @created, @resource_group, @doc)
      ON CONFLICT (name) DO NOTHING`);
    this.updateSettings = db.prepare('UPDATE accounts SET allow_shared_key = ?, doc = ? WHERE name = ?');
    this.updateKey = {
      key1: db.prepare('UPDATE accounts SET key1 = ?, key1_created = ? WHERE name = ?'),
      key2: db.prepare('UPDATE accounts SET key2 = ?, key2_created = ? WHERE name = ?'),
    };
    this.remove = db.prepare('DELETE FROM accounts WHERE name = ?');
  }

  async list(): Promise<StorageAccountRecord[]> {
    return (this.selectAll.all() as AccountRow[]).map((row) => accountFromRow(row, this.sealer));
  }

  async listByGroup(resourceGroup: string): Promise<StorageAccountRecord[]> {
    return (this.selectByGroup.all(resourceGroup) as AccountRow[]).map((row) => accountFromRow(row, this.sealer));
  }

  async get(name: string): Promise<StorageAccountRecord | undefined> {
    return this.find(name);
  }

  /** get, within a transaction of this dialect (a rotation's). */
  find(name: string): StorageAccountRecord | undefined {
    const row = this.selectOne.get(name) as AccountRow | undefined;
    return row && accountFromRow(row, this.sealer);
  }

  /** Creates or re-keys an account declared at start-up; its group and settings are left alone. */
  async put(account: AccountRecord): Promise<void> {
    this.upsert.run({ ...this.keyColumns(account), created: account.created });
  }

  /** Creates an account through the management plane; false when the name is taken (names are server-wide). */
  async create(account: StorageAccountRecord): Promise<boolean> {
    const row = {
      ...this.keyColumns(account),
      created: account.created,
      resource_group: account.resourceGroup,
      doc: JSON.stringify(account.settings),
    };
    return this.insert.run(row).changes === 1;
  }

  /** Replaces the ARM settings and the shared-key switch; keys are changed only by `setKey`. */
  async saveSettings(name: string, allowSharedKeyAccess: boolean, settings: AccountSettings): Promise<void> {
    this.updateSettings.run(allowSharedKeyAccess ? 1 : 0, JSON.stringify(settings), name);
  }

  /** Replaces one key (0 = key1, 1 = key2) and returns the account as it now is. */
  async setKey(name: string, index: 0 | 1, key: string, created: number): Promise<StorageAccountRecord | undefined> {
    return transact(this.db, () => this.writeKey(name, index, key, created));
  }

  /** setKey, within a transaction of this dialect (a rotation's regenerate step). */
  writeKey(name: string, index: 0 | 1, key: string, created: number): StorageAccountRecord | undefined {
    this.updateKey[index === 0 ? 'key1' : 'key2'].run(this.sealer.seal(key), created, name);
    return this.find(name);
  }

  async delete(name: string): Promise<boolean> {
    return this.remove.run(name).changes === 1;
  }

  private keyColumns(account: AccountRecord) {
    return {
      name: account.name,
      key1: this.sealer.seal(account.keys[0]),
      key2: this.sealer.seal(account.keys[1]),
      key1_created: account.keyCreated[0],
      key2_created: account.keyCreated[1],
      allow_shared_key: account.allowSharedKeyAccess ? 1 : 0,
    };
  }

}

/** An account as its row holds it: keys unsealed, settings filled from the defaults. */
export function accountFromRow(row: AccountRow, sealer: Sealer): StorageAccountRecord {
  return {
    name: row.name,
    keys: [sealer.unseal(row.key1), sealer.unseal(row.key2)],
    keyCreated: [Number(row.key1_created), Number(row.key2_created)],
    allowSharedKeyAccess: row.allow_shared_key === 1,
    created: Number(row.created),
    resourceGroup: row.resource_group,
    settings: { ...DEFAULT_SETTINGS, ...(JSON.parse(row.doc) as Partial<AccountSettings>) },
  };
}
