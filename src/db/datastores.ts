import type { Sealer } from '../secrets/seal.js';
import type { Db } from './sqlite.js';

export type DatastoreType = 'AzureBlob' | 'AzureFile';
export type CredentialsType = 'AccountKey' | 'Sas' | 'None' | 'ServicePrincipal';

/** Who a ServicePrincipal datastore signs in as; its client secret is the datastore's (sealed) secret. */
export interface ServicePrincipalCredential {
  tenantId: string;
  clientId: string;
  authorityUrl?: string;
  resourceUrl?: string;
}

export interface DatastoreRecord {
  workspaceId: string;
  name: string;
  /** Created with the workspace (workspaceblobstore, ...); resyncKeys refreshes its key. */
  system: boolean;
  isDefault: boolean;
  type: DatastoreType;
  accountName: string;
  /** The container (AzureBlob) or file share (AzureFile). */
  containerName: string;
  endpoint: string;
  protocol: string;
  credentialsType: CredentialsType;
  /** The account key, SAS token or client secret, in memory only; sealed at rest. */
  secret?: string;
  /** For credentialsType ServicePrincipal: the client the secret belongs to. */
  servicePrincipal?: ServicePrincipalCredential;
  description?: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  created: number;
  modified: number;
}

export interface DatastoreQuery {
  /** Names strictly after this one (paging). */
  after: string;
  limit: number;
  isDefault?: boolean;
  names?: string[];
  /** Case-insensitive substring of the name or description. */
  searchText?: string;
}

/** A datastores row, in either dialect (PostgreSQL hands BIGINT columns over as text). */
export interface DatastoreRow {
  workspace_id: string;
  name: string;
  system: number;
  is_default: number;
  doc: string;
  secret: string | null;
  created: number | string;
  modified: number | string;
}

type Doc = Omit<DatastoreRecord, 'workspaceId' | 'name' | 'system' | 'isDefault' | 'secret' | 'created' | 'modified'>;

/**
 * Datastore registrations of each workspace, as every dialect stores them (the
 * SQLite one below, src/db/postgres/datastores.ts). Names compare byte by byte;
 * secrets are sealed at rest.
 */
export interface DatastoreStore {
  get(workspaceId: string, name: string): Promise<DatastoreRecord | undefined>;
  /** Creates or overwrites a registration; `system`, `isDefault` and `created` of an existing one are kept. */
  put(datastore: DatastoreRecord): Promise<void>;
  /** One page in name order, plus whether more follow. */
  query(workspaceId: string, query: DatastoreQuery): Promise<{ items: DatastoreRecord[]; more: boolean }>;
  /** The datastores created with the workspace, in name order. */
  listSystem(workspaceId: string): Promise<DatastoreRecord[]>;
  delete(workspaceId: string, name: string): Promise<boolean>;
}

/** The SQLite dialect's datastores. */
export class DatastoreRepo implements DatastoreStore {
  private readonly stmt;

  constructor(
    db: Db,
    private readonly sealer: Sealer,
  ) {
    this.stmt = {
      get: db.prepare('SELECT * FROM datastores WHERE workspace_id = ? AND name = ?'),
      upsert: db.prepare(
        `INSERT INTO datastores (workspace_id, name, system, is_default, doc, secret, created, modified)
         VALUES (@workspace_id, @name, @system, @is_default, @doc, @secret, @created, @modified)
         ON CONFLICT DO UPDATE SET doc = excluded.doc, secret = excluded.secret, modified = excluded.modified`,
      ),
      query: db.prepare(
        `SELECT * FROM datastores WHERE workspace_id = @workspace_id AND name > @after
           AND (@is_default IS NULL OR is_default = @is_default)
           AND (@names IS NULL OR name IN (SELECT value FROM json_each(@names)))
           AND (@search IS NULL OR instr(lower(name), @search) > 0
                OR instr(lower(coalesce(json_extract(doc, '$.description'), '')), @search) > 0)
         ORDER BY name LIMIT @limit`,
      ),
      system: db.prepare('SELECT * FROM datastores WHERE workspace_id = ? AND system = 1 ORDER BY name'),
      remove: db.prepare('DELETE FROM datastores WHERE workspace_id = ? AND name = ?'),
    };
  }

  async get(workspaceId: string, name: string): Promise<DatastoreRecord | undefined> {
    const row = this.stmt.get.get(workspaceId, name) as DatastoreRow | undefined;
    return row && datastoreFromRow(row, this.sealer);
  }

  /** Creates or overwrites a registration; `system`, `isDefault` and `created` of an existing one are kept. */
  async put(datastore: DatastoreRecord): Promise<void> {
    this.write(datastore);
  }

  /** put, within a transaction of this dialect (the workspace repo's). */
  write(datastore: DatastoreRecord): void {
    const { workspaceId, name, system, isDefault, secret, created, modified, ...doc } = datastore;
    this.stmt.upsert.run({
      workspace_id: workspaceId,
      name,
      system: system ? 1 : 0,
      is_default: isDefault ? 1 : 0,
      doc: JSON.stringify(doc satisfies Doc),
      secret: secret === undefined ? null : this.sealer.seal(secret),
      created,
      modified,
    });
  }

  /** One page, plus whether more follow. */
  async query(workspaceId: string, query: DatastoreQuery): Promise<{ items: DatastoreRecord[]; more: boolean }> {
    const rows = this.stmt.query.all({
      workspace_id: workspaceId,
      after: query.after,
      is_default: query.isDefault === undefined ? null : query.isDefault ? 1 : 0,
      names: query.names === undefined ? null : JSON.stringify(query.names),
      search: query.searchText === undefined ? null : query.searchText.toLowerCase(),
      limit: query.limit + 1,
    }) as DatastoreRow[];
    return { items: rows.slice(0, query.limit).map((row) => datastoreFromRow(row, this.sealer)), more: rows.length > query.limit };
  }

  async listSystem(workspaceId: string): Promise<DatastoreRecord[]> {
    return this.systemOf(workspaceId);
  }

  /** The datastores created with the workspace, within a transaction of this dialect. */
  systemOf(workspaceId: string): DatastoreRecord[] {
    return (this.stmt.system.all(workspaceId) as DatastoreRow[]).map((row) => datastoreFromRow(row, this.sealer));
  }

  async delete(workspaceId: string, name: string): Promise<boolean> {
    return this.stmt.remove.run(workspaceId, name).changes === 1;
  }

}

/** A datastore as its row holds it, its secret unsealed. */
export function datastoreFromRow(row: DatastoreRow, sealer: Sealer): DatastoreRecord {
  const doc = JSON.parse(row.doc) as Doc;
  return {
    ...doc,
    workspaceId: row.workspace_id,
    name: row.name,
    system: row.system === 1,
    isDefault: row.is_default === 1,
    secret: row.secret === null ? undefined : sealer.unseal(row.secret),
    created: Number(row.created),
    modified: Number(row.modified),
  };
}
