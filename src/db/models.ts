import type { Db } from './sqlite.js';

/** Fields shared by model containers and versions (Azure ML's ResourceBase + asset flags). */
export interface AssetFields {
  description?: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  isArchived: boolean;
}

export interface ModelContainerRecord extends AssetFields {
  workspaceId: string;
  name: string;
  created: number;
  modified: number;
}

export interface ModelVersionRecord extends AssetFields {
  workspaceId: string;
  name: string;
  version: string;
  /** `azureml://…/datastores/{datastore}/paths/{path}`: where the model's files are. */
  modelUri: string;
  modelType?: string;
  jobName?: string;
  flavors?: Record<string, unknown>;
  isAnonymous: boolean;
  created: number;
  modified: number;
}

interface Row {
  workspace_id: string;
  name: string;
  version?: string;
  doc: string;
  created: number;
  modified: number;
}

/**
 * Model containers and their versions, as every dialect stores them (the SQLite
 * one below, src/db/postgres/models.ts); a container's deletion takes its
 * versions with it. Names and versions order byte-wise (SQLite's BINARY).
 */
export interface ModelStore {
  getContainer(workspaceId: string, name: string): Promise<ModelContainerRecord | undefined>;
  /** Up to `limit` containers named after `after` ('' for the first page), in name order. */
  listContainers(workspaceId: string, after: string, limit: number): Promise<ModelContainerRecord[]>;
  /** Creates the container or replaces its doc and modified time. */
  putContainer(container: ModelContainerRecord): Promise<void>;
  deleteContainer(workspaceId: string, name: string): Promise<boolean>;
  getVersion(workspaceId: string, name: string, version: string): Promise<ModelVersionRecord | undefined>;
  /** Up to `limit` versions after `after` ('' for the first page), in version order. */
  listVersions(workspaceId: string, name: string, after: string, limit: number): Promise<ModelVersionRecord[]>;
  versionNames(workspaceId: string, name: string): Promise<string[]>;
  /** Stores a version, creating its container first when it has none (as Azure does). */
  putVersion(version: ModelVersionRecord, containerIfMissing: ModelContainerRecord): Promise<void>;
  deleteVersion(workspaceId: string, name: string, version: string): Promise<boolean>;
}

/** The SQLite dialect's model containers and versions. */
export class ModelRepo implements ModelStore {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      getContainer: db.prepare('SELECT * FROM model_containers WHERE workspace_id = ? AND name = ?'),
      listContainers: db.prepare('SELECT * FROM model_containers WHERE workspace_id = ? AND name > ? ORDER BY name LIMIT ?'),
      upsertContainer: db.prepare(
        `INSERT INTO model_containers (workspace_id, name, doc, created, modified) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
      ),
      deleteContainer: db.prepare('DELETE FROM model_containers WHERE workspace_id = ? AND name = ?'),
      getVersion: db.prepare('SELECT * FROM model_versions WHERE workspace_id = ? AND name = ? AND version = ?'),
      listVersions: db.prepare('SELECT * FROM model_versions WHERE workspace_id = ? AND name = ? AND version > ? ORDER BY version LIMIT ?'),
      versionNames: db.prepare('SELECT version FROM model_versions WHERE workspace_id = ? AND name = ?').pluck(),
      upsertVersion: db.prepare(
        `INSERT INTO model_versions (workspace_id, name, version, doc, created, modified) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
      ),
      deleteVersion: db.prepare('DELETE FROM model_versions WHERE workspace_id = ? AND name = ? AND version = ?'),
    };
  }

  async getContainer(workspaceId: string, name: string): Promise<ModelContainerRecord | undefined> {
    const row = this.stmt.getContainer.get(workspaceId, name) as Row | undefined;
    return row && fromRow<ModelContainerRecord>(row);
  }

  async listContainers(workspaceId: string, after: string, limit: number): Promise<ModelContainerRecord[]> {
    return (this.stmt.listContainers.all(workspaceId, after, limit) as Row[]).map((row) => fromRow<ModelContainerRecord>(row));
  }

  async putContainer(container: ModelContainerRecord): Promise<void> {
    this.writeContainer(container);
  }

  private writeContainer(container: ModelContainerRecord): void {
    const { workspaceId, name, created, modified, ...doc } = container;
    this.stmt.upsertContainer.run(workspaceId, name, JSON.stringify(doc), created, modified);
  }

  async deleteContainer(workspaceId: string, name: string): Promise<boolean> {
    return this.stmt.deleteContainer.run(workspaceId, name).changes === 1;
  }

  async getVersion(workspaceId: string, name: string, version: string): Promise<ModelVersionRecord | undefined> {
    const row = this.stmt.getVersion.get(workspaceId, name, version) as Row | undefined;
    return row && fromRow<ModelVersionRecord>(row);
  }

  async listVersions(workspaceId: string, name: string, after: string, limit: number): Promise<ModelVersionRecord[]> {
    return (this.stmt.listVersions.all(workspaceId, name, after, limit) as Row[]).map((row) => fromRow<ModelVersionRecord>(row));
  }

  async versionNames(workspaceId: string, name: string): Promise<string[]> {
    return this.stmt.versionNames.all(workspaceId, name) as string[];
  }

  /** Stores a version, creating its container first when it has none (as Azure does). */
  async putVersion(version: ModelVersionRecord, containerIfMissing: ModelContainerRecord): Promise<void> {
    this.db.transaction(() => {
      if (this.stmt.getContainer.get(version.workspaceId, version.name) === undefined) this.writeContainer(containerIfMissing);
      const { workspaceId, name, version: id, created, modified, ...doc } = version;
      this.stmt.upsertVersion.run(workspaceId, name, id, JSON.stringify(doc), created, modified);
    })();
  }

  async deleteVersion(workspaceId: string, name: string, version: string): Promise<boolean> {
    return this.stmt.deleteVersion.run(workspaceId, name, version).changes === 1;
  }
}

function fromRow<T>(row: Row): T {
  const identity = row.version === undefined ? { name: row.name } : { name: row.name, version: row.version };
  return { ...JSON.parse(row.doc), workspaceId: row.workspace_id, ...identity, created: row.created, modified: row.modified } as T;
}
