import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ContentPins } from '../bytes/content-pins.js';
import { ContentStore } from '../bytes/content-store.js';
import { Segments } from '../bytes/segments.js';
import { SmallContentCache } from '../bytes/small-content-cache.js';
import { randomUUID } from 'node:crypto';
import { ClusterNode } from '../cluster/cluster-node.js';
import type { Metadata } from '../db/metadata.js';
import { openPostgresMetadata } from '../db/postgres/metadata.js';
import { openSqliteMetadata } from '../db/sqlite-metadata.js';
import { cacheWhileAlone } from '../cluster/cache-while-alone.js';
import { openIdentity } from '../management/identity/identity.js';
import { startManagement } from '../management/start.js';
import { Sealer } from '../secrets/seal.js';
import { KeyRing } from '../storage/auth/keyring.js';
import { BearerAuth } from '../storage/auth/bearer.js';
import { blobRequestListener } from '../storage/blob/blob-service.js';
import { discard } from '../storage/blob/blobs.js';
import { LIMITS } from '../storage/blob/deps.js';
import { FileCompactor } from '../storage/file/compaction.js';
import { SegmentCompactor } from '../storage/blob/segment-compactor.js';
import { UploadGate } from '../storage/http/body-limits.js';
import { fileRequestListener } from '../storage/file/file-service.js';
import { ensureAccounts } from './accounts-bootstrap.js';
import { fileServiceHook } from './file-hook.js';
import { DEV_ACCOUNT, type ServerConfig } from './config.js';
import { endpointsFileOf, removeEndpoints, writeEndpoints, type Endpoints } from './endpoints.js';
import { createDataPlaneServer, serviceOfPort } from './data-plane.js';
import { ensureTlsMaterial } from '../management/tls/local-ca.js';
import { checkMasterKey, MASTER_KEY_CHECK } from '../secrets/master-key-check.js';
import { ConsoleOrigin } from '../storage/http/cors.js';
import { checkDataDirPrivate, checkDevAccountExposure, checkPortsFree } from './start-checks.js';
import { createLogger, type Logger } from './log.js';

/**
 * While other nodes are live, how old an unreferenced content file must be
 * before a starting node removes it: another node may have written it and not
 * yet committed the write that refers to it (an upload stalls for at most the
 * idle timeout; this is far past that).
 */
const SHARED_SWEEP_AGE_MS = 3600_000;

/** While other nodes are live, how long an orphaned content file stays for their reads (see ContentPins). */
const SHARED_UNLINK_GRACE_MS = 10 * 60_000;

export interface RunningServer {
  endpoints: Endpoints;
  close(): Promise<void>;
}

/** Opens the data directory, starts every listener, and writes endpoints.json once they accept requests. */
export async function startServer(config: ServerConfig, logger: Logger = createLogger()): Promise<RunningServer> {
  checkDevAccountExposure(config);
  await checkPortsFree(config);
  const created = !fs.existsSync(config.dataDir);
  try {
    return await start(config, logger);
  } catch (error) {
    // A server that never started leaves no data directory of its own making behind
    // (unless it may share it: another node started at the same moment may be using it).
    if (created && !config.database) fs.rmSync(config.dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function start(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  checkDataDirPrivate(config.dataDir, config.allowSharedDataDir);
  const sealer = Sealer.open(config.dataDir, process.env, config.masterKeyFile);
  const metadata = config.database ? await openPostgresMetadata(config.database, sealer) : openSqliteMetadata(config.dataDir, sealer);
  try {
    return await serve(config, logger, metadata, sealer);
  } catch (error) {
    await metadata.close();
    throw error;
  }
}

async function serve(config: ServerConfig, logger: Logger, metadata: Metadata, sealer: Sealer): Promise<RunningServer> {
  await metadata.settings.setOnce(MASTER_KEY_CHECK, sealer.keyCheck());
  // Read back: of nodes first started together with different keys, only the first to record its own serves.
  checkMasterKey({ check: await metadata.settings.get(MASTER_KEY_CHECK) }, sealer);
  const { accounts, durable } = metadata;
  await ensureAccounts(accounts, metadata.declarations, [...(config.devAccount ? [DEV_ACCOUNT] : []), ...config.declaredAccounts]);

  const keyring = new KeyRing(sealer.derive('user-delegation'));
  const reloadKeyRing = async () => keyring.loadAll((await accounts.list()).filter((account) => account.name !== DEV_ACCOUNT.name || config.devAccount));
  await reloadKeyRing();
  // Nodes sharing a database confirm their key ring with it before serving a signed request.
  // Made once the identity is open; a reload (another node changed keys or roles) drops the roles it cached.
  let bearer: BearerAuth | undefined;
  const reload = async () => {
    await reloadKeyRing();
    bearer?.forget();
  };
  const cluster = metadata.cluster && new ClusterNode(metadata.cluster, keyring, { leaseMs: config.nodeLeaseMs, reload, logger });
  await cluster?.start();

  // Page writes go to segments only where no other node writes (the embedded dialect): see segments.ts.
  const segmentIndex = cluster ? undefined : metadata.segments;
  const content = new ContentStore(path.join(config.dataDir, 'blobs'), segmentIndex && ((pathOf) => new Segments(pathOf)));
  await content.init();
  const host = config.host;
  // Nodes sharing a data directory run this one at a time (ClusterNode.alone): nodes started
  // together on an empty volume agree on one CA, one token-signing key and one admin client.
  const prepare = async (othersLive: boolean) => {
    // Blob and File content share one store and one reference table, so one sweep covers both.
    // Live nodes may be writing files they are about to commit: with any about, only old files are candidates.
    const swept = await content.sweep(() => metadata.referencedContent(), othersLive ? SHARED_SWEEP_AGE_MS : 0);
    const tls = await ensureTlsMaterial(config.dataDir, host, config.tlsNames);
    return { swept, tls, identity: await openIdentity(config.dataDir, metadata.directory) };
  };
  const { swept, tls, identity } = cluster ? await cluster.alone(prepare) : await prepare(false);
  if (swept > 0) logger.info({ swept }, 'removed content left by interrupted writes');
  const tokens = new BearerAuth(identity.tokens, metadata.directory, identity);
  bearer = tokens;

  const blobServer = createDataPlaneServer(config.uploads.idleTimeoutMs);
  const fileServer = createDataPlaneServer(config.uploads.idleTimeoutMs);
  const blobTlsServer = createDataPlaneServer(config.uploads.idleTimeoutMs, tls);
  const fileTlsServer = createDataPlaneServer(config.uploads.idleTimeoutMs, tls);
  // One bound for both services: their uploads share the process's descriptors and the content store.
  const uploads = new UploadGate(config.uploads, logger);
  await listen(blobServer, config.blobPort, host);
  await listen(fileServer, config.filePort, host);
  await listen(blobTlsServer, config.blobHttpsPort, host);
  await listen(fileTlsServer, config.fileHttpsPort, host);
  // One set of pins and one small-content cache for both services: they share the content store.
  const pins = new ContentPins(content, () => (cluster?.othersLive ? SHARED_UNLINK_GRACE_MS : 0), durable);
  const cache = new SmallContentCache(64 * 1024 * 1024, LIMITS.smallContent);
  // Filled in once the management port listens: the console served there may call the data plane.
  const consoleOrigin = new ConsoleOrigin();
  const blobDeps = {
    // Alone on PostgreSQL, a node answers Get Blob's lookup from memory as the SQLite dialect does.
    repo: cluster ? cacheWhileAlone(metadata.blobs, () => cluster.sole()) : metadata.blobs,
    serviceProperties: metadata.serviceProperties,
    content,
    pins,
    durable,
    cache,
    endpoint: `http://${displayHost(host)}:${(blobServer.address() as AddressInfo).port}`,
    defaultAccessTier: (account: string) => keyring.get(account)?.defaultAccessTier ?? 'Hot',
    blobPolicy: (account: string) => keyring.get(account) ?? { versioning: false },
    rehydrateDelayMs: config.rehydrateDelayMs,
    asyncCopyDelayMs: config.asyncCopyDelayMs,
    consoleOrigin,
    bearer: tokens,
  };
  const blobListener = blobRequestListener(blobDeps, keyring, bearer, logger, uploads);
  // Soft-deleted blobs, versions and snapshots go for good once their retention runs out: now, then every minute.
  const purgeExpired = () =>
    blobDeps.repo.purgeExpired(Date.now()).then(
      (orphans) => discard(blobDeps, orphans),
      (error: unknown) => logger.error({ err: error }, 'purging expired soft-deleted blobs failed; the next minute tries again'),
    );
  void purgeExpired();
  const purgeTimer = setInterval(purgeExpired, 60_000).unref();
  const segmentCompactor = segmentIndex && content.segments && new SegmentCompactor(segmentIndex, content, content.segments, pins, logger);
  const fileEndpoint = `http://${displayHost(host)}:${(fileServer.address() as AddressInfo).port}`;
  const compactor = new FileCompactor(metadata.files, content, pins, logger);
  const fileListener = fileRequestListener({ repo: metadata.files, serviceProperties: metadata.serviceProperties, content, pins, cache, compactor, endpoint: fileEndpoint, durable, consoleOrigin }, keyring, bearer, logger, uploads);
  const listeners = { blob: blobListener, file: fileListener };
  for (const server of [blobServer, blobTlsServer]) server.on('request', serviceOfPort('blob', listeners));
  for (const server of [fileServer, fileTlsServer]) server.on('request', serviceOfPort('file', listeners));

  const management = await startManagement({
    tls,
    identity,
    host,
    port: config.armPort,
    displayHost: displayHost(host),
    metadata,
    node: { id: cluster?.info.id ?? randomUUID(), leaseMs: config.nodeLeaseMs, shared: cluster !== undefined },
    keyring,
    bearer,
    blob: blobDeps,
    file: fileServiceHook(metadata.files, pins, fileEndpoint),
    durable,
    logger,
    idleTimeoutMs: config.uploads.idleTimeoutMs,
    dataPlaneHttpsPorts: { blob: (blobTlsServer.address() as AddressInfo).port, file: (fileTlsServer.address() as AddressInfo).port },
    jobsDir: config.localJobs ? path.join(config.dataDir, 'jobs') : undefined,
  });
  consoleOrigin.port = (management.server.address() as AddressInfo).port;
  bearer.authority = management.endpoints.authority;
  const endpoints: Endpoints = {
    blob: blobDeps.endpoint,
    file: fileEndpoint,
    blobHttps: `https://${displayHost(host)}:${(blobTlsServer.address() as AddressInfo).port}`,
    fileHttps: `https://${displayHost(host)}:${(fileTlsServer.address() as AddressInfo).port}`,
    ...management.endpoints,
  };
  const endpointsFile = config.endpointsFile ?? endpointsFileOf(config.dataDir);
  writeEndpoints(endpointsFile, endpoints);

  return {
    endpoints,
    async close() {
      removeEndpoints(endpointsFile);
      clearInterval(purgeTimer);
      // Rotations verify consumers through the Blob and File services: let them pause while those still answer.
      await management.stopWork();
      await Promise.all([blobServer, fileServer, blobTlsServer, fileTlsServer, management.server].map(closeServer));
      await segmentCompactor?.stop();
      content.segments?.close();
      await cluster?.stop();
      await metadata.close();
    },
  };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting, lets requests in flight finish for a moment, then drops what is left. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2000).unref();
  });
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
