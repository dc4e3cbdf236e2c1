import type pg from 'pg';
import type { SettingsStore } from '../settings.js';

/** The PostgreSQL dialect's settings: the first writer's value stays, as on SQLite. */
export class PgSettingsRepo implements SettingsStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(name: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM settings WHERE name = $1', [name]);
    return rows[0]?.value;
  }

  async setOnce(name: string, value: string): Promise<void> {
    await this.pool.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [name, value]);
  }
}

/**
 * The PostgreSQL side of masterKeyEvidence (src/db/settings.ts): read before
 * any migration, from whichever of the tables the database already has.
 */
export async function pgMasterKeyEvidence(pool: pg.Pool): Promise<{ check?: string; sealed?: string }> {
  const { rows } = await pool.query<{ settings: string | null; accounts: string | null }>(
    "SELECT to_regclass('settings')::text AS settings, to_regclass('accounts')::text AS accounts",
  );
  const tables = rows[0]!;
  const check = tables.settings ? (await pool.query<{ value: string }>("SELECT value FROM settings WHERE name = 'masterKeyCheck'")).rows[0]?.value : undefined;
  const sealed = tables.accounts ? (await pool.query<{ key1: string }>('SELECT key1 FROM accounts LIMIT 1')).rows[0]?.key1 : undefined;
  return { check, sealed };
}
