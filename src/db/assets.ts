import type { Db } from './sqlite.js';
import { transact } from './transact.js';

/** Fields shared by asset containers and versions (Azure ML's ResourceBase + asset flags). */
export interface AssetFields {
  description?: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  isArchived: boolean;
}

/** A named asset of a workspace (a model, a data asset, a code snapshot), whose versions hold the content. */
export interface AssetContainerRecord extends AssetFields {
  workspaceId: string;
  name: string;
  created: number;
  modified: number;
}

export interface AssetVersionRecord extends AssetFields {
  workspaceId: string;
  name: string;
  version: string;
  isAnonymous: boolean;
  created: number;
  modified: number;
}

export type ModelContainerRecord = AssetContainerRecord;

export interface ModelVersionRecord extends AssetVersionRecord {
  /** `azureml://…/datastores/{datastore}/paths/{path}`: where the model's files are. */
  modelUri: string;
  modelType?: string;
  jobName?: string;
  flavors?: Record<string, unknown>;
}

/** A data asset's version: a file or folder (`uri_file`, `uri_folder`) in a datastore or at an https URL of this server. */
export interface DataVersionRecord extends AssetVersionRecord {
  dataType: 'uri_file' | 'uri_folder';
  dataUri: string;
}

/** A code snapshot: the folder a job runs in, uploaded to the workspace's storage before the job is created. */
export interface CodeVersionRecord extends AssetVersionRecord {
  codeUri: string;
}

/** The assets a workspace keeps, each in a pair of tables `{kind}_containers` and `{kind}_versions`. */
export type AssetKind = 'model' | 'data' | 'code';

export interface AssetRow {
  workspace_id: string;
  name: string;
  version?: string;
  doc: string;
  created: number | string;
  modified: number | string;
}

/**
 * Asset containers and their versions, as every dialect stores them (the
 * SQLite one below, src/db/postgres/assets.ts); a container's deletion takes
 * its versions with it. Names and versions order byte-wise (SQLite's BINARY).
 */
export interface AssetStore<V extends AssetVersionRecord> {
  getContainer(workspaceId: string, name: string): Promise<AssetContainerRecord | undefined>;
  /** Up to `limit` containers named after `after` ('' for the first page), in name order. */
  listContainers(workspaceId: string, after: string, limit: number): Promise<AssetContainerRecord[]>;
  /** Creates the container or replaces its doc and modified time. */
  putContainer(container: AssetContainerRecord): Promise<void>;
  deleteContainer(workspaceId: string, name: string): Promise<boolean>;
  getVersion(workspaceId: string, name: string, version: string): Promise<V | undefined>;
  /** Up to `limit` versions after `after` ('' for the first page), in version order. */
  listVersions(workspaceId: string, name: string, after: string, limit: number): Promise<V[]>;
  versionNames(workspaceId: string, name: string): Promise<string[]>;
  /** Stores a version, creating its container first when it has none (as Azure does). */
  putVersion(version: V, containerIfMissing: AssetContainerRecord): Promise<void>;
  deleteVersion(workspaceId: string, name: string, version: string): Promise<boolean>;
}

export type ModelStore = AssetStore<ModelVersionRecord>;

/** The SQLite dialect's asset containers and versions of one kind. */
export class AssetRepo<V extends AssetVersionRecord> implements AssetStore<V> {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    kind: AssetKind,
  ) {
    const containers = `${kind}_containers`;
    const versions = `${kind}_versions`;
    this.stmt = {
      getContainer: db.prepare(`SELECT * FROM ${containers} WHERE workspace_id = ? AND name = ?`),
      listContainers: db.prepare(`SELECT * FROM ${containers} WHERE workspace_id = ? AND name > ? ORDER BY name LIMIT ?`),
      upsertContainer: db.prepare(
        `INSERT INTO ${containers} (workspace_id, name, doc, created, modified) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
      ),
      deleteContainer: db.prepare(`DELETE FROM ${containers} WHERE workspace_id = ? AND name = ?`),
      getVersion: db.prepare(`SELECT * FROM ${versions} WHERE workspace_id = ? AND name = ? AND version = ?`),
      listVersions: db.prepare(`SELECT * FROM ${versions} WHERE workspace_id = ? AND name = ? AND version > ? ORDER BY version LIMIT ?`),
      versionNames: db.prepare(`SELECT version FROM ${versions} WHERE workspace_id = ? AND name = ?`).pluck(),
      upsertVersion: db.prepare(
        `INSERT INTO ${versions} (workspace_id, name, version, doc, created, modified) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
      ),
      deleteVersion: db.prepare(`DELETE FROM ${versions} WHERE workspace_id = ? AND name = ? AND version = ?`),
    };
  }

  async getContainer(workspaceId: string, name: string): Promise<AssetContainerRecord | undefined> {
    const row = this.stmt.getContainer.get(workspaceId, name) as AssetRow | undefined;
    return row && assetFromRow<AssetContainerRecord>(row);
  }

  async listContainers(workspaceId: string, after: string, limit: number): Promise<AssetContainerRecord[]> {
    return (this.stmt.listContainers.all(workspaceId, after, limit) as AssetRow[]).map((row) => assetFromRow<AssetContainerRecord>(row));
  }

  async putContainer(container: AssetContainerRecord): Promise<void> {
    this.writeContainer(container);
  }

  private writeContainer(container: AssetContainerRecord): void {
    const { workspaceId, name, created, modified, ...doc } = container;
    this.stmt.upsertContainer.run(workspaceId, name, JSON.stringify(doc), created, modified);
  }

  async deleteContainer(workspaceId: string, name: string): Promise<boolean> {
    return this.stmt.deleteContainer.run(workspaceId, name).changes === 1;
  }

  async getVersion(workspaceId: string, name: string, version: string): Promise<V | undefined> {
    const row = this.stmt.getVersion.get(workspaceId, name, version) as AssetRow | undefined;
    return row && assetFromRow<V>(row);
  }

  async listVersions(workspaceId: string, name: string, after: string, limit: number): Promise<V[]> {
    return (this.stmt.listVersions.all(workspaceId, name, after, limit) as AssetRow[]).map((row) => assetFromRow<V>(row));
  }

  async versionNames(workspaceId: string, name: string): Promise<string[]> {
    return this.stmt.versionNames.all(workspaceId, name) as string[];
  }

  /** Stores a version, creating its container first when it has none (as Azure does). */
  async putVersion(version: V, containerIfMissing: AssetContainerRecord): Promise<void> {
    transact(this.db, () => {
      if (this.stmt.getContainer.get(version.workspaceId, version.name) === undefined) this.writeContainer(containerIfMissing);
      const { workspaceId, name, version: id, created, modified, ...doc } = version;
      this.stmt.upsertVersion.run(workspaceId, name, id, JSON.stringify(doc), created, modified);
    });
  }

  async deleteVersion(workspaceId: string, name: string, version: string): Promise<boolean> {
    return this.stmt.deleteVersion.run(workspaceId, name, version).changes === 1;
  }
}

/** A container or version from its row, in either dialect (PostgreSQL hands BIGINT columns over as text). */
export function assetFromRow<T>(row: AssetRow): T {
  const identity = row.version === undefined ? { name: row.name } : { name: row.name, version: row.version };
  return { ...JSON.parse(row.doc), workspaceId: row.workspace_id, ...identity, created: Number(row.created), modified: Number(row.modified) } as T;
}
