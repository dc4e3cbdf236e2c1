import type { BlobServiceSettings, RetentionPolicy, StorageAccountRecord } from '../../db/records.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { accountId } from '../arm-ids.js';
import { ACCOUNT_PATH, requireAccount } from './storage-accounts.js';

const TYPE = 'Microsoft.Storage/storageAccounts/blobServices';
const SERVICE_PATH = `${ACCOUNT_PATH}/blobServices/{blobServicesName}`;

/**
 * An account's Blob service settings (`blobServices/default`): versioning and
 * the delete retention policy, which the data plane applies from the next
 * request on, and other properties (CORS, change feed, ...) kept as given.
 */
function serviceJson(deps: ManagementDeps, account: StorageAccountRecord) {
  const settings = account.settings.blobService ?? {};
  return {
    id: `${accountId(deps, account)}/blobServices/default`,
    name: 'default',
    type: TYPE,
    sku: { name: account.settings.skuName, tier: account.settings.skuName.startsWith('Premium') ? 'Premium' : 'Standard' },
    properties: {
      cors: { corsRules: [] },
      ...settings,
      isVersioningEnabled: settings.isVersioningEnabled ?? false,
      deleteRetentionPolicy: settings.deleteRetentionPolicy ?? { enabled: false, allowPermanentDelete: false },
      containerDeleteRetentionPolicy: settings.containerDeleteRetentionPolicy ?? { enabled: false },
    },
  };
}

function requireDefault(ctx: ArmRequest): void {
  const name = ctx.params.blobServicesName!;
  if (name !== 'default') throw new ArmError(400, 'InvalidParameter', `An account has one Blob service, named 'default', not '${name}'.`);
}

/** The settings a PUT or PATCH states, over the current ones: each property given replaces its value. */
function readSettings(body: Fields, current: BlobServiceSettings): BlobServiceSettings {
  const properties = body.object('properties') ?? new Fields({}, 'properties.');
  const next: BlobServiceSettings = { ...current, ...properties.raw };
  const versioning = properties.boolean('isVersioningEnabled');
  if (versioning !== undefined) next.isVersioningEnabled = versioning;
  for (const name of ['deleteRetentionPolicy', 'containerDeleteRetentionPolicy'] as const) {
    const policy = retentionPolicy(properties, name);
    if (policy) next[name] = policy;
  }
  return next;
}

/** A delete retention policy: enabled, and for how many days (1 to 365) when it is. */
function retentionPolicy(properties: Fields, name: string): RetentionPolicy | undefined {
  const retention = properties.object(name);
  if (!retention) return undefined;
  const enabled = retention.boolean('enabled');
  if (enabled === undefined) throw armErrors.invalidContent(`'properties.${name}.enabled' is required and must be a boolean.`);
  const days = retention.integer('days', 1, 365);
  if (enabled && days === undefined) throw armErrors.invalidContent(`'properties.${name}.days' is required when the policy is enabled: from 1 to 365.`);
  return { enabled, ...(enabled ? { days } : {}), ...(name === 'deleteRetentionPolicy' ? { allowPermanentDelete: retention.boolean('allowPermanentDelete') ?? false } : {}) };
}

async function setProperties(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  requireDefault(ctx);
  const account = await requireAccount(deps, ctx);
  const blobService = readSettings(new Fields(await readJsonObject(ctx.req)), account.settings.blobService ?? {});
  const settings = { ...account.settings, blobService };
  await deps.accounts.saveSettings(account.name, account.allowSharedKeyAccess, settings);
  const saved = { ...account, settings };
  // The data plane reads the policy from the key ring: reload it, on every node, before answering.
  await deps.keyring.changed(saved);
  return { status: 200, body: serviceJson(deps, saved) };
}

export function blobServiceRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    {
      method: 'GET',
      pattern: SERVICE_PATH,
      action: `${TYPE}/read`,
      handler: async (ctx) => {
        requireDefault(ctx);
        return { status: 200, body: serviceJson(deps, await requireAccount(deps, ctx)) };
      },
    },
    { method: 'PUT', pattern: SERVICE_PATH, action: `${TYPE}/write`, handler: (ctx) => setProperties(deps, ctx) },
    { method: 'PATCH', pattern: SERVICE_PATH, action: `${TYPE}/write`, handler: (ctx) => setProperties(deps, ctx) },
    {
      method: 'GET',
      pattern: `${ACCOUNT_PATH}/blobServices`,
      action: `${TYPE}/read`,
      handler: async (ctx) => ({ status: 200, body: { value: [serviceJson(deps, await requireAccount(deps, ctx))] } }),
    },
  ];
}
