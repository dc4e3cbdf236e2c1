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
