import path from 'node:path';
import { checkMasterKey } from '../secrets/master-key-check.js';
import type { Sealer } from '../secrets/seal.js';
import { AccountDeclarationRepo } from './account-declarations.js';
import { AccountRepo } from './accounts.js';
import { ActivityRepo } from './activity-log.js';
import { asyncStore } from './async-store.js';
import { BlobRepo } from './blobs.js';
import { ConsumerRepo } from './consumers.js';
import { referencedContent } from './content-refs.js';
import { DatastoreRepo } from './datastores.js';
import { DirectoryRepo } from './directory.js';
import { FileRepo } from './files.js';
import type { Metadata } from './metadata.js';
import { AssetRepo } from './assets.js';
import { JobRepo } from './jobs.js';
import { ResourceGroupRepo } from './resource-groups.js';
import { RotationRepo } from './rotations.js';
import { KeylessMigrationRepo } from './keyless-migrations.js';
import { ServicePropertiesRepo } from './service-properties.js';
import { masterKeyEvidence, SettingsRepo } from './settings.js';
import { openSqlite } from './sqlite.js';
import { SegmentRepo } from './segment-index.js';
import { WalSync } from './wal-sync.js';
import { WorkspaceRepo } from './workspaces.js';

/**
 * The embedded dialect: one SQLite file in the data directory, refused before
 * any migration if `sealer` holds another master key than the one its secrets
 * were sealed with.
 */
export function openSqliteMetadata(dataDir: string, sealer: Sealer): Metadata {
  const file = path.join(dataDir, 'metadata.sqlite');
  const db = openSqlite(file, (opened) => checkMasterKey(masterKeyEvidence(opened), sealer));
  const walSync = new WalSync(`${file}-wal`);
  const accounts = new AccountRepo(db, sealer);
  const datastores = new DatastoreRepo(db, sealer);
  const directory = new DirectoryRepo(db);
  const consumers = new ConsumerRepo(db, sealer);
  const workspaces = new WorkspaceRepo(db, sealer, datastores);
  return {
    dialect: 'sqlite',
    settings: new SettingsRepo(db),
    declarations: new AccountDeclarationRepo(db, sealer),
    accounts,
    directory,
    groups: new ResourceGroupRepo(db),
    workspaces,
    datastores,
    models: new AssetRepo(db, 'model'),
    data: new AssetRepo(db, 'data'),
    codes: new AssetRepo(db, 'code'),
    jobs: new JobRepo(db),
    consumers,
    rotations: new RotationRepo(db, accounts, consumers, directory),
    keylessMigrations: new KeylessMigrationRepo(db, sealer, datastores, workspaces),
    activity: new ActivityRepo(db),
    blobs: asyncStore(new BlobRepo(db, () => walSync.inFlight())),
    files: asyncStore(new FileRepo(db)),
    serviceProperties: new ServicePropertiesRepo(db),
    referencedContent: async () => referencedContent(db),
    segments: asyncStore(new SegmentRepo(db)),
    durable: () => walSync.sync(),
    async close() {
      await walSync.close();
      db.close();
    },
  };
}
