import type { Sealer } from '../secrets/seal.js';
import { datastoreFromRow, type DatastoreRecord, type DatastoreRepo, type DatastoreRow, type DatastoreType } from './datastores.js';
import type { Db } from './sqlite.js';
import type { WorkspaceRepo } from './workspaces.js';
import { transact } from './transact.js';

/** A role assignment a migration makes: its name is chosen, and journaled, before it is made, so a rollback can always find it. */
export interface PlannedGrant {
  name: string;
  scope: string;
  roleDefinitionId: string;
}

/** What the identity must reach, checked on the data plane before any key is dropped. */
export interface IdentityCheck {
  datastoreName: string;
  type: DatastoreType;
  containerName: string;
}

/**
 * One consumer a migration moves to identity access: a user datastore (it then
 * holds no credential), or a workspace (its key copy and its system datastores'
 * keys go; it reaches its account with its identity). Either way the identity is
 * the workspace's.
 */
export interface MigrationTarget {
  kind: 'datastore' | 'workspace';
  id: string;
  workspaceId: string;
  workspaceName: string;
  resourceGroup: string;
  datastoreName?: string;
  principalId: string;
  grants: PlannedGrant[];
  checks: IdentityCheck[];
}

/** assigning → verifying → done; from either of the first two, a failed check or a crash ends in rolledBack. */
export type MigrationState = 'assigning' | 'verifying' | 'done' | 'rolledBack';

/** The states of a migration not finished yet, as SQL: while one of an account is, no key rotation of it starts. */
export const UNFINISHED_MIGRATION = "('assigning', 'verifying')";

export interface KeylessMigrationRecord {
  id: string;
  account: string;
  resourceGroup: string;
  state: MigrationState;
  targets: MigrationTarget[];
  callerId: string;
  /** The process running it (`host:pid`): on a shared database, others roll it back only once it is gone. */
  owner: string;
  created: number;
  updated: number;
  error?: { code: string; message: string };
}

interface MigrationRow {
  id: string;
  account: string;
  state: MigrationState;
  doc: string;
  created: number | string;
  updated: number | string;
}

type Doc = Pick<KeylessMigrationRecord, 'resourceGroup' | 'targets' | 'callerId' | 'owner' | 'error'>;

export function migrationFromRow(row: MigrationRow): KeylessMigrationRecord {
  const doc = JSON.parse(row.doc) as Doc;
  return { id: row.id, account: row.account, state: row.state, ...doc, created: Number(row.created), updated: Number(row.updated) };
}

export function migrationDoc(record: KeylessMigrationRecord): string {
  const doc: Doc = { resourceGroup: record.resourceGroup, targets: record.targets, callerId: record.callerId, owner: record.owner, ...(record.error && { error: record.error }) };
  return JSON.stringify(doc);
}

/** A user datastore on identity access: no credential at all. */
export function keylessDatastore(datastore: DatastoreRecord, modified: number): DatastoreRecord {
  const { servicePrincipal: _, ...rest } = datastore;
  return { ...rest, credentialsType: 'None', secret: undefined, modified };
}

/**
 * The journal of migrations to keyless, as every dialect stores it (the SQLite
 * one below, src/db/postgres/keyless-migrations.ts). The last step, dropping
 * every target's key, commits in one transaction with the journal's `done`.
 */
export interface KeylessMigrationStore {
  /** Journals a planned migration; false, and nothing journaled, while a key rotation of the account is in progress. */
  start(record: KeylessMigrationRecord): Promise<boolean>;
  setState(id: string, state: MigrationState, updated: number, error?: KeylessMigrationRecord['error']): Promise<void>;
  /** Drops the keys of every target and records `done`, in one transaction. */
  commit(record: KeylessMigrationRecord, modified: number): Promise<void>;
  get(id: string): Promise<KeylessMigrationRecord | undefined>;
  /** Migrations a stopped process left assigning or verifying: each is rolled back at start. */
  unfinished(): Promise<KeylessMigrationRecord[]>;
}

/** The SQLite dialect's migration journal. */
export class KeylessMigrationRepo implements KeylessMigrationStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
    private readonly datastores: DatastoreRepo,
    private readonly workspaces: WorkspaceRepo,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO keyless_migrations (id, account, state, doc, created, updated) SELECT ?, ?, ?, ?, ?, ?
          WHERE NOT EXISTS (SELECT 1 FROM rotations WHERE account = ? AND status = 'InProgress')`,
      ),
      setState: db.prepare('UPDATE keyless_migrations SET state = ?, doc = ?, updated = ? WHERE id = ?'),
      get: db.prepare('SELECT * FROM keyless_migrations WHERE id = ?'),
      unfinished: db.prepare(`SELECT * FROM keyless_migrations WHERE state IN ${UNFINISHED_MIGRATION} ORDER BY created`),
      datastore: db.prepare('SELECT * FROM datastores WHERE workspace_id = ? AND name = ?'),
    };
  }

  async start(record: KeylessMigrationRecord): Promise<boolean> {
    return this.stmt.insert.run(record.id, record.account, record.state, migrationDoc(record), record.created, record.updated, record.account).changes === 1;
  }

  async setState(id: string, state: MigrationState, updated: number, error?: KeylessMigrationRecord['error']): Promise<void> {
    const record = await this.get(id);
    if (record) this.stmt.setState.run(state, migrationDoc({ ...record, error }), updated, id);
  }

  async commit(record: KeylessMigrationRecord, modified: number): Promise<void> {
    transact(this.db, () => {
      for (const target of record.targets) {
        if (target.kind === 'datastore') {
          const row = this.stmt.datastore.get(target.workspaceId, target.datastoreName!) as DatastoreRow | undefined;
          if (row) this.datastores.write(keylessDatastore(datastoreFromRow(row, this.sealer), modified));
          continue;
        }
        const workspace = this.workspaces.byId(target.workspaceId);
        if (workspace) this.workspaces.applySystemAccess(workspace, { ...workspace.settings, systemDatastoresAuthMode: 'identity' }, undefined, modified);
      }
      this.stmt.setState.run('done', migrationDoc({ ...record, error: undefined }), modified, record.id);
    });
  }

  async get(id: string): Promise<KeylessMigrationRecord | undefined> {
    const row = this.stmt.get.get(id) as MigrationRow | undefined;
    return row && migrationFromRow(row);
  }

  async unfinished(): Promise<KeylessMigrationRecord[]> {
    return (this.stmt.unfinished.all() as MigrationRow[]).map(migrationFromRow);
  }
}
