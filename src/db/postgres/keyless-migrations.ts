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
} from '../keyless-migrations.js';
import { systemDatastoreAccess, workspaceFromRow, type WorkspaceRow } from '../workspaces.js';
import type { PgDatastoreRepo } from './datastores.js';
import { serializable } from './sql.js';

/** The PostgreSQL dialect's migration journal; the final step locks what it rewrites. */
export class PgKeylessMigrationRepo implements KeylessMigrationStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
    private readonly datastores: PgDatastoreRepo,
  ) {}

  async start(record: KeylessMigrationRecord): Promise<void> {
    await this.pool.query('INSERT INTO keyless_migrations (id, account, state, doc, created, updated) VALUES ($1, $2, $3, $4, $5, $6)', [
      record.id,
      record.account,
      record.state,
      migrationDoc(record),
      record.created,
      record.updated,
    ]);
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
        const { rows } = await client.query<WorkspaceRow>('SELECT * FROM workspaces WHERE id = $1 FOR UPDATE', [target.workspaceId]);
        if (!rows[0]) continue;
        const workspace = workspaceFromRow(rows[0], this.sealer);
        const settings = { ...workspace.settings, systemDatastoresAuthMode: 'identity' as const };
        await client.query('UPDATE workspaces SET storage_key = $1, doc = $2, modified = $3 WHERE id = $4', [this.sealer.seal(''), JSON.stringify(settings), modified, workspace.id]);
        for (const datastore of await this.datastores.systemOf(client, workspace.id, true)) {
          const changed = systemDatastoreAccess(workspace, datastore, undefined, modified);
          if (changed) await this.datastores.write(client, changed);
        }
      }
      await client.query("UPDATE keyless_migrations SET state = 'done', doc = $1, updated = $2 WHERE id = $3", [migrationDoc({ ...record, error: undefined }), modified, record.id]);
    });
  }

  async get(id: string): Promise<KeylessMigrationRecord | undefined> {
    const { rows } = await this.pool.query('SELECT * FROM keyless_migrations WHERE id = $1', [id]);
    return rows[0] && migrationFromRow(rows[0]);
  }

  async unfinished(): Promise<KeylessMigrationRecord[]> {
    const { rows } = await this.pool.query("SELECT * FROM keyless_migrations WHERE state IN ('assigning', 'verifying') ORDER BY created");
    return rows.map(migrationFromRow);
  }
}
