import type pg from 'pg';
import type { ServicePropertiesStore } from '../service-properties.js';
import { transaction } from './sql.js';

/**
 * The PostgreSQL dialect's service properties. A set merges its sections into
 * the stored document under an advisory lock on (account, service): there may
 * be no row yet to lock, and two nodes setting different sections at once must
 * both keep theirs. The document stays the JSON text the client's sections made,
 * in their order (jsonb would reorder its keys, and with them the XML's).
 */
export class PgServicePropertiesRepo implements ServicePropertiesStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(account: string, service: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.pool.query<{ doc: string }>('SELECT doc FROM service_properties WHERE account = $1 AND service = $2', [account, service]);
    return rows[0] && JSON.parse(rows[0].doc);
  }

  async set(account: string, service: string, properties: Record<string, unknown>): Promise<void> {
    await transaction(this.pool, async (q) => {
      // Account names hold no '/': the name is this document's alone.
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`service-properties:${account}/${service}`]);
      const { rows } = await q.query<{ doc: string }>('SELECT doc FROM service_properties WHERE account = $1 AND service = $2', [account, service]);
      const doc = JSON.stringify({ ...(rows[0] && JSON.parse(rows[0].doc)), ...properties });
      await q.query(
        'INSERT INTO service_properties (account, service, doc) VALUES ($1, $2, $3) ON CONFLICT (account, service) DO UPDATE SET doc = excluded.doc',
        [account, service, doc],
      );
    });
  }
}
