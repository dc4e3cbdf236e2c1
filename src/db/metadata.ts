import type { AccountDeclarationStore } from './account-declarations.js';
import type { AccountStore } from './accounts.js';
import type { ActivityStore } from './activity-log.js';
import type { BlobStore } from './blobs.js';
import type { ClusterStore } from './cluster.js';
import type { ConsumerStore } from './consumers.js';
import type { DatastoreStore } from './datastores.js';
import type { DirectoryStore } from './directory.js';
import type { FileStore } from './files.js';
import type { SegmentIndex } from './segment-index.js';
import type { JobStore } from './jobs.js';
import type { KeylessMigrationStore } from './keyless-migrations.js';
import type { AssetStore, CodeVersionRecord, DataVersionRecord, ModelStore } from './assets.js';
import type { ResourceGroupStore } from './resource-groups.js';
import type { RotationStore } from './rotations.js';
import type { ServicePropertiesStore } from './service-properties.js';
import type { SettingsStore } from './settings.js';
import type { WorkspaceStore } from './workspaces.js';

/**
 * Every store of one metadata database, whichever its dialect: the one
 * interface between the server and where it keeps metadata. Nothing outside
 * src/db/ sees SQL, a SQLite handle or a PostgreSQL pool.
 */
export interface Metadata {
  readonly dialect: 'sqlite' | 'postgres';
  settings: SettingsStore;
  declarations: AccountDeclarationStore;
  accounts: AccountStore;
  directory: DirectoryStore;
  groups: ResourceGroupStore;
  workspaces: WorkspaceStore;
  datastores: DatastoreStore;
  models: ModelStore;
  data: AssetStore<DataVersionRecord>;
  codes: AssetStore<CodeVersionRecord>;
  jobs: JobStore;
  consumers: ConsumerStore;
  rotations: RotationStore;
  keylessMigrations: KeylessMigrationStore;
  activity: ActivityStore;
  blobs: BlobStore;
  files: FileStore;
  serviceProperties: ServicePropertiesStore;
  /** How the nodes sharing this database keep their key rings current; none for the embedded single node. */
  cluster?: ClusterStore;
  /** Every content id something still refers to, whichever service: what a sweep of the content store keeps. */
  referencedContent(): Promise<Set<string>>;
  /** Where the pages in segments are found and moved: only a node alone (SQLite) writes segments (src/bytes/segments.ts). */
  segments?: SegmentIndex;
  /** Resolves once the commits made so far are on disk; writes are acknowledged only then. */
  durable(): Promise<void>;
  close(): Promise<void>;
}
