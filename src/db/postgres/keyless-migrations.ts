import type pg from 'pg';
import type { Sealer } from '../../secrets/seal.js';
import { datastoreFromRow, type DatastoreRow } from '../datastores.js';
import {
  keylessDatastore,
  migrationDoc,
  migrationFromRow,
  type KeylessMigrationRecord,
  type KeylessMigrationStore,
  type MigrationState,
  UNFINISHED_MIGRATION,
} from '../keyless-migrations.js';
import type { PgDatastoreRepo } from './datastores.js';
import type { PgWorkspaceRepo } from './workspaces.js';
import { serializable } from './sql.js';

/** The PostgreSQL dialect's migration journal; the final step locks what it rewrites. */
export class PgKeylessMigrationRepo implements KeylessMigrationStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
    private readonly datastores: PgDatastoreRepo,
    private readonly workspaces: PgWorkspaceRepo,
  ) {}

  async start(record: KeylessMigrationRecord): Promise<boolean> {
    // Serializable, as a rotation's start is: of a migration and a rotation of one account started at once, one is refused.
    return serializable(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO keyless_migrations (id, account, state, doc, created, updated) SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint
          WHERE NOT EXISTS (SELECT 1 FROM rotations WHERE account = $2 AND status = 'InProgress')`,
        [record.id, record.account, record.state, migrationDoc(record), record.created, record.updated],
      );
      return rowCount === 1;
    });
  }

  async setState(id: string, state: MigrationState, updated: number, error?: KeylessMigrationRecord['error']): Promise<void> {
    const record = await this.get(id);
    if (record) await this.pool.query('UPDATE keyless_migrations SET state = $1, doc = $2, updated = $3 WHERE id = $4', [state, migrationDoc({ ...record, error }), updated, id]);
  }

  commit(record: KeylessMigrationRecord, modified: number): Promise<void> {
    return serializable(this.pool, async (client) => {
      for (const target of record.targets) {
        if (target.kind === 'datastore') {
          const { rows } = await client.query<DatastoreRow>('SELECT * FROM datastores WHERE workspace_id = $1 AND name = $2 FOR UPDATE', [target.workspaceId, target.datastoreName]);
          if (rows[0]) await this.datastores.write(client, keylessDatastore(datastoreFromRow(rows[0], this.sealer), modified));
          continue;
        }
        const workspace = await this.workspaces.byIdForUpdate(client, target.workspaceId);
        if (workspace) await this.workspaces.applySystemAccess(client, workspace, { ...workspace.settings, systemDatastoresAuthMode: 'identity' }, undefined, modified);
      }
      await client.query("UPDATE keyless_migrations SET state = 'done', doc = $1, updated = $2 WHERE id = $3", [migrationDoc({ ...record, error: undefined }), modified, record.id]);
    });
  }

  async get(id: string): Promise<KeylessMigrationRecord | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM keyless_migrations WHERE id = $1', [id]);
    return rows[0] && migrationFromRow(rows[0]);
  }

  async unfinished(): Promise<KeylessMigrationRecord[]> {
    const { rows } = await this.pool.query(`SELECT * FROM keyless_migrations WHERE state IN ${UNFINISHED_MIGRATION} ORDER BY created`);
    return rows.map(migrationFromRow);
  }
}
