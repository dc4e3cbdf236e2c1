import type { ConsoleSessions } from './console/sessions.js';
import type { BlobDeps } from '../storage/blob/deps.js';
import type { AccountStore } from '../db/accounts.js';
import type { ConsumerStore } from '../db/consumers.js';
import type { DatastoreStore } from '../db/datastores.js';
import type { DirectoryStore } from '../db/directory.js';
import type { AssetStore, CodeVersionRecord, DataVersionRecord, ModelStore } from '../db/assets.js';
import type { JobStore } from '../db/jobs.js';
import type { ResourceGroupStore } from '../db/resource-groups.js';
import type { RotationStore } from '../db/rotations.js';
import type { KeylessMigrationStore } from '../db/keyless-migrations.js';
import type { WorkspaceStore } from '../db/workspaces.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { RotationEngine } from '../rotation/engine.js';
import type { RotationNode } from '../rotation/lease.js';
import type { Logger } from '../server/log.js';
import type { KeyRing } from '../storage/auth/keyring.js';
import type { ActivityLog } from './activity/activity-log.js';
import type { TokenService } from './identity/tokens.js';

/** What the File service offers the management plane (built in server/file-hook.ts). */
export interface FileServiceHook {
  /** Base URL, e.g. `http://127.0.0.1:10003`. */
  endpoint: string;
  /** Creates a workspace's share; one that already exists is kept as it is. */
  createShare(account: string, share: string): Promise<void>;
  /** Removes every share of a deleted account. */
  deleteAccountData(account: string): Promise<void>;
}

export interface ManagementDeps {
  tenantId: string;
  subscriptionId: string;
  /** The configured HTTPS base URL of this endpoint. */
  armEndpoint: string;
  directory: DirectoryStore;
  tokens: TokenService;
  groups: ResourceGroupStore;
  accounts: AccountStore;
  workspaces: WorkspaceStore;
  datastores: DatastoreStore;
  models: ModelStore;
  data: AssetStore<DataVersionRecord>;
  codes: AssetStore<CodeVersionRecord>;
  jobs: JobStore;
  /** Must be reloaded on every key change before answering (see KeyRing). */
  keyring: KeyRing;
  /** Call after a role assignment changes, before answering: every node's data plane then reads roles afresh. */
  rolesChanged: () => Promise<void>;
  blob: BlobDeps;
  file: FileServiceHook;
  /** Credential holders of each account, for consumer discovery and rotation. */
  consumers: ConsumerStore;
  /** The rotation journal. */
  rotations: RotationStore;
  /** The journal of migrations to keyless access. */
  keylessMigrations: KeylessMigrationStore;
  rotation: RotationEngine;
  /** Runs command jobs on this node; absent unless the server was started with --enable-local-jobs. */
  jobRunner?: JobRunner;
  /** This node, which holds the lease of the rotations it runs. */
  node: RotationNode;
  activity: ActivityLog;
  /** Resolves once the metadata commits made so far are on disk; writes are answered only then. */
  durable: () => Promise<void>;
  logger: Logger;
  /** The web console's sign-in codes and sessions. */
  consoleSessions: ConsoleSessions;
  /** The Blob and File services' TLS ports: the console's storage browser calls them at its own host name. */
  dataPlaneHttpsPorts: { blob: number; file: number };
  /** The same services' HTTPS URLs and the CA that signed them: credentials that are tokens are checked there (bearer tokens travel over TLS only). */
  dataPlaneHttps: { blob: string; file: string; ca: Buffer };
}
