import type pg from 'pg';
import { transaction } from './sql.js';
import { assetFromRow, type AssetContainerRecord, type AssetKind, type AssetRow, type AssetStore, type AssetVersionRecord } from '../assets.js';

const CONTAINER_COLUMNS = 'workspace_id, name, doc, created, modified';
const VERSION_COLUMNS = 'workspace_id, name, version, doc, created, modified';

/**
 * The PostgreSQL dialect's asset containers and versions of one kind. Names
 * and versions compare and sort with COLLATE "C", byte-wise as SQLite's
 * BINARY, so pages break at the same places whatever the database's own collation.
 */
export class PgAssetRepo<V extends AssetVersionRecord> implements AssetStore<V> {
  private readonly containers: string;
  private readonly versions: string;

  constructor(
    private readonly pool: pg.Pool,
    kind: AssetKind,
  ) {
    this.containers = `${kind}_containers`;
    this.versions = `${kind}_versions`;
  }

  async getContainer(workspaceId: string, name: string): Promise<AssetContainerRecord | undefined> {
    const { rows } = await this.pool.query<AssetRow>(`SELECT ${CONTAINER_COLUMNS} FROM ${this.containers} WHERE workspace_id = $1 AND name = $2`, [workspaceId, name]);
    return rows[0] && assetFromRow<AssetContainerRecord>(rows[0]);
  }

  async listContainers(workspaceId: string, after: string, limit: number): Promise<AssetContainerRecord[]> {
    const { rows } = await this.pool.query<AssetRow>(
      `SELECT ${CONTAINER_COLUMNS} FROM ${this.containers} WHERE workspace_id = $1 AND name COLLATE "C" > $2 ORDER BY name COLLATE "C" LIMIT $3`,
      [workspaceId, after, limit],
    );
    return rows.map((row) => assetFromRow<AssetContainerRecord>(row));
  }

  async putContainer(container: AssetContainerRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.containers} (${CONTAINER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, name) DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
      containerParams(container),
    );
  }

  async deleteContainer(workspaceId: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.containers} WHERE workspace_id = $1 AND name = $2`, [workspaceId, name]);
    return rowCount === 1;
  }

  async getVersion(workspaceId: string, name: string, version: string): Promise<V | undefined> {
    const { rows } = await this.pool.query<AssetRow>(`SELECT ${VERSION_COLUMNS} FROM ${this.versions} WHERE workspace_id = $1 AND name = $2 AND version = $3`, [
      workspaceId,
      name,
      version,
    ]);
    return rows[0] && assetFromRow<V>(rows[0]);
  }

  async listVersions(workspaceId: string, name: string, after: string, limit: number): Promise<V[]> {
    const { rows } = await this.pool.query<AssetRow>(
      `SELECT ${VERSION_COLUMNS} FROM ${this.versions} WHERE workspace_id = $1 AND name = $2 AND version COLLATE "C" > $3 ORDER BY version COLLATE "C" LIMIT $4`,
      [workspaceId, name, after, limit],
    );
    return rows.map((row) => assetFromRow<V>(row));
  }

  async versionNames(workspaceId: string, name: string): Promise<string[]> {
    // SQLite answers these in its primary key's order; so does this.
    const { rows } = await this.pool.query<{ version: string }>(`SELECT version FROM ${this.versions} WHERE workspace_id = $1 AND name = $2 ORDER BY version COLLATE "C"`, [
      workspaceId,
      name,
    ]);
    return rows.map((row) => row.version);
  }

  async putVersion(version: V, containerIfMissing: AssetContainerRecord): Promise<void> {
    await transaction(this.pool, async (client) => {
      // DO NOTHING rather than a read first: of two versions racing to create the container, the first's stands.
      await client.query(`INSERT INTO ${this.containers} (${CONTAINER_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, containerParams(containerIfMissing));
      const { workspaceId, name, version: id, created, modified, ...doc } = version;
      await client.query(
        `INSERT INTO ${this.versions} (${VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (workspace_id, name, version) DO UPDATE SET doc = excluded.doc, modified = excluded.modified`,
        [workspaceId, name, id, JSON.stringify(doc), created, modified],
      );
    });
  }

  async deleteVersion(workspaceId: string, name: string, version: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${this.versions} WHERE workspace_id = $1 AND name = $2 AND version = $3`, [workspaceId, name, version]);
    return rowCount === 1;
  }
}

function containerParams(container: AssetContainerRecord): unknown[] {
  const { workspaceId, name, created, modified, ...doc } = container;
  return [workspaceId, name, JSON.stringify(doc), created, modified];
}
