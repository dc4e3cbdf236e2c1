import type { Sealer } from '../secrets/seal.js';
import type { AccountRecord } from './records.js';
import type { Db } from './sqlite.js';

interface AccountRow {
  name: string;
  key1: string;
  key2: string;
  key1_created: number;
  key2_created: number;
  allow_shared_key: number;
  created: number;
}

/** Storage accounts and their two keys; keys are sealed before they touch the database. */
export class AccountRepo {
  private readonly selectAll;
  private readonly selectOne;
  private readonly upsert;

  constructor(db: Db, private readonly sealer: Sealer) {
    this.selectAll = db.prepare('SELECT * FROM accounts ORDER BY name');
    this.selectOne = db.prepare('SELECT * FROM accounts WHERE name = ?');
    this.upsert = db.prepare(`
      INSERT INTO accounts (name, key1, key2, key1_created, key2_created, allow_shared_key, created)
      VALUES (@name, @key1, @key2, @key1_created, @key2_created, @allow_shared_key, @created)
      ON CONFLICT (name) DO UPDATE SET key1 = excluded.key1, key2 = excluded.key2,
        key1_created = excluded.key1_created, key2_created = excluded.key2_created,
        allow_shared_key = excluded.allow_shared_key`);
  }

  list(): AccountRecord[] {
    return (this.selectAll.all() as AccountRow[]).map((row) => this.fromRow(row));
  }

  get(name: string): AccountRecord | undefined {
    const row = this.selectOne.get(name) as AccountRow | undefined;
    return row && this.fromRow(row);
  }

  put(account: AccountRecord): void {
    this.upsert.run({
      name: account.name,
      key1: this.sealer.seal(account.keys[0]),
      key2: this.sealer.seal(account.keys[1]),
      key1_created: account.keyCreated[0],
      key2_created: account.keyCreated[1],
      allow_shared_key: account.allowSharedKeyAccess ? 1 : 0,
      created: account.created,
    });
  }

  private fromRow(row: AccountRow): AccountRecord {
    return {
      name: row.name,
      keys: [this.sealer.unseal(row.key1), this.sealer.unseal(row.key2)],
      keyCreated: [row.key1_created, row.key2_created],
      allowSharedKeyAccess: row.allow_shared_key === 1,
      created: row.created,
    };
  }
}
