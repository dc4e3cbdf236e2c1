import type pg from 'pg';
import type { Sealer } from '../../secrets/seal.js';
import { accountFromRow, type AccountRow, type AccountStore } from '../accounts.js';
import type { Queryable } from './sql.js';
import type { AccountRecord, AccountSettings, StorageAccountRecord } from '../records.js';

const COLUMNS = 'name, key1, key2, key1_created, key2_created, allow_shared_key, created, resource_group, doc';
const UPDATE_KEY = {
  key1: `UPDATE accounts SET key1 = $1, key1_created = $2 WHERE name = $3 RETURNING ${COLUMNS}`,
  key2: `UPDATE accounts SET key2 = $1, key2_created = $2 WHERE name = $3 RETURNING ${COLUMNS}`,
};

/** The PostgreSQL dialect's storage accounts: keys sealed as the SQLite dialect seals them, names ordered byte-wise as SQLite orders them. */
export class PgAccountRepo implements AccountStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
  ) {}

  async list(): Promise<StorageAccountRecord[]> {
    const { rows } = await this.pool.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts ORDER BY name COLLATE "C"`);
    return rows.map((row) => accountFromRow(row, this.sealer));
  }

  async listByGroup(resourceGroup: string): Promise<StorageAccountRecord[]> {
    // resource_group has the `nocase` collation: the group matches in any case.
    const { rows } = await this.pool.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE resource_group = $1 ORDER BY name COLLATE "C"`, [resourceGroup]);
    return rows.map((row) => accountFromRow(row, this.sealer));
  }

  get(name: string): Promise<StorageAccountRecord | undefined> {
    return this.find(this.pool, name);
  }

  /** get, on the pool or within a transaction's client (a rotation's). */
  async find(q: Queryable, name: string): Promise<StorageAccountRecord | undefined> {
    const { rows } = await q.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE name = $1`, [name]);
    return rows[0] && accountFromRow(rows[0], this.sealer);
  }

  async put(account: AccountRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO accounts (name, key1, key2, key1_created, key2_created, allow_shared_key, created)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name) DO UPDATE SET key1 = excluded.key1, key2 = excluded.key2,
         key1_created = excluded.key1_created, key2_created = excluded.key2_created,
         allow_shared_key = excluded.allow_shared_key`,
      [...this.keyColumns(account), account.created],
    );
  }

  async create(account: StorageAccountRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO accounts (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING`,
      [...this.keyColumns(account), account.created, account.resourceGroup, JSON.stringify(account.settings)],
    );
    return rowCount === 1;
  }

  async saveSettings(name: string, allowSharedKeyAccess: boolean, settings: AccountSettings): Promise<void> {
    await this.pool.query('UPDATE accounts SET allow_shared_key = $1, doc = $2 WHERE name = $3', [allowSharedKeyAccess ? 1 : 0, JSON.stringify(settings), name]);
  }

  setKey(name: string, index: 0 | 1, key: string, created: number): Promise<StorageAccountRecord | undefined> {
    return this.writeKey(this.pool, name, index, key, created);
  }

  /** setKey, on the pool or within a transaction's client (a rotation's regenerate step). */
  async writeKey(q: Queryable, name: string, index: 0 | 1, key: string, created: number): Promise<StorageAccountRecord | undefined> {
    const { rows } = await q.query<AccountRow>(UPDATE_KEY[index === 0 ? 'key1' : 'key2'], [this.sealer.seal(key), created, name]);
    return rows[0] && accountFromRow(rows[0], this.sealer);
  }

  async delete(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM accounts WHERE name = $1', [name]);
    return rowCount === 1;
  }

  /** name, key1, key2, key1_created, key2_created, allow_shared_key: the first six columns of COLUMNS. */
  private keyColumns(account: AccountRecord): [string, string, string, number, number, number] {
    return [
      account.name,
      this.sealer.seal(account.keys[0]),
      this.sealer.seal(account.keys[1]),
      account.keyCreated[0],
      account.keyCreated[1],
      account.allowSharedKeyAccess ? 1 : 0,
    ];
  }

}
