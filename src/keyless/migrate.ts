import { randomUUID } from 'node:crypto';
import type { DatastoreType } from '../db/datastores.js';
import type { IdentityCheck, KeylessMigrationRecord, MigrationTarget, PlannedGrant } from '../db/keyless-migrations.js';
import type { StorageAccountRecord } from '../db/records.js';
import type { WorkspaceRecord } from '../db/workspaces.js';
import { deadHere, processAddress } from '../cluster/cluster-node.js';
import { checkIdentityAccess } from '../keys/credential-probes.js';
import { accountId } from '../management/arm-ids.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { findRole } from '../management/identity/role-definitions.js';
import { newWorkspaceIdentity } from '../management/resources/workspaces.js';
import { discoverConsumers } from '../rotation/consumers.js';

/**
 * Test hooks, as the rotation's (docs/rotation.md): `MLSPACE_FAULT_CRASH_AT=keyless-<step>`
 * kills the server with SIGKILL right after that step's journal entry is on disk;
 * `MLSPACE_FAULT_PAUSE_AT=keyless-<step>:<ms>` holds the migration that long there.
 */
const CRASH_AT = process.env.MLSPACE_FAULT_CRASH_AT;
const PAUSE = /^keyless-(\w+):(\d+)$/.exec(process.env.MLSPACE_FAULT_PAUSE_AT ?? '');
async function faultPoint(step: 'assigned' | 'verifying' | 'done'): Promise<void> {
  if (CRASH_AT === `keyless-${step}`) process.kill(process.pid, 'SIGKILL');
  if (PAUSE?.[1] === step) await new Promise((resolve) => setTimeout(resolve, Number(PAUSE[2])));
}

const BLOB_ROLE = findRole('Storage Blob Data Contributor')!.id;
const FILE_ROLE = findRole('Storage File Data Privileged Contributor')!.id;

/** Which consumers to move: one datastore of one workspace, or every key-based consumer of the account. */
export interface MigrationSelection {
  resourceGroup?: string;
  workspace?: string;
  datastore?: string;
}

/** The narrowest scope that reaches a container or share, and the data role that lets an identity read and write it there. */
function grantFor(deps: ManagementDeps, account: StorageAccountRecord, type: DatastoreType, container: string): PlannedGrant {
  const scope =
    type === 'AzureBlob'
      ? `${accountId(deps, account)}/blobServices/default/containers/${container}`
      : `${accountId(deps, account)}/fileServices/default/fileshares/${container}`;
  return { name: randomUUID(), scope, roleDefinitionId: type === 'AzureBlob' ? BLOB_ROLE : FILE_ROLE };
}

/**
 * The workspace's system identity, made now if it has none (as a PATCH with
 * identity.type SystemAssigned would); a dry run makes nothing and says '' instead.
 */
async function identityOf(deps: ManagementDeps, workspace: WorkspaceRecord, dryRun: boolean): Promise<string> {
  if (workspace.settings.identity) return workspace.settings.identity.principalId;
  if (dryRun) return '';
  const principalId = await newWorkspaceIdentity(deps, workspace.name);
  await deps.workspaces.saveSettings(workspace.id, { ...workspace.settings, identity: { principalId } }, Date.now());
  return principalId;
}

/**
 * The plan: a target per key-based user datastore, and one per workspace whose
 * key copy (and system datastores) use the account, each with the role
 * assignments its identity needs and the containers and shares to check.
 */
async function plan(deps: ManagementDeps, account: StorageAccountRecord, selection: MigrationSelection, dryRun: boolean): Promise<MigrationTarget[]> {
  const consumers = (await discoverConsumers(deps.consumers, account, deps.subscriptionId)).filter(
    (consumer) =>
      (selection.workspace === undefined || consumer.holder.workspaceName.toLowerCase() === selection.workspace.toLowerCase()) &&
      (selection.resourceGroup === undefined || consumer.holder.resourceGroup.toLowerCase() === selection.resourceGroup.toLowerCase()),
  );
  const targets: MigrationTarget[] = [];
  // A workspace and its identity are read (or made) once, however many of its datastores move.
  const identities = new Map<string, Promise<{ workspace: WorkspaceRecord; principalId: string } | undefined>>();
  const identityFor = (resourceGroup: string, name: string) => {
    const key = `${resourceGroup.toLowerCase()}/${name.toLowerCase()}`;
    let found = identities.get(key);
    if (!found) {
      found = deps.workspaces.get(resourceGroup, name).then(async (workspace) => workspace && { workspace, principalId: await identityOf(deps, workspace, dryRun) });
      identities.set(key, found);
    }
    return found;
  };
  for (const { holder, resourceId } of consumers) {
    if (selection.datastore !== undefined && holder.datastoreName !== selection.datastore) continue;
    // System datastores move with their workspace.
    if (holder.kind === 'datastore' && holder.system) {
      if (selection.datastore !== undefined) {
        throw new ArmError(400, 'InvalidTarget', `'${holder.datastoreName}' is a system datastore of workspace '${holder.workspaceName}': it moves with its workspace; migrate the workspace (leave the datastore out).`);
      }
      continue;
    }
    const found = await identityFor(holder.resourceGroup, holder.workspaceName);
    if (!found) continue;
    const { workspace, principalId } = found;
    const checks: IdentityCheck[] =
      holder.kind === 'datastore'
        ? [{ datastoreName: holder.datastoreName!, type: holder.datastoreType!, containerName: holder.containerName! }]
        : (await deps.datastores.listSystem(workspace.id))
            .filter((datastore) => datastore.accountName === account.name)
            .map((datastore) => ({ datastoreName: datastore.name, type: datastore.type, containerName: datastore.containerName }));
    targets.push({
      kind: holder.kind,
      id: resourceId,
      workspaceId: workspace.id,
      workspaceName: workspace.name,
      resourceGroup: workspace.resourceGroup,
      ...(holder.kind === 'datastore' && { datastoreName: holder.datastoreName }),
      principalId,
      grants: checks.map((check) => grantFor(deps, account, check.type, check.containerName)),
      checks,
    });
  }
  if (selection.datastore !== undefined && targets.length === 0) {
    throw new ArmError(404, 'DatastoreNotFound', `No datastore '${selection.datastore}' of workspace '${selection.workspace}' holds a key of account '${account.name}'.`);
  }
  return targets;
}

/** The answer to a migration asked for while a key rotation of the account runs: it is moving the same consumers. */
async function rotationRunning(deps: ManagementDeps, account: StorageAccountRecord): Promise<ArmError> {
  const running = await deps.rotations.running(account.name);
  const which = running ? ` (operation ${running.id}, at step '${running.step}')` : '';
  const poll = running ? ` (GET ${accountId(deps, account)}/rotations/${running.id})` : '';
  return new ArmError(
    409,
    'RotationInProgress',
    `A key rotation of storage account '${account.name}' is in progress${which}, moving the same consumers to a new key. Wait for it to finish${poll}, then move them to keyless access.`,
  );
}

/** Removes the assignments the migration planned (those it did not make are simply not there) and records the rollback. */
async function rollBack(deps: ManagementDeps, record: KeylessMigrationRecord, error: KeylessMigrationRecord['error']): Promise<void> {
  for (const target of record.targets) for (const grant of target.grants) await deps.directory.deleteAssignment(grant.name);
  await deps.rolesChanged();
  await deps.keylessMigrations.setState(record.id, 'rolledBack', Date.now(), error);
  await deps.durable();
}

/**
 * Moves consumers of an account to identity access, journaled:
 * 1. the plan, with the names of the role assignments it will make, is journaled
 *    (assigning), then the assignments are made (an existing equal one is kept);
 * 2. verifying is journaled, and each identity lists each container and share it
 *    must reach, on the data plane, with a token for it: as a rotation verifies;
 * 3. only then, in one transaction with `done`, every target drops its key.
 * A failed check removes the assignments and ends rolledBack; a process killed
 * before `done` is rolled back the same way at its next start.
 */
export async function migrateToKeyless(
  deps: ManagementDeps,
  account: StorageAccountRecord,
  selection: MigrationSelection,
  callerId: string,
  dryRun: boolean,
): Promise<KeylessMigrationRecord> {
  const now = Date.now();
  const record: KeylessMigrationRecord = {
    id: randomUUID(),
    account: account.name,
    resourceGroup: account.resourceGroup,
    state: 'assigning',
    targets: await plan(deps, account, selection, dryRun),
    callerId,
    owner: processAddress(),
    created: now,
    updated: now,
  };
  if (dryRun || record.targets.length === 0) return record;
  if (!(await deps.keylessMigrations.start(record))) throw await rotationRunning(deps, account);
  await deps.durable();
  for (const target of record.targets) {
    for (const grant of target.grants) {
      await deps.directory.addAssignment({ ...grant, principalId: target.principalId, principalType: 'ServicePrincipal', created: Date.now(), createdBy: callerId });
    }
  }
  await deps.rolesChanged();
  await faultPoint('assigned');
  await deps.keylessMigrations.setState(record.id, 'verifying', Date.now());
  await deps.durable();
  await faultPoint('verifying');
  for (const target of record.targets) {
    for (const check of target.checks) {
      const why = await checkIdentityAccess(deps, target.principalId, { type: check.type, accountName: account.name, containerName: check.containerName }).catch(
        (error: unknown) => `the data plane could not be reached to verify it (${(error as Error).message}).`,
      );
      if (why !== undefined) {
        const error = { code: 'VerificationFailed', message: `${target.id}: its identity (principal ${target.principalId}) cannot reach '${check.datastoreName}': ${why} Nothing was changed.` };
        await rollBack(deps, record, error);
        return { ...record, state: 'rolledBack', error };
      }
    }
  }
  await deps.keylessMigrations.commit(record, Date.now());
  await deps.durable();
  await faultPoint('done');
  deps.logger.info({ account: account.name, migration: record.id, targets: record.targets.length }, 'consumers moved to keyless access');
  return { ...record, state: 'done' };
}

/**
 * A migration runs within one request, a few seconds: on a database nodes share,
 * one untouched this long belongs to a node that died, not to one still at it.
 */
const ABANDONED_AFTER_MS = 10 * 60_000;

/**
 * Every migration a stopped process left unfinished is rolled back: its consumers
 * keep their keys, its assignments go. Alone, at start, all of them; on a shared
 * database, those whose process is gone from this host, or that nobody has
 * touched for ten minutes (checked again every lease, with the rotations).
 */
export async function recoverMigrations(deps: ManagementDeps): Promise<void> {
  const abandoned = Date.now() - ABANDONED_AFTER_MS;
  for (const record of await deps.keylessMigrations.unfinished()) {
    if (deps.node.shared && record.updated > abandoned && !deadHere(record.owner)) continue;
    deps.logger.info({ migration: record.id, account: record.account, state: record.state }, 'rolling back an interrupted migration to keyless');
    await rollBack(deps, record, { code: 'Interrupted', message: 'The server stopped before the migration finished; it was rolled back: every consumer keeps its key.' });
  }
}
