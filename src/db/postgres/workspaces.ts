import type pg from 'pg';
import type { Sealer } from '../../secrets/seal.js';
import type { DatastoreRecord } from '../datastores.js';
import { systemDatastoreAccess, workspaceFromRow, type WorkspaceRecord, type WorkspaceRow, type WorkspaceSettings, type WorkspaceStore } from '../workspaces.js';
import type { PgDatastoreRepo } from './datastores.js';
import { asciiLower, serializable, type Queryable } from './sql.js';

const SELECT = 'SELECT id, resource_group, name, storage_account, storage_key, doc, created, modified FROM workspaces';
/** SQLite's NOCASE order (A-Z folded, then byte by byte), which the ICU `nocase` collation's own order is not. */
const ORDER_NAME = `${asciiLower('name')} COLLATE "C"`;
const ORDER_GROUP = `${asciiLower('resource_group')} COLLATE "C"`;

/** The PostgreSQL dialect's workspaces; resource group and name compare without regard to case through the `nocase` collation. */
export class PgWorkspaceRepo implements WorkspaceStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
    private readonly datastores: PgDatastoreRepo,
  ) {}

  async get(resourceGroup: string, name: string): Promise<WorkspaceRecord | undefined> {
    const { rows } = await this.pool.query<WorkspaceRow>(`${SELECT} WHERE resource_group = $1 AND name = $2`, [resourceGroup, name]);
    return rows[0] && workspaceFromRow(rows[0], this.sealer);
  }

  async list(resourceGroup?: string): Promise<WorkspaceRecord[]> {
    const { rows } =
      resourceGroup === undefined
        ? await this.pool.query<WorkspaceRow>(`${SELECT} ORDER BY ${ORDER_GROUP}, ${ORDER_NAME}`)
        : await this.pool.query<WorkspaceRow>(`${SELECT} WHERE resource_group = $1 ORDER BY ${ORDER_NAME}`, [resourceGroup]);
    return rows.map((row) => workspaceFromRow(row, this.sealer));
  }

  create(workspace: WorkspaceRecord, systemDatastores: DatastoreRecord[]): Promise<void> {
    return serializable(this.pool, async (client) => {
      await client.query(
        `INSERT INTO workspaces (id, resource_group, name, storage_account, storage_key, doc, created, modified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          workspace.id,
          workspace.resourceGroup,
          workspace.name,
          workspace.storageAccount,
          this.sealer.seal(workspace.storageKey),
          JSON.stringify(workspace.settings),
          workspace.created,
          workspace.modified,
        ],
      );
      for (const datastore of systemDatastores) await this.datastores.write(client, datastore);
    });
  }

  async saveSettings(id: string, settings: WorkspaceSettings, modified: number): Promise<void> {
    await this.pool.query('UPDATE workspaces SET doc = $1, modified = $2 WHERE id = $3', [JSON.stringify(settings), modified, id]);
  }

  /** Serializable, as datastore writes are (see PgDatastoreRepo.put). */
  resyncKey(workspace: WorkspaceRecord, key: string, modified: number): Promise<void> {
    return serializable(this.pool, async (client) => {
      await client.query('UPDATE workspaces SET storage_key = $1, modified = $2 WHERE id = $3', [this.sealer.seal(key), modified, workspace.id]);
      // Locked: a datastore PUT meanwhile must not be overwritten by what was read here.
      for (const datastore of await this.datastores.systemOf(client, workspace.id, true)) {
        if (datastore.accountName === workspace.storageAccount && datastore.credentialsType === 'AccountKey') {
          await this.datastores.write(client, { ...datastore, secret: key, modified });
        }
      }
    });
  }

  setSystemAccess(workspace: WorkspaceRecord, settings: WorkspaceSettings, key: string | undefined, modified: number): Promise<void> {
    return serializable(this.pool, (client) => this.applySystemAccess(client, workspace, settings, key, modified));
  }

  /** setSystemAccess, inside the caller's transaction (a keyless migration's); the system datastores are locked. */
  async applySystemAccess(q: Queryable, workspace: WorkspaceRecord, settings: WorkspaceSettings, key: string | undefined, modified: number): Promise<void> {
    await q.query('UPDATE workspaces SET storage_key = $1, doc = $2, modified = $3 WHERE id = $4', [this.sealer.seal(key ?? ''), JSON.stringify(settings), modified, workspace.id]);
    for (const datastore of await this.datastores.systemOf(q, workspace.id, true)) {
      const changed = systemDatastoreAccess(workspace, datastore, key, modified);
      if (changed) await this.datastores.write(q, changed);
    }
  }

  /** A workspace by id, locked until the caller's transaction ends. */
  async byIdForUpdate(q: Queryable, id: string): Promise<WorkspaceRecord | undefined> {
    const { rows } = await q.query<WorkspaceRow>(`${SELECT} WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] && workspaceFromRow(rows[0], this.sealer);
  }

  async delete(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM workspaces WHERE id = $1', [id]);
    return rowCount === 1;
  }

}
