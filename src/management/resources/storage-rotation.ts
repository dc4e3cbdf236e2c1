import type { StorageAccountRecord } from '../../db/records.js';
import { activeKey, consumerJson, discoverConsumers, keyAges, keylessJson, keylessReadiness, type Consumer, type KeyMatch } from '../../rotation/consumers.js';
import { ROTATE_OPERATION, rotationConflict, startKeyRotation } from '../../rotation/account-key.js';
import { jobsUsing } from '../../jobs/job-consumers.js';
import { blockedError, planRotation } from '../../rotation/plan.js';
import { rotationStatusJson } from '../../rotation/status.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { requestOrigin } from '../http/origin.js';
import type { ArmRoute } from '../http/route.js';
import { accountId } from '../arm-ids.js';
import { ACCOUNT_PATH, requireAccount } from './storage-accounts.js';

const ACTION = 'Microsoft.Storage/storageAccounts';
/** Seeing which key each consumer holds, and following a rotation, need what listConsumers needs. */
const LIST_CONSUMERS = `${ACTION}/listConsumers/action`;

function countMatches(consumers: Consumer[]): Record<KeyMatch, number> {
  const counts: Record<KeyMatch, number> = { key1: 0, key2: 0, stale: 0, unknown: 0 };
  for (const consumer of consumers) counts[consumer.matches]++;
  return counts;
}

/**
 * POST …/listConsumers (an mlspace extension): every workspace and datastore,
 * in any resource group, holding a credential of the account, with the key
 * it matches, the accounts' key ages, and the key a rotation would retire;
 * then the account's keyless datastores (matches `keyless`), what turning
 * Shared Key off would break (keylessReadiness), and the jobs running with
 * its credentials (runningJobs: they follow their holders through a rotation).
 */
async function listConsumers(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const [consumers, keyless] = await Promise.all([discoverConsumers(deps.consumers, account, deps.subscriptionId), deps.consumers.keylessByAccount(account.name)]);
  const [running, jobs] = await Promise.all([deps.rotations.running(account.name), jobsUsing(deps, account)]);
  const period = account.settings.keyExpirationPeriodInDays;
  return {
    status: 200,
    body: {
      id: accountId(deps, account),
      name: account.name,
      resourceGroup: account.resourceGroup,
      ...(period === undefined ? {} : { keyPolicy: { keyExpirationPeriodInDays: period } }),
      keyAges: keyAges(account),
      activeKey: activeKey(consumers, account),
      counts: { consumers: consumers.length, ...countMatches(consumers), keyless: keyless.length },
      ...(running ? { rotationInProgress: { id: running.id, step: running.step, phase: running.phase } } : {}),
      allowSharedKeyAccess: account.allowSharedKeyAccess,
      keylessReadiness: keylessReadiness(consumers, keyless),
      value: [...consumers.map(consumerJson), ...keyless.map((holder) => keylessJson(deps.subscriptionId, holder))],
      runningJobs: jobs,
    },
  };
}

/** The options of a rotation, from a rotateKeys body (single account or bulk). */
export function readRotationOptions(body: Fields) {
  return {
    keyName: body.oneOf('keyName', ['key1', 'key2'] as const, true),
    dryRun: body.boolean('dryRun') ?? false,
    reissueSas: body.boolean('reissueSas') ?? false,
  };
}

/** The URLs an ARM client polls: the async-operation status, and the Location that answers 202 until the result is there. */
export function operationHeaders(deps: ManagementDeps, ctx: ArmRequest, account: StorageAccountRecord, rotationId: string): Record<string, string> {
  const base = `${requestOrigin(ctx.req, deps.armEndpoint)}${accountId(deps, account)}/rotations/${rotationId}`;
  const query = `?api-version=${encodeURIComponent(ctx.query.get('api-version')!)}`;
  return { 'azure-asyncoperation': `${base}${query}`, location: `${base}/result${query}`, 'retry-after': '1' };
}

/**
 * Plans a rotation, and unless it is a dry run (200 with the plan), journals
 * and starts it: 202 with Azure-AsyncOperation and Location (see RotationEngine).
 */
export async function startRotation(deps: ManagementDeps, ctx: ArmRequest, account: StorageAccountRecord, options: ReturnType<typeof readRotationOptions>) {
  const running = await deps.rotations.running(account.name);
  if (running && !options.dryRun) throw rotationConflict(deps, account, running);
  const consumers = await discoverConsumers(deps.consumers, account, deps.subscriptionId);
  const plan = planRotation(account, consumers, options);
  if (options.dryRun) return { dryRun: true as const, plan };
  if (plan.summary.counts.blocked > 0) throw blockedError(plan.summary);
  return { dryRun: false as const, plan, rotation: await startKeyRotation(deps, account, plan.summary, ctx.principal!) };
}

async function rotateKeys(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const options = readRotationOptions(new Fields(await readJsonObject(ctx.req)));
  // A started rotation's events come from the engine (Accepted, then Succeeded or Failed); a dry run changes nothing.
  ctx.activity = { ownEvents: true };
  const started = await startRotation(deps, ctx, account, options);
  if (started.dryRun) return { status: 200, body: { dryRun: true, ...started.plan.summary, consumers: started.plan.consumers } };
  return {
    status: 202,
    body: await rotationStatusJson(deps, accountId(deps, account), started.rotation, false),
    headers: operationHeaders(deps, ctx, account, started.rotation.id),
  };
}

async function requireRotation(deps: ManagementDeps, ctx: ArmRequest, account: StorageAccountRecord) {
  const rotation = await deps.rotations.get(ctx.params.rotationId!);
  if (!rotation || rotation.account !== account.name) {
    throw new ArmError(404, 'ResourceNotFound', `Key rotation '${ctx.params.rotationId}' of storage account '${account.name}' was not found. List the account's rotations with GET .../rotations.`);
  }
  return rotation;
}

/** The status resource (Azure-AsyncOperation): always 200, status InProgress, Succeeded or Failed. */
async function rotationStatus(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const expand = ctx.query.get('$expand') === 'results';
  return { status: 200, body: await rotationStatusJson(deps, accountId(deps, account), await requireRotation(deps, ctx, account), expand) };
}

/** The Location resource: 202 while the rotation runs, then 200 with its final status. */
async function rotationResult(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const rotation = await requireRotation(deps, ctx, account);
  if (rotation.status === 'InProgress') return { status: 202, headers: operationHeaders(deps, ctx, account, rotation.id) };
  return { status: 200, body: await rotationStatusJson(deps, accountId(deps, account), rotation, true) };
}

async function listRotations(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const id = accountId(deps, account);
  const recent = await deps.rotations.recent(account.name, 50);
  return { status: 200, body: { value: await Promise.all(recent.map((rotation) => rotationStatusJson(deps, id, rotation, false))) } };
}

export function storageRotationRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    { method: 'POST', pattern: `${ACCOUNT_PATH}/listConsumers`, action: LIST_CONSUMERS, activity: LIST_CONSUMERS, handler: (ctx) => listConsumers(deps, ctx) },
    { method: 'POST', pattern: `${ACCOUNT_PATH}/rotateKeys`, action: ROTATE_OPERATION, activity: ROTATE_OPERATION, handler: (ctx) => rotateKeys(deps, ctx) },
    { method: 'GET', pattern: `${ACCOUNT_PATH}/rotations`, action: LIST_CONSUMERS, handler: (ctx) => listRotations(deps, ctx) },
    { method: 'GET', pattern: `${ACCOUNT_PATH}/rotations/{rotationId}`, action: LIST_CONSUMERS, handler: (ctx) => rotationStatus(deps, ctx) },
    { method: 'GET', pattern: `${ACCOUNT_PATH}/rotations/{rotationId}/result`, action: LIST_CONSUMERS, handler: (ctx) => rotationResult(deps, ctx) },
  ];
}
