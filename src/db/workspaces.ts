import type { Sealer } from '../secrets/seal.js';
import type { DatastoreRepo, DatastoreRecord } from './datastores.js';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

export interface WorkspaceSettings {
  location: string;
  tags: Record<string, string>;
  skuName?: string;
  friendlyName?: string;
  description?: string;
  /** Further ARM properties kept as given (keyVault, applicationInsights, ...). */
  properties: Record<string, unknown>;
  /** The workspace's system-assigned identity: a principal of the directory (no secret) that roles can be assigned to. */
  identity?: { principalId: string };
  /** How the workspace and its system datastores reach its account: with its key (the default), or with its identity. */
  systemDatastoresAuthMode?: 'accessKey' | 'identity';
}

export interface WorkspaceRecord {
  /** The workspaceId GUID; datastores and models hang off it. */
  id: string;
  resourceGroup: string;
  name: string;
  /** Name of the linked storage account. */
  storageAccount: string;
  /** The workspace's own copy of the account key: stale after a regeneration until resyncKeys. */
  storageKey: string;
  settings: WorkspaceSettings;
  created: number;
  modified: number;
}

/** A workspaces row, in either dialect (PostgreSQL hands BIGINT columns over as text). */
export interface WorkspaceRow {
  id: string;
  resource_group: string;
  name: string;
  storage_account: string;
  storage_key: string;
  doc: string;
  created: number | string;
  modified: number | string;
}

/**
 * ML workspaces, as every dialect stores them (the SQLite one below,
 * src/db/postgres/workspaces.ts); the key copy is sealed at rest. Resource group
 * and name compare without regard to case. Deleting one deletes its datastores
 * and models (foreign keys).
 */
export interface WorkspaceStore {
  get(resourceGroup: string, name: string): Promise<WorkspaceRecord | undefined>;
  /** Those of one resource group, or all; in resource group and name order, without regard to case. */
  list(resourceGroup?: string): Promise<WorkspaceRecord[]>;
  /** The workspace and its system datastores, in one transaction: a workspace never exists without them. */
  create(workspace: WorkspaceRecord, systemDatastores: DatastoreRecord[]): Promise<void>;
  saveSettings(id: string, settings: WorkspaceSettings, modified: number): Promise<void>;
  /**
   * Replaces the workspace's key copy and the account key held by its system
   * datastores that use the linked account (resyncKeys), in one transaction.
   * User datastores are left alone, as in Azure: they must be re-registered.
   */
  resyncKey(workspace: WorkspaceRecord, key: string, modified: number): Promise<void>;
  /**
   * Switches how the workspace and its system datastores reach the linked
   * account, in one transaction: with `key` (accessKey), the workspace's copy and
   * those datastores hold it; without (identity), both drop their key and the
   * datastores hold no credential. `settings` records the mode.
   */
  setSystemAccess(workspace: WorkspaceRecord, settings: WorkspaceSettings, key: string | undefined, modified: number): Promise<void>;
  delete(id: string): Promise<boolean>;
}

/** A system datastore as the workspace's access mode has it: the account key, or (identity) no credential. */
export function systemDatastoreAccess(workspace: WorkspaceRecord, datastore: DatastoreRecord, key: string | undefined, modified: number): DatastoreRecord | undefined {
  if (datastore.accountName !== workspace.storageAccount || (datastore.credentialsType !== 'AccountKey' && datastore.credentialsType !== 'None')) return undefined;
  return key === undefined
    ? { ...datastore, credentialsType: 'None', secret: undefined, modified }
    : { ...datastore, credentialsType: 'AccountKey', secret: key, modified };
}

/** The SQLite dialect's workspaces. */
export class WorkspaceRepo implements WorkspaceStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
    private readonly datastores: DatastoreRepo,
  ) {
    this.stmt = {
      get: db.prepare('SELECT * FROM workspaces WHERE resource_group = ? AND name = ?'),
      byId: db.prepare('SELECT * FROM workspaces WHERE id = ?'),
      byGroup: db.prepare('SELECT * FROM workspaces WHERE resource_group = ? ORDER BY name'),
      all: db.prepare('SELECT * FROM workspaces ORDER BY resource_group, name'),
      insert: db.prepare(
        `INSERT INTO workspaces (id, resource_group, name, storage_account, storage_key, doc, created, modified)
         VALUES (@id, @resource_group, @name, @storage_account, @storage_key, @doc, @created, @modified)`,
      ),
      updateDoc: db.prepare('UPDATE workspaces SET doc = ?, modified = ? WHERE id = ?'),
      updateKey: db.prepare('UPDATE workspaces SET storage_key = ?, modified = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM workspaces WHERE id = ?'),
    };
  }

  async get(resourceGroup: string, name: string): Promise<WorkspaceRecord | undefined> {
    const row = this.stmt.get.get(resourceGroup, name) as WorkspaceRow | undefined;
    return row && workspaceFromRow(row, this.sealer);
  }

  async list(resourceGroup?: string): Promise<WorkspaceRecord[]> {
    const rows = (resourceGroup === undefined ? this.stmt.all.all() : this.stmt.byGroup.all(resourceGroup)) as WorkspaceRow[];
    return rows.map((row) => workspaceFromRow(row, this.sealer));
  }

  /** The workspace and its system datastores, in one transaction: a workspace never exists without them. */
  async create(workspace: WorkspaceRecord, systemDatastores: DatastoreRecord[]): Promise<void> {
    transact(this.db, () => {
      this.stmt.insert.run({
        id: workspace.id,
        resource_group: workspace.resourceGroup,
        name: workspace.name,
        storage_account: workspace.storageAccount,
        storage_key: this.sealer.seal(workspace.storageKey),
        doc: JSON.stringify(workspace.settings),
        created: workspace.created,
        modified: workspace.modified,
      });
      for (const datastore of systemDatastores) this.datastores.write(datastore);
    });
  }

  async saveSettings(id: string, settings: WorkspaceSettings, modified: number): Promise<void> {
    this.stmt.updateDoc.run(JSON.stringify(settings), modified, id);
  }

  /**
   * Replaces the workspace's key copy and the account key held by its system
   * datastores that use the linked account (resyncKeys). User datastores are
   * left alone, as in Azure: they must be re-registered.
   */
  async resyncKey(workspace: WorkspaceRecord, key: string, modified: number): Promise<void> {
    transact(this.db, () => {
      this.stmt.updateKey.run(this.sealer.seal(key), modified, workspace.id);
      for (const datastore of this.datastores.systemOf(workspace.id)) {
        if (datastore.accountName === workspace.storageAccount && datastore.credentialsType === 'AccountKey') {
          this.datastores.write({ ...datastore, secret: key, modified });
        }
      }
    });
  }

  async setSystemAccess(workspace: WorkspaceRecord, settings: WorkspaceSettings, key: string | undefined, modified: number): Promise<void> {
    transact(this.db, () => this.applySystemAccess(workspace, settings, key, modified));
  }

  /** setSystemAccess, within a transaction of this dialect (a keyless migration's). */
  applySystemAccess(workspace: WorkspaceRecord, settings: WorkspaceSettings, key: string | undefined, modified: number): void {
    this.stmt.updateKey.run(this.sealer.seal(key ?? ''), modified, workspace.id);
    this.stmt.updateDoc.run(JSON.stringify(settings), modified, workspace.id);
    for (const datastore of this.datastores.systemOf(workspace.id)) {
      const changed = systemDatastoreAccess(workspace, datastore, key, modified);
      if (changed) this.datastores.write(changed);
    }
  }

  /** A workspace by id, within a transaction of this dialect. */
  byId(id: string): WorkspaceRecord | undefined {
    const row = this.stmt.byId.get(id) as WorkspaceRow | undefined;
    return row && workspaceFromRow(row, this.sealer);
  }

  async delete(id: string): Promise<boolean> {
    return this.stmt.remove.run(id).changes === 1;
  }

}

/** A workspace as its row holds it, its key copy unsealed. */
export function workspaceFromRow(row: WorkspaceRow, sealer: Sealer): WorkspaceRecord {
  return {
    id: row.id,
    resourceGroup: row.resource_group,
    name: row.name,
    storageAccount: row.storage_account,
    storageKey: sealer.unseal(row.storage_key),
    settings: JSON.parse(row.doc),
    created: Number(row.created),
    modified: Number(row.modified),
  };
}
