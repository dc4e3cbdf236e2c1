import type pg from 'pg';
import { refuseUnknownMigrations } from '../schema.js';
import { postgresMigrations } from './schema.js';
import { transaction } from './sql.js';

/**
 * The advisory lock every mlspace node takes to change the schema: the first
 * node creates it, the others wait, then find it done. (A fixed 64-bit id; it
 * spells "mlspace" in ASCII.)
 */
const SCHEMA_LOCK = '30792346751705957';

/**
 * Brings a PostgreSQL database to this release's schema, all pending
 * migrations in one transaction under the schema lock; answers the names it
 * applied. A database migrated by a newer release is refused: this one does
 * not know what those migrations changed.
 */
export function migratePostgres(pool: pg.Pool): Promise<string[]> {
  return transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    // ARM names (resource groups, workspaces) compare without regard to case, as SQLite's NOCASE does.
    await client.query("CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)");
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied BIGINT NOT NULL)');
    const applied = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((row) => row.name));
    refuseUnknownMigrations(applied, postgresMigrations);
    const ran: string[] = [];
    for (const migration of postgresMigrations) {
      if (applied.has(migration.name)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (name, applied) VALUES ($1, $2)', [migration.name, Date.now()]);
      ran.push(migration.name);
    }
    return ran;
  });
}
