import { checkMasterKey } from '../../secrets/master-key-check.js';
import type { Sealer } from '../../secrets/seal.js';
import type { Metadata } from '../metadata.js';
import { PgAccountDeclarationRepo } from './account-declarations.js';
import { PgAccountRepo } from './accounts.js';
import { PgActivityRepo } from './activity-log.js';
import { PgBlobRepo } from './blobs.js';
import { PgClusterStore } from './cluster.js';
import { PgConsumerRepo } from './consumers.js';
import { PgDatastoreRepo } from './datastores.js';
import { PgDirectoryRepo } from './directory.js';
import { PgFileRepo } from './files.js';
import { migratePostgres } from './migrate.js';
import { createPool } from './pool.js';
import { PgAssetRepo } from './assets.js';
import { PgJobRepo } from './jobs.js';
import { PgResourceGroupRepo } from './resource-groups.js';
import { PgRotationRepo } from './rotations.js';
import { PgKeylessMigrationRepo } from './keyless-migrations.js';
import { PgServicePropertiesRepo } from './service-properties.js';
import { pgMasterKeyEvidence, PgSettingsRepo } from './settings.js';
import { PgWorkspaceRepo } from './workspaces.js';

/** Connections per node: requests wait for one rather than open more (PostgreSQL's own limit is shared by every node). */
const POOL_SIZE = 16;

/**
 * The multi-node dialect: one PostgreSQL database shared by every node.
 * Refused before any migration if `sealer` holds another master key than the
 * one the deployment's secrets were sealed with; migrated under the schema
 * lock, so the first node creates the schema and the others find it done.
 * A commit is durable when PostgreSQL answers it (synchronous_commit), so
 * `durable` has nothing left to wait for.
 */
export async function openPostgresMetadata(url: string, sealer: Sealer): Promise<Metadata> {
  const pool = createPool(url, POOL_SIZE);
  // An idle connection the server drops is replaced on the next query; it is no reason to crash.
  pool.on('error', () => {});
  try {
    checkMasterKey(await pgMasterKeyEvidence(pool), sealer);
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    throw reachable(error);
  }
  const accounts = new PgAccountRepo(pool, sealer);
  const datastores = new PgDatastoreRepo(pool, sealer);
  const directory = new PgDirectoryRepo(pool);
  const consumers = new PgConsumerRepo(pool, sealer);
  const workspaces = new PgWorkspaceRepo(pool, sealer, datastores);
  return {
    dialect: 'postgres',
    settings: new PgSettingsRepo(pool),
    declarations: new PgAccountDeclarationRepo(pool, sealer),
    accounts,
    directory,
    groups: new PgResourceGroupRepo(pool),
    workspaces,
    datastores,
    models: new PgAssetRepo(pool, 'model'),
    data: new PgAssetRepo(pool, 'data'),
    codes: new PgAssetRepo(pool, 'code'),
    jobs: new PgJobRepo(pool),
    consumers,
    rotations: new PgRotationRepo(pool, accounts, consumers, directory),
    keylessMigrations: new PgKeylessMigrationRepo(pool, sealer, datastores, workspaces),
    activity: new PgActivityRepo(pool),
    blobs: new PgBlobRepo(pool),
    files: new PgFileRepo(pool),
    serviceProperties: new PgServicePropertiesRepo(pool),
    cluster: new PgClusterStore(pool, url),
    async referencedContent() {
      const { rows } = await pool.query<{ id: string }>('SELECT id FROM content WHERE refs > 0');
      return new Set(rows.map((row) => row.id));
    },
    durable: () => Promise.resolve(),
    close: () => pool.end(),
  };
}

/** A connection failure, said without the URL (it may hold a password). */
function reachable(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01' || code === '3D000' || code === '28000') {
    return new Error(`Cannot open the PostgreSQL database given by --database or MLSPACE_DATABASE_URL: ${(error as Error).message}. Check the host, port, database name and credentials.`);
  }
  return error;
}
