import type { StorageAccountRecord } from '../../db/records.js';
import { boundedIds } from '../activity/activity-log.js';
import { discoverConsumers } from '../../rotation/consumers.js';
import { rotationConflict } from '../../rotation/account-key.js';
import { regenerateAccountKey } from '../../keys/account-keys.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { iso } from './common.js';
import { ACCOUNT_PATH, requireAccount } from './storage-accounts.js';

const ACTION = 'Microsoft.Storage/storageAccounts';

function keysJson(account: StorageAccountRecord) {
  return {
    keys: account.keys.map((value, i) => ({ keyName: `key${i + 1}`, value, permissions: 'Full', creationTime: iso(account.keyCreated[i]!) })),
  };
}

/**
 * regenerateKey. Refused while a rotation of the account runs (it may be
 * moving consumers onto the very key asked for). The activity log names the
 * consumers that held the old value: they stop working now.
 */
async function regenerateKey(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const keyName = new Fields(await readJsonObject(ctx.req)).requiredString('keyName').toLowerCase();
  if (keyName === 'kerb1' || keyName === 'kerb2') {
    throw new ArmError(400, 'InvalidValuesForRequestParameters', 'Kerberos keys (kerb1, kerb2) are not supported by this server; regenerate key1 or key2.');
  }
  if (keyName !== 'key1' && keyName !== 'key2') {
    throw new ArmError(400, 'InvalidValuesForRequestParameters', `'keyName' must be 'key1' or 'key2'; got '${keyName}'.`);
  }
  const running = await deps.rotations.running(account.name);
  if (running) throw rotationConflict(deps, account, running);
  const broken = (await discoverConsumers(deps.consumers, account, deps.subscriptionId)).filter((consumer) => consumer.matches === keyName);
  const regenerated = await regenerateAccountKey(deps, account, keyName === 'key1' ? 0 : 1);
  if (!regenerated) throw armErrors.resourceNotFound('Microsoft.Storage/storageAccounts', account.name, account.resourceGroup);
  ctx.activity = { properties: { keyName, consumersNowStale: boundedIds(broken.map((consumer) => consumer.resourceId)) } };
  return { status: 200, body: keysJson(regenerated) };
}

export function storageKeyRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    {
      method: 'POST',
      pattern: `${ACCOUNT_PATH}/listKeys`,
      action: `${ACTION}/listkeys/action`,
      activity: `${ACTION}/listKeys/action`,
      handler: async (ctx) => ({ status: 200, body: keysJson(await requireAccount(deps, ctx)) }),
    },
    {
      method: 'POST',
      pattern: `${ACCOUNT_PATH}/regenerateKey`,
      action: `${ACTION}/regeneratekey/action`,
      activity: `${ACTION}/regenerateKey/action`,
      handler: (ctx) => regenerateKey(deps, ctx),
    },
  ];
}
