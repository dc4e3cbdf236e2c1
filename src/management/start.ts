import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Metadata } from '../db/metadata.js';
import { failInterruptedJobs, JobRunner } from '../jobs/job-runner.js';
import { RotationEngine } from '../rotation/engine.js';
import type { RotationNode } from '../rotation/lease.js';
import { recoverRotations, watchRotations } from '../rotation/recovery.js';
import type { Logger } from '../server/log.js';
import type { KeyRing } from '../storage/auth/keyring.js';
import type { BearerAuth } from '../storage/auth/bearer.js';
import { recoverMigrations } from '../keyless/migrate.js';
import { ActivityLog } from './activity/activity-log.js';
import type { ManagementDeps } from './deps.js';
import type { Identity } from './identity/identity.js';
import { managementRequestListener } from './management-service.js';
import type { TlsMaterial } from './tls/local-ca.js';
import { ConsoleSessions } from './console/sessions.js';
import { closeWhenIdle, headerTimeouts } from '../storage/http/body-limits.js';
import { answerClientErrors } from '../server/client-errors.js';

export interface ManagementOptions {
  /** The local CA's server certificate, which the data plane's TLS ports serve too. */
  tls: TlsMaterial;
  /** The directory's ids, the token-signing key and the admin client (openIdentity). */
  identity: Identity;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** How clients write the host in URLs (wildcard addresses become 127.0.0.1). */
  displayHost: string;
  metadata: Metadata;
  /** This node, for the leases of the rotations it runs. */
  node: RotationNode;
  keyring: KeyRing;
  bearer: BearerAuth;
  blob: ManagementDeps['blob'];
  file: ManagementDeps['file'];
  durable: ManagementDeps['durable'];
  logger: Logger;
  /** Headers, and a body, that stall this long close the connection. */
  idleTimeoutMs: number;
  /** The Blob and File services' TLS ports, which the web console calls. */
  dataPlaneHttpsPorts: ManagementDeps['dataPlaneHttpsPorts'];
  /** Where command jobs work, when this node runs them (`--enable-local-jobs`). */
  jobsDir?: string;
}

/** ARM bodies are at most a MiB: a request still arriving after this long is an attack or a dead client. */
const REQUEST_TIMEOUT_MS = 120_000;

export interface ManagementEndpoint {
  server: https.Server;
  /** Lets background work (key rotations) reach a step boundary; call before closing the listeners it needs. */
  stopWork(): Promise<void>;
  endpoints: { arm: string; authority: string; tenantId: string; subscriptionId: string; caFile: string; adminClientFile: string };
}

/** Starts the HTTPS management and identity endpoint, and the rotations' recovery and watch. */
export async function startManagement(options: ManagementOptions): Promise<ManagementEndpoint> {
  const { metadata } = options;
  const { directory } = metadata;
  const { tenantId, subscriptionId, tokens, adminClientFile } = options.identity;

  const server = https.createServer({
    cert: options.tls.certChain,
    key: options.tls.key,
    keepAliveTimeout: 65_000,
    requestTimeout: Math.max(REQUEST_TIMEOUT_MS, options.idleTimeoutMs),
    ...headerTimeouts(options.idleTimeoutMs),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const arm = `https://${options.displayHost}:${(server.address() as AddressInfo).port}`;
  const deps: Omit<ManagementDeps, 'rotation'> & { rotation?: RotationEngine } = {
    tenantId,
    subscriptionId,
    armEndpoint: arm,
    directory,
    tokens,
    groups: metadata.groups,
    accounts: metadata.accounts,
    workspaces: metadata.workspaces,
    datastores: metadata.datastores,
    models: metadata.models,
    data: metadata.data,
    codes: metadata.codes,
    jobs: metadata.jobs,
    keyring: options.keyring,
    rolesChanged: async () => {
      options.bearer.forget();
      await options.keyring.propagate();
    },
    blob: options.blob,
    file: options.file,
    durable: options.durable,
    consumers: metadata.consumers,
    rotations: metadata.rotations,
    keylessMigrations: metadata.keylessMigrations,
    activity: new ActivityLog(metadata.activity, options.logger),
    logger: options.logger,
    dataPlaneHttpsPorts: options.dataPlaneHttpsPorts,
    dataPlaneHttps: {
      blob: `https://${options.displayHost}:${options.dataPlaneHttpsPorts.blob}`,
      file: `https://${options.displayHost}:${options.dataPlaneHttpsPorts.file}`,
      ca: fs.readFileSync(options.tls.caFile),
    },
    consoleSessions: new ConsoleSessions(),
    node: options.node,
  };
  // The engine runs the same operations as the API, so it needs the deps it is part of.
  deps.rotation = new RotationEngine(deps as ManagementDeps);
  if (options.jobsDir) deps.jobRunner = new JobRunner(deps as ManagementDeps, options.jobsDir);
  const ready = deps as ManagementDeps;
  // Interrupted rotations resume (or roll back) before any request can ask for a new one.
  await recoverRotations(ready);
  await recoverMigrations(ready);
  await (ready.jobRunner ? ready.jobRunner.recover() : failInterruptedJobs(ready));
  const stopWatching = watchRotations(ready);
  answerClientErrors(server, 'arm');
  server.on('request', (req) => closeWhenIdle(req, options.idleTimeoutMs, options.logger));
  server.on('request', managementRequestListener(ready));
  return {
    server,
    stopWork: async () => {
      stopWatching();
      await Promise.all([ready.rotation.stop(), ready.jobRunner?.stop()]);
    },
    endpoints: { arm, authority: arm, tenantId, subscriptionId, caFile: options.tls.caFile, adminClientFile },
  };
}
