import type { AccountSettings, StorageAccountRecord } from '../../db/records.js';
import { discoverConsumers, keylessReadiness } from '../../rotation/consumers.js';
import { newAccountKey } from '../../keys/account-keys.js';
import { ACCOUNT_NAME } from '../../server/config.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import type { ArmRoute } from '../http/route.js';
import { accountId } from '../arm-ids.js';
import { iso, requireGroup } from './common.js';
import { discard } from '../../storage/blob/blobs.js';

export const ACCOUNT_PATH = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts/{accountName}';
const TYPE = 'Microsoft.Storage/storageAccounts';
const SKUS = ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_ZRS', 'Premium_LRS', 'Premium_ZRS', 'Standard_GZRS', 'Standard_RAGZRS'] as const;
const KINDS = ['Storage', 'StorageV2', 'BlobStorage', 'FileStorage', 'BlockBlobStorage'] as const;

export function accountJson(deps: ManagementDeps, account: StorageAccountRecord) {
  const { settings } = account;
  const primaryEndpoints: Record<string, string> = { blob: `${deps.blob.endpoint}/${account.name}/` };
  primaryEndpoints.file = `${deps.file.endpoint}/${account.name}/`;
  return {
    id: accountId(deps, account),
    name: account.name,
    type: TYPE,
    location: settings.location,
    tags: settings.tags,
    sku: { name: settings.skuName, tier: settings.skuName.startsWith('Premium') ? 'Premium' : 'Standard' },
    kind: settings.kind,
    properties: {
      // Every account's data is encrypted at rest with Microsoft-managed keys, as Azure reports it (az's update reads it).
      encryption: {
        keySource: 'Microsoft.Storage',
        services: { blob: { enabled: true, keyType: 'Account', lastEnabledTime: iso(account.created) }, file: { enabled: true, keyType: 'Account', lastEnabledTime: iso(account.created) } },
        requireInfrastructureEncryption: false,
      },
      ...settings.properties,
      provisioningState: 'Succeeded',
      creationTime: iso(account.created),
      primaryEndpoints,
      primaryLocation: settings.location,
      statusOfPrimary: 'available',
      keyCreationTime: { key1: iso(account.keyCreated[0]), key2: iso(account.keyCreated[1]) },
      ...(settings.keyExpirationPeriodInDays === undefined ? {} : { keyPolicy: { keyExpirationPeriodInDays: settings.keyExpirationPeriodInDays } }),
      allowSharedKeyAccess: account.allowSharedKeyAccess,
    },
  };
}

function checkAccountName(name: string): void {
  if (!ACCOUNT_NAME.test(name)) {
    throw new ArmError(
      400,
      'AccountNameInvalid',
      `${name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.`,
    );
  }
}

/** The account a request names, in the group it names; 404 when it is not there. */
export async function requireAccount(deps: ManagementDeps, ctx: ArmRequest): Promise<StorageAccountRecord> {
  const group = await requireGroup(deps, ctx);
  const name = ctx.params.accountName!;
  const account = await deps.accounts.get(name);
  if (!account || !sameName(account.resourceGroup, group.name)) throw armErrors.resourceNotFound(TYPE, name, group.name);
  return account;
}

/**
 * The settings a PUT or PATCH body states, on top of `current`. PUT (no current)
 * must state sku, kind and location, as Azure requires; PATCH may state any.
 */
function readSettings(body: Fields, current: AccountSettings | undefined, allowSharedKeyAccess: boolean) {
  const sku = current ? body.object('sku') : body.requiredObject('sku');
  const skuName = sku ? sku.oneOf('name', SKUS, true) : undefined;
  if (sku && skuName === undefined) throw armErrors.invalidContent(`'sku.name' is required; use one of ${SKUS.join(', ')}.`);
  const kind = body.oneOf('kind', KINDS, true);
  if (!current && kind === undefined) throw armErrors.invalidContent(`'kind' is required; use one of ${KINDS.join(', ')}.`);
  const location = current ? current.location : body.requiredString('location');
  const properties = body.object('properties') ?? new Fields({}, 'properties.');
  const keyPolicy = properties.object('keyPolicy');
  const extra: Record<string, unknown> = { ...current?.properties };
  const keep = (name: string, value: unknown) => {
    if (value !== undefined) extra[name] = value;
  };
  keep('accessTier', properties.oneOf('accessTier', ['Hot', 'Cool', 'Cold', 'Premium'] as const));
  keep('minimumTlsVersion', properties.oneOf('minimumTlsVersion', ['TLS1_0', 'TLS1_1', 'TLS1_2', 'TLS1_3'] as const));
  keep('supportsHttpsTrafficOnly', properties.boolean('supportsHttpsTrafficOnly'));
  keep('allowBlobPublicAccess', properties.boolean('allowBlobPublicAccess'));
  keep('publicNetworkAccess', properties.oneOf('publicNetworkAccess', ['Enabled', 'Disabled', 'SecuredByPerimeter'] as const));
  const settings: AccountSettings = {
    location,
    skuName: skuName ?? current!.skuName,
    kind: kind ?? current!.kind,
    tags: body.stringMap('tags') ?? current?.tags ?? {},
    keyExpirationPeriodInDays: keyPolicy ? keyPolicy.integer('keyExpirationPeriodInDays', 1, 36500) : current?.keyExpirationPeriodInDays,
    properties: extra,
  };
  if (keyPolicy && settings.keyExpirationPeriodInDays === undefined) {
    throw armErrors.invalidContent("'properties.keyPolicy.keyExpirationPeriodInDays' is required when keyPolicy is given.");
  }
  return { settings, allowSharedKeyAccess: properties.boolean('allowSharedKeyAccess') ?? allowSharedKeyAccess };
}

/**
 * Saves new settings and reloads the key ring, so an allowSharedKeyAccess change
 * applies to the next request. What the account's body does not carry is kept:
 * its blobServices/default settings and its count of delegation key revocations.
 */
async function saveSettings(deps: ManagementDeps, ctx: ArmRequest, account: StorageAccountRecord, update: ReturnType<typeof readSettings>): Promise<StorageAccountRecord> {
  if (account.allowSharedKeyAccess && !update.allowSharedKeyAccess && ctx.query.get('force') !== 'true') await refuseIfKeyBased(deps, account);
  const { blobService, delegationKeyRevocations } = account.settings;
  const settings: AccountSettings = { ...update.settings, ...(blobService && { blobService }), ...(delegationKeyRevocations && { delegationKeyRevocations }) };
  await deps.accounts.saveSettings(account.name, update.allowSharedKeyAccess, settings);
  const saved = { ...account, allowSharedKeyAccess: update.allowSharedKeyAccess, settings };
  await deps.keyring.changed(saved);
  return saved;
}

/**
 * Turning Shared Key off breaks every consumer that holds a key or a key-signed
 * SAS: refused, naming them and what to do, unless the caller says force=true
 * (an mlspace extension; `mlspace storage account update --force`).
 */
async function refuseIfKeyBased(deps: ManagementDeps, account: StorageAccountRecord): Promise<void> {
  const readiness = keylessReadiness(await discoverConsumers(deps.consumers, account, deps.subscriptionId), []);
  if (readiness.ready) return;
  const named = readiness.blocking.slice(0, 5).map((consumer) => `${consumer.id} (${consumer.credentialsType})`);
  throw new ArmError(
    409,
    'KeyBasedConsumersExist',
    `Turning off Shared Key access on storage account '${account.name}' would break ${readiness.keyBased} consumer(s) that use its keys: ${named.join('; ')}${readiness.keyBased > 5 ? '; ...' : ''}. ` +
      "Move them to identity access first ('mlspace storage account keys consumers --keyless-readiness' says how for each), or pass force=true (--force) to turn it off anyway.",
  );
}

/**
 * revokeUserDelegationKeys: every user delegation key of the account, and every
 * SAS signed with one, stops working from the next request on, on every node
 * (the keys derive from the revocation count; see user-delegation.ts).
 */
async function revokeUserDelegationKeys(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const settings = { ...account.settings, delegationKeyRevocations: (account.settings.delegationKeyRevocations ?? 0) + 1 };
  await deps.accounts.saveSettings(account.name, account.allowSharedKeyAccess, settings);
  await deps.keyring.changed({ ...account, settings });
  deps.logger.info({ account: account.name }, 'user delegation keys revoked');
  return { status: 200 };
}

/**
 * PUT: creates the account synchronously and answers 200 with provisioningState
 * Succeeded, which the SDK's poller takes as done. A PUT on an existing account
 * of the same group updates it, as Azure's does; a name used anywhere else is taken.
 */
async function create(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const name = ctx.params.accountName!;
  checkAccountName(name);
  const group = await requireGroup(deps, ctx);
  const body = new Fields(await readJsonObject(ctx.req));
  const existing = await deps.accounts.get(name);
  if (existing && !sameName(existing.resourceGroup, group.name)) throw accountTaken(name);
  if (existing) {
    const update = readSettings(body, undefined, existing.allowSharedKeyAccess);
    if (!sameName(update.settings.location, existing.settings.location)) {
      throw new ArmError(409, 'InvalidResourceLocation', `The storage account '${name}' already exists in location '${existing.settings.location}'; its location cannot change.`);
    }
    return { status: 200, body: accountJson(deps, await saveSettings(deps, ctx, existing, update)) };
  }
  const { settings, allowSharedKeyAccess } = readSettings(body, undefined, true);
  const now = Date.now();
  const account: StorageAccountRecord = {
    name,
    keys: [newAccountKey(), newAccountKey()],
    keyCreated: [now, now],
    allowSharedKeyAccess,
    created: now,
    resourceGroup: group.name,
    settings,
  };
  if (!(await deps.accounts.create(account))) throw accountTaken(name);
  await deps.keyring.changed(account);
  return { status: 200, body: accountJson(deps, account) };
}

function accountTaken(name: string): ArmError {
  return new ArmError(409, 'StorageAccountAlreadyTaken', `The storage account named ${name} is already taken. Account names are unique on this server; choose another.`);
}

async function update(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const body = new Fields(await readJsonObject(ctx.req));
  return { status: 200, body: accountJson(deps, await saveSettings(deps, ctx, account, readSettings(body, account.settings, account.allowSharedKeyAccess))) };
}

/**
 * Deletes an account with everything it holds, and drops its keys from the key
 * ring first so the data plane refuses it at once. Workspaces linked to it are
 * left, as in Azure: their storage operations fail until relinked.
 */
export async function deleteStorageAccount(deps: ManagementDeps, name: string): Promise<boolean> {
  if (!(await deps.accounts.delete(name))) return false;
  await deps.keyring.removed(name);
  const orphans = await deps.blob.repo.deleteAccountData(name);
  discard(deps.blob, orphans);
  await deps.file.deleteAccountData(name);
  return true;
}

async function remove(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const group = await requireGroup(deps, ctx);
  const account = await deps.accounts.get(ctx.params.accountName!);
  // ARM answers 204 when there was nothing to delete.
  if (!account || !sameName(account.resourceGroup, group.name)) return { status: 204 };
  await deleteStorageAccount(deps, account.name);
  return { status: 200 };
}

async function checkNameAvailability(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const body = new Fields(await readJsonObject(ctx.req));
  const name = body.requiredString('name');
  const type = body.string('type');
  if (type !== undefined && !sameName(type, TYPE)) {
    throw armErrors.invalidContent(`'type' must be '${TYPE}'; got '${type}'.`);
  }
  if (!ACCOUNT_NAME.test(name)) {
    return {
      status: 200,
      body: { nameAvailable: false, reason: 'AccountNameInvalid', message: `${name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.` },
    };
  }
  if (await deps.accounts.get(name)) {
    return { status: 200, body: { nameAvailable: false, reason: 'AlreadyExists', message: `The storage account named ${name} is already taken.` } };
  }
  return { status: 200, body: { nameAvailable: true } };
}

export function storageAccountRoutes(deps: ManagementDeps): ArmRoute[] {
  const list = (accounts: StorageAccountRecord[]): ArmResult => ({ status: 200, body: { value: accounts.map((account) => accountJson(deps, account)) } });
  return [
    { method: 'PUT', pattern: ACCOUNT_PATH, action: `${TYPE}/write`, handler: (ctx) => create(deps, ctx) },
    { method: 'PATCH', pattern: ACCOUNT_PATH, action: `${TYPE}/write`, handler: (ctx) => update(deps, ctx) },
    { method: 'GET', pattern: ACCOUNT_PATH, action: `${TYPE}/read`, handler: async (ctx) => ({ status: 200, body: accountJson(deps, await requireAccount(deps, ctx)) }) },
    { method: 'DELETE', pattern: ACCOUNT_PATH, action: `${TYPE}/delete`, handler: (ctx) => remove(deps, ctx) },
    {
      method: 'POST',
      pattern: `${ACCOUNT_PATH}/revokeUserDelegationKeys`,
      action: `${TYPE}/revokeUserDelegationKeys/action`,
      activity: `${TYPE}/revokeUserDelegationKeys/action`,
      handler: (ctx) => revokeUserDelegationKeys(deps, ctx),
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts',
      action: `${TYPE}/read`,
      handler: async (ctx) => list(await deps.accounts.listByGroup((await requireGroup(deps, ctx)).name)),
    },
    { method: 'GET', pattern: '/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts', action: `${TYPE}/read`, handler: async () => list(await deps.accounts.list()) },
    {
      method: 'POST',
      pattern: '/subscriptions/{subscriptionId}/providers/Microsoft.Storage/checkNameAvailability',
      action: 'Microsoft.Storage/checknameavailability/read',
      handler: (ctx) => checkNameAvailability(deps, ctx),
    },
    ...(['GET', 'PUT', 'DELETE'] as const).flatMap((method) =>
      [`${ACCOUNT_PATH}/objectReplicationPolicies`, `${ACCOUNT_PATH}/objectReplicationPolicies/{policyId}`].map((pattern) => ({
        method,
        pattern,
        action: `${TYPE}/objectReplicationPolicies/${method === 'GET' ? 'read' : method === 'PUT' ? 'write' : 'delete'}`,
        handler: (): ArmResult => {
          throw new ArmError(400, 'FeatureNotSupported', 'Object replication is not supported by mlspace: a server has no second region to replicate to. Copy blobs with Copy Blob instead.');
        },
      })),
    ),
  ];
}
