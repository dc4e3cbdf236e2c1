import type pg from 'pg';
import { transaction } from './sql.js';
import type { ModelContainerRecord, ModelStore, ModelVersionRecord } from '../models.js';

interface Row {
  workspace_id: string;
  name: string;
  version?: string;
  doc: string;
  /** BIGINT: pg hands it over as text. */
  created: string;
  modified: string;
}

const CONTAINER_COLUMNS = 'workspace_id, name, doc, created, modified';
const VERSION_COLUMNS = 'workspace_id, name, version, doc, created, modified';

/**
 * The PostgreSQL dialect's model containers and versions. Names and versions
 * compare and sort with COLLATE "C", byte-wise as SQLite's BINARY, so pages
 * break at the same places whatever the database's own collation.
 */
export class PgModelRepo implements ModelStore {
  constructor(private readonly pool: pg.Pool) {}

  async getContainer(workspaceId: string, name: string): Promise<ModelContainerRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${CONTAINER_COLUMNS} FROM model_containers WHERE workspace_id = $1 AND name = $2`, [workspaceId, name]);
    return rows[0] && fromRow<ModelContainerRecord>(rows[0]);
  }

  async listContainers(workspaceId: string, after: string, limit: number): Promise<ModelContainerRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${CONTAINER_COLUMNS} FROM model_containers WHERE workspace_id = $1 AND name COLLATE "C" > $2 ORDER BY name COLLATE "C" LIMIT $3`,
      [workspaceId, after, limit],
    );
    return rows.map((row) => fromRow<ModelContainerRecord>(row));
  }

  async putContainer(container: ModelContainerRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO model_containers (${CONTAINER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, name) DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
      containerParams(container),
    );
  }

  async deleteContainer(workspaceId: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM model_containers WHERE workspace_id = $1 AND name = $2', [workspaceId, name]);
    return rowCount === 1;
  }

  async getVersion(workspaceId: string, name: string, version: string): Promise<ModelVersionRecord | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE workspace_id = $1 AND name = $2 AND version = $3`, [
      workspaceId,
      name,
      version,
    ]);
    return rows[0] && fromRow<ModelVersionRecord>(rows[0]);
  }

  async listVersions(workspaceId: string, name: string, after: string, limit: number): Promise<ModelVersionRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE workspace_id = $1 AND name = $2 AND version COLLATE "C" > $3 ORDER BY version COLLATE "C" LIMIT $4`,
      [workspaceId, name, after, limit],
    );
    return rows.map((row) => fromRow<ModelVersionRecord>(row));
  }

  async versionNames(workspaceId: string, name: string): Promise<string[]> {
    // SQLite answers these in its primary key's order; so does this.
    const { rows } = await this.pool.query<{ version: string }>('SELECT version FROM model_versions WHERE workspace_id = $1 AND name = $2 ORDER BY version COLLATE "C"', [
      workspaceId,
      name,
    ]);
    return rows.map((row) => row.version);
  }

  async putVersion(version: ModelVersionRecord, containerIfMissing: ModelContainerRecord): Promise<void> {
    await transaction(this.pool, async (client) => {
      // DO NOTHING rather than a read first: of two versions racing to create the container, the first's stands.
      await client.query(`INSERT INTO model_containers (${CONTAINER_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, containerParams(containerIfMissing));
      const { workspaceId, name, version: id, created, modified, ...doc } = version;
      await client.query(
        `INSERT INTO model_versions (${VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, name, version) DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
        [workspaceId, name, id, JSON.stringify(doc), created, modified],
      );
    });
  }

  async deleteVersion(workspaceId: string, name: string, version: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM model_versions WHERE workspace_id = $1 AND name = $2 AND version = $3', [workspaceId, name, version]);
    return rowCount === 1;
  }
}

function containerParams(container: ModelContainerRecord): unknown[] {
  const { workspaceId, name, created, modified, ...doc } = container;
  return [workspaceId, name, JSON.stringify(doc), created, modified];
}

function fromRow<T>(row: Row): T {
  const identity = row.version === undefined ? { name: row.name } : { name: row.name, version: row.version };
  return { ...JSON.parse(row.doc), workspaceId: row.workspace_id, ...identity, created: Number(row.created), modified: Number(row.modified) } as T;
}
