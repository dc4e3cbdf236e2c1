import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { DirectoryStore, RoleName, ServicePrincipalRecord } from '../directory.js';

interface PrincipalRow {
  client_id: string;
  display_name: string;
  role: RoleName;
  secret_hash: string;
  /** BIGINT: pg hands it over as text. */
  created: string;
}

/** The PostgreSQL dialect's directory; nodes starting together agree on the ids, the first writer's. */
export class PgDirectoryRepo implements DirectoryStore {
  constructor(private readonly pool: pg.Pool) {}

  async ids(): Promise<{ tenantId: string; subscriptionId: string }> {
    await this.pool.query("INSERT INTO directory (name, value) VALUES ('tenantId', $1), ('subscriptionId', $2) ON CONFLICT DO NOTHING", [randomUUID(), randomUUID()]);
    const { rows } = await this.pool.query<{ name: string; value: string }>("SELECT name, value FROM directory WHERE name IN ('tenantId', 'subscriptionId')");
    const value = (name: string) => rows.find((row) => row.name === name)!.value;
    return { tenantId: value('tenantId'), subscriptionId: value('subscriptionId') };
  }

  async getPrincipal(clientId: string): Promise<ServicePrincipalRecord | undefined> {
    const { rows } = await this.pool.query<PrincipalRow>('SELECT client_id, display_name, role, secret_hash, created FROM service_principals WHERE client_id = $1', [clientId]);
    const row = rows[0];
    return row && { clientId: row.client_id, displayName: row.display_name, role: row.role, secretHash: row.secret_hash, created: Number(row.created) };
  }

  async addPrincipal(principal: ServicePrincipalRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO service_principals (client_id, display_name, role, secret_hash, created) VALUES ($1, $2, $3, $4, $5)',
      [principal.clientId, principal.displayName, principal.role, principal.secretHash, principal.created],
    );
  }
}
