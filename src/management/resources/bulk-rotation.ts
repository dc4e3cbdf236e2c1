import { BUILTIN_RESOURCE_GROUP } from '../../db/resource-groups.js';
import type { StorageAccountRecord } from '../../db/records.js';
import { activeKey, discoverConsumers, keyAgeDays } from '../../rotation/consumers.js';
import { rotationStatusJson } from '../../rotation/status.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import type { ArmRoute } from '../http/route.js';
import { requireGroup } from './common.js';
import { accountId } from '../arm-ids.js';
import { operationHeaders, readRotationOptions, startRotation } from './storage-rotation.js';

/**
 * What one account of a bulk rotation became: skipped (with the reason),
 * planned (dry run), or started, with the URL of its own async operation.
 */
async function accountOutcome(deps: ManagementDeps, ctx: ArmRequest, account: StorageAccountRecord, ifOlderThanDays: number | undefined, options: ReturnType<typeof readRotationOptions>) {
  const consumers = await discoverConsumers(deps.consumers, account, deps.subscriptionId);
  const active = activeKey(consumers, account);
  const base = {
    id: accountId(deps, account),
    accountName: account.name,
    resourceGroup: account.resourceGroup,
    activeKey: active,
    ...(active === 'both' ? {} : { activeKeyAgeInDays: Math.floor(keyAgeDays(account, active) * 100) / 100 }),
  };
  if (sameName(account.resourceGroup, BUILTIN_RESOURCE_GROUP)) {
    return { ...base, action: 'skipped', reason: "Its keys are declared at start-up (devstoreaccount1's is Azurite's well-known key; MLSPACE_ACCOUNTS names the others), so clients configured with them would break; rotate it by name if you mean it." };
  }
  if (ifOlderThanDays !== undefined && active !== 'both' && keyAgeDays(account, active) <= ifOlderThanDays) {
    return { ...base, action: 'skipped', reason: `Its active key ${active} is not older than ${ifOlderThanDays} days.` };
  }
  try {
    const started = await startRotation(deps, ctx, account, options);
    if (started.dryRun) return { ...base, action: 'planned', plan: started.plan.summary };
    const headers = operationHeaders(deps, ctx, account, started.rotation.id);
    return { ...base, action: 'started', operation: { ...(await rotationStatusJson(deps, base.id, started.rotation, false)), azureAsyncOperation: headers['azure-asyncoperation'] } };
  } catch (error) {
    if (!(error instanceof ArmError)) throw error;
    return { ...base, action: 'skipped', reason: error.message, code: error.code };
  }
}

/**
 * POST /subscriptions/{id}[/resourceGroups/{rg}]/providers/Microsoft.Storage/rotateKeys
 * (an mlspace extension), body `{ifOlderThanDays?, dryRun?, reissueSas?}`:
 * rotates each account of the scope whose active key (the one its consumers
 * use) is older than ifOlderThanDays. Each rotation is its own journaled
 * long-running operation, so this answers 200 at once with one entry per
 * account: skipped and why, planned (dry run), or started with its
 * Azure-AsyncOperation URL to poll.
 */
async function rotateMany(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const body = new Fields(await readJsonObject(ctx.req));
  const ifOlderThanDays = body.integer('ifOlderThanDays', 0, 36500);
  const options = readRotationOptions(body);
  if (options.keyName !== undefined) {
    throw new ArmError(400, 'InvalidRequestContent', "'keyName' applies to one account; a bulk rotation retires each account's active key. Rotate an account by name to choose its key.");
  }
  const accounts = ctx.params.resourceGroupName === undefined ? await deps.accounts.list() : await deps.accounts.listByGroup((await requireGroup(deps, ctx)).name);
  // One account after another, as before: each start sees the rotations the previous ones began.
  const value = [];
  for (const account of accounts) value.push(await accountOutcome(deps, ctx, account, ifOlderThanDays, options));
  return { status: 200, body: { value } };
}

export function bulkRotationRoutes(deps: ManagementDeps): ArmRoute[] {
  const action = 'Microsoft.Storage/storageAccounts/rotateKeys/action';
  return [
    { method: 'POST', pattern: '/subscriptions/{subscriptionId}/providers/Microsoft.Storage/rotateKeys', action, handler: (ctx) => rotateMany(deps, ctx) },
    {
      method: 'POST',
      pattern: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/rotateKeys',
      action,
      handler: (ctx) => rotateMany(deps, ctx),
    },
  ];
}
