import type { Db } from './sqlite.js';

/**
 * Values of the deployment rather than of a resource, by name (the master
 * key's check value), as every dialect stores them (the SQLite one below,
 * src/db/postgres/settings.ts).
 */
export interface SettingsStore {
  get(name: string): Promise<string | undefined>;
  /** Sets the value unless one is there already: the first writer's value stays. */
  setOnce(name: string, value: string): Promise<void>;
}

/** The SQLite dialect's settings. */
export class SettingsRepo implements SettingsStore {
  private readonly selectOne;
  private readonly insertOne;

  constructor(db: Db) {
    this.selectOne = db.prepare('SELECT value FROM settings WHERE name = ?').pluck();
    this.insertOne = db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING');
  }

  async get(name: string): Promise<string | undefined> {
    return this.selectOne.get(name) as string | undefined;
  }

  async setOnce(name: string, value: string): Promise<void> {
    this.insertOne.run(name, value);
  }
}

/**
 * What tells whether a master key is this database's, read before any
 * migration (a wrong key must change nothing, not even the schema): the
 * recorded check value, and one sealed secret, in whichever of the tables an
 * earlier release created.
 */
export function masterKeyEvidence(db: Db): { check?: string; sealed?: string } {
  const has = (table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
  return {
    check: has('settings') ? (db.prepare("SELECT value FROM settings WHERE name = 'masterKeyCheck'").pluck().get() as string | undefined) : undefined,
    sealed: has('accounts') ? (db.prepare('SELECT key1 FROM accounts LIMIT 1').pluck().get() as string | undefined) : undefined,
  };
}
