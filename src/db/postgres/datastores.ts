import type pg from 'pg';
import type { Sealer } from '../../secrets/seal.js';
import { datastoreFromRow, type DatastoreQuery, type DatastoreRecord, type DatastoreRow, type DatastoreStore } from '../datastores.js';
import { asciiLower, serializable, type Queryable } from './sql.js';


const COLUMNS = 'workspace_id, name, system, is_default, doc, secret, created, modified';

/** The PostgreSQL dialect's datastores; names compare and sort byte by byte (COLLATE "C"), as SQLite's BINARY does. */
export class PgDatastoreRepo implements DatastoreStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
  ) {}

  async get(workspaceId: string, name: string): Promise<DatastoreRecord | undefined> {
    const { rows } = await this.pool.query<DatastoreRow>(`SELECT ${COLUMNS} FROM datastores WHERE workspace_id = $1 AND name = $2`, [workspaceId, name]);
    return rows[0] && datastoreFromRow(rows[0], this.sealer);
  }

  /**
   * Serializable, as every write of a credential is: a rotation's regenerate
   * step (serializable) checks that nobody relies on the retired key, and
   * PostgreSQL catches a registration racing it only between two
   * serializable transactions.
   */
  put(datastore: DatastoreRecord): Promise<void> {
    return serializable(this.pool, (client) => this.write(client, datastore));
  }

  /** put, on `q`: within the workspace repo's transactions. */
  async write(q: Queryable, datastore: DatastoreRecord): Promise<void> {
    const { workspaceId, name, system, isDefault, secret, created, modified, ...doc } = datastore;
    await q.query(
      `INSERT INTO datastores (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (workspace_id, name) DO UPDATE SET doc = excluded.doc, secret = excluded.secret, modified = excluded.modified`,
      [workspaceId, name, system ? 1 : 0, isDefault ? 1 : 0, JSON.stringify(doc), secret === undefined ? null : this.sealer.seal(secret), created, modified],
    );
  }

  async query(workspaceId: string, query: DatastoreQuery): Promise<{ items: DatastoreRecord[]; more: boolean }> {
    const { rows } = await this.pool.query<DatastoreRow>(
      `SELECT ${COLUMNS} FROM datastores WHERE workspace_id = $1 AND name COLLATE "C" > $2
         AND ($3::integer IS NULL OR is_default = $3)
         AND ($4::text[] IS NULL OR name = ANY ($4))
         AND ($5::text IS NULL OR strpos(${asciiLower('name')}, $5) > 0
              OR strpos(${asciiLower("coalesce(doc::jsonb ->> 'description', '')")}, $5) > 0)
       ORDER BY name COLLATE "C" LIMIT $6`,
      [
        workspaceId,
        query.after,
        query.isDefault === undefined ? null : query.isDefault ? 1 : 0,
        query.names ?? null,
        query.searchText === undefined ? null : query.searchText.toLowerCase(),
        query.limit + 1,
      ],
    );
    return { items: rows.slice(0, query.limit).map((row) => datastoreFromRow(row, this.sealer)), more: rows.length > query.limit };
  }

  listSystem(workspaceId: string): Promise<DatastoreRecord[]> {
    return this.systemOf(this.pool, workspaceId);
  }

  /** The datastores created with the workspace, on `q`; `lock` holds them until the transaction ends. */
  async systemOf(q: Queryable, workspaceId: string, lock = false): Promise<DatastoreRecord[]> {
    const { rows } = await q.query<DatastoreRow>(
      `SELECT ${COLUMNS} FROM datastores WHERE workspace_id = $1 AND system = 1 ORDER BY name COLLATE "C"${lock ? ' FOR UPDATE' : ''}`,
      [workspaceId],
    );
    return rows.map((row) => datastoreFromRow(row, this.sealer));
  }

  async delete(workspaceId: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM datastores WHERE workspace_id = $1 AND name = $2', [workspaceId, name]);
    return rowCount === 1;
  }

}
