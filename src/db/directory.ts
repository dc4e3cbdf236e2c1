import { randomUUID } from 'node:crypto';
import type { Db } from './sqlite.js';

export type RoleName = 'Owner' | 'Contributor' | 'Reader' | 'Storage Account Key Operator Service Role';

export interface ServicePrincipalRecord {
  clientId: string;
  displayName: string;
  role: RoleName;
  /** `salt:hash` of the client secret (identity/client-secret.ts); the secret itself is never stored. */
  secretHash: string;
  created: number;
}

interface PrincipalRow {
  client_id: string;
  display_name: string;
  role: RoleName;
  secret_hash: string;
  created: number;
}

/**
 * The directory: the one tenant and subscription this server is, and the
 * service principals (clients) that may call the management plane, as every
 * dialect stores them (the SQLite one below, src/db/postgres/directory.ts).
 */
export interface DirectoryStore {
  /** The tenant and subscription ids: random GUIDs chosen once, on first start, and kept; the first writer's win. */
  ids(): Promise<{ tenantId: string; subscriptionId: string }>;
  getPrincipal(clientId: string): Promise<ServicePrincipalRecord | undefined>;
  /** Throws when a principal of that client id exists. */
  addPrincipal(principal: ServicePrincipalRecord): Promise<void>;
}

/** The SQLite dialect's directory. */
export class DirectoryRepo implements DirectoryStore {
  private readonly getSetting;
  private readonly insertSetting;
  private readonly selectPrincipal;
  private readonly insertPrincipal;

  constructor(private readonly db: Db) {
    this.getSetting = db.prepare('SELECT value FROM directory WHERE name = ?').pluck();
    this.insertSetting = db.prepare('INSERT INTO directory (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING');
    this.selectPrincipal = db.prepare('SELECT * FROM service_principals WHERE client_id = ?');
    this.insertPrincipal = db.prepare(
      'INSERT INTO service_principals (client_id, display_name, role, secret_hash, created) VALUES (@client_id, @display_name, @role, @secret_hash, @created)',
    );
  }

  /** The tenant and subscription ids: random GUIDs chosen once, on first start, and kept. */
  async ids(): Promise<{ tenantId: string; subscriptionId: string }> {
    return this.db.transaction(() => {
      this.insertSetting.run('tenantId', randomUUID());
      this.insertSetting.run('subscriptionId', randomUUID());
      return { tenantId: this.getSetting.get('tenantId') as string, subscriptionId: this.getSetting.get('subscriptionId') as string };
    })();
  }

  async getPrincipal(clientId: string): Promise<ServicePrincipalRecord | undefined> {
    const row = this.selectPrincipal.get(clientId) as PrincipalRow | undefined;
    return row && { clientId: row.client_id, displayName: row.display_name, role: row.role, secretHash: row.secret_hash, created: row.created };
  }

  async addPrincipal(principal: ServicePrincipalRecord): Promise<void> {
    this.insertPrincipal.run({
      client_id: principal.clientId,
      display_name: principal.displayName,
      role: principal.role,
      secret_hash: principal.secretHash,
      created: principal.created,
    });
  }
}
