import { randomUUID } from 'node:crypto';
import type { WorkspaceRecord, WorkspaceSettings } from '../../db/workspaces.js';
import { boundedIds } from '../activity/activity-log.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import type { ArmRoute } from '../http/route.js';
import { accountId, groupId } from '../arm-ids.js';
import { requireGroup, systemData } from './common.js';
import { provisionWorkspaceStorage } from './workspace-provisioning.js';
import { checkIdentityAccess } from '../../keys/credential-probes.js';

export const WORKSPACE_PATH =
  '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}';
const TYPE = 'Microsoft.MachineLearningServices/workspaces';
const WORKSPACE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$/;
const STORAGE_ACCOUNT_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i;
/** Workspace properties kept as given: references to resources this server does not have. */
const PASSTHROUGH = ['keyVault', 'applicationInsights', 'containerRegistry', 'imageBuildCompute', 'primaryUserAssignedIdentity'] as const;

export function workspaceId(deps: ManagementDeps, workspace: WorkspaceRecord): string {
  return `${groupId(deps, workspace.resourceGroup)}/providers/${TYPE}/${workspace.name}`;
}

async function workspaceJson(deps: ManagementDeps, workspace: WorkspaceRecord) {
  const { settings } = workspace;
  const account = await deps.accounts.get(workspace.storageAccount);
  return {
    id: workspaceId(deps, workspace),
    name: workspace.name,
    type: TYPE,
    location: settings.location,
    tags: settings.tags,
    sku: { name: settings.skuName ?? 'Basic', tier: settings.skuName ?? 'Basic' },
    systemData: systemData(workspace.created, workspace.modified),
    identity: settings.identity ? { type: 'SystemAssigned', principalId: settings.identity.principalId, tenantId: deps.tenantId } : { type: 'None' },
    properties: {
      ...settings.properties,
      workspaceId: workspace.id,
      friendlyName: settings.friendlyName ?? workspace.name,
      description: settings.description,
      storageAccount: account ? accountId(deps, account) : workspace.storageAccount,
      provisioningState: 'Succeeded',
      hbiWorkspace: false,
      storageHnsEnabled: false,
      systemDatastoresAuthMode: settings.systemDatastoresAuthMode ?? 'accessKey',
    },
  };
}

export async function requireWorkspace(deps: ManagementDeps, ctx: ArmRequest): Promise<WorkspaceRecord> {
  const group = await requireGroup(deps, ctx);
  const name = ctx.params.workspaceName!;
  const workspace = await deps.workspaces.get(group.name, name);
  if (!workspace) throw armErrors.resourceNotFound(TYPE, name, group.name);
  return workspace;
}

/** properties.storageAccount must be the ARM id of an account that exists here; a clear 400 otherwise. */
async function resolveStorageAccount(deps: ManagementDeps, id: string) {
  const match = STORAGE_ACCOUNT_ID.exec(id);
  if (!match) {
    throw new ArmError(
      400,
      'ValidationError',
      `'properties.storageAccount' must be a storage account's ARM id, /subscriptions/{subscriptionId}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}; got '${id}'.`,
    );
  }
  const [, subscription, group, name] = match;
  const account = await deps.accounts.get(name!);
  if (!sameName(subscription!, deps.subscriptionId) || !account || !sameName(account.resourceGroup, group!)) {
    throw new ArmError(
      400,
      'ValidationError',
      `The storage account '${id}' named in 'properties.storageAccount' does not exist. Create it first (Microsoft.Storage/storageAccounts) in subscription ${deps.subscriptionId}.`,
    );
  }
  return account;
}

function readSettings(body: Fields, current: WorkspaceSettings | undefined): WorkspaceSettings {
  const properties = body.object('properties') ?? new Fields({}, 'properties.');
  const extra: Record<string, unknown> = { ...current?.properties };
  for (const name of PASSTHROUGH) {
    const value = properties.string(name);
    if (value !== undefined) extra[name] = value;
  }
  const publicNetworkAccess = properties.oneOf('publicNetworkAccess', ['Enabled', 'Disabled'] as const);
  if (publicNetworkAccess !== undefined) extra.publicNetworkAccess = publicNetworkAccess;
  return {
    identity: current?.identity,
    systemDatastoresAuthMode: current?.systemDatastoresAuthMode,
    location: current?.location ?? body.requiredString('location'),
    tags: body.stringMap('tags') ?? current?.tags ?? {},
    skuName: body.object('sku')?.string('name') ?? current?.skuName,
    friendlyName: properties.string('friendlyName') ?? current?.friendlyName,
    description: properties.string('description') ?? current?.description,
    properties: extra,
  };
}

/**
 * The workspace's system-assigned identity: kept when it has one; made when it
 * is new, or when the body asks for one (identity.type SystemAssigned), as
 * Azure ML gives every workspace one. It is a principal of the directory with no
 * secret: nothing can sign in as it, and roles can be assigned to it.
 */
async function systemIdentity(deps: ManagementDeps, body: Fields, name: string, current: WorkspaceSettings['identity'], isNew: boolean): Promise<WorkspaceSettings['identity']> {
  if (current) return current;
  const asked = body.object('identity')?.oneOf('type', ['SystemAssigned', 'None', 'UserAssigned', 'SystemAssigned,UserAssigned'] as const, true);
  if (!isNew && asked !== 'SystemAssigned' && asked !== 'SystemAssigned,UserAssigned') return undefined;
  return { principalId: await newWorkspaceIdentity(deps, name) };
}

/** A new system-assigned identity for a workspace: a principal of the directory with no secret, that nothing can sign in as. */
export async function newWorkspaceIdentity(deps: ManagementDeps, workspaceName: string): Promise<string> {
  const principalId = randomUUID();
  await deps.directory.addPrincipal({ clientId: principalId, displayName: `${workspaceName} (workspace identity)`, secretHash: '', created: Date.now() }, []);
  return principalId;
}

/**
 * Saves a workspace's settings, switching how it and its system datastores reach
 * its account when the body asks for another properties.systemDatastoresAuthMode:
 * - identity: the workspace's identity must already reach every system container
 *   and share (checked on the data plane with a token for it, as a rotation
 *   verifies); then, in one transaction, the workspace's key copy and its system
 *   datastores' keys are dropped, and no key change touches them any more;
 * - accessKey: they take the account's key1 again.
 */
async function saveWithAccessMode(deps: ManagementDeps, workspace: WorkspaceRecord, body: Fields, settings: WorkspaceSettings, now: number): Promise<WorkspaceSettings> {
  const current = workspace.settings.systemDatastoresAuthMode ?? 'accessKey';
  const asked = body.object('properties')?.oneOf('systemDatastoresAuthMode', ['accessKey', 'identity'] as const, true) ?? current;
  if (asked === current) {
    await deps.workspaces.saveSettings(workspace.id, settings, now);
    return settings;
  }
  const switched = { ...settings, systemDatastoresAuthMode: asked };
  if (asked === 'accessKey') {
    const account = await deps.accounts.get(workspace.storageAccount);
    if (!account) throw new ArmError(400, 'ValidationError', `The storage account '${workspace.storageAccount}' of workspace '${workspace.name}' no longer exists.`);
    await deps.workspaces.setSystemAccess(workspace, switched, account.keys[0], now);
    return switched;
  }
  const principalId = settings.identity?.principalId;
  if (!principalId) {
    throw new ArmError(400, 'ValidationError', `Workspace '${workspace.name}' has no system-assigned identity; give it one (identity.type SystemAssigned) before switching to identity access.`);
  }
  for (const datastore of await deps.datastores.listSystem(workspace.id)) {
    if (datastore.accountName !== workspace.storageAccount) continue;
    const why = await checkIdentityAccess(deps, principalId, datastore);
    if (why !== undefined) {
      throw new ArmError(
        400,
        'WorkspaceIdentityCannotAccess',
        `The identity of workspace '${workspace.name}' cannot reach its system datastore '${datastore.name}': ${why} ` +
          `Give the identity (principal ${principalId}) Storage Blob Data Contributor and Storage File Data Privileged Contributor on account '${workspace.storageAccount}', then switch again. Nothing was changed.`,
      );
    }
  }
  await deps.workspaces.setSystemAccess(workspace, switched, undefined, now);
  deps.logger.info({ workspace: workspace.name, account: workspace.storageAccount }, 'workspace switched to identity access');
  return switched;
}

/**
 * PUT: creates the workspace, its containers (and share) in the linked account
 * and its system datastores, synchronously; 200 with provisioningState
 * Succeeded ends the SDK's poller at once. A PUT on an existing workspace
 * updates what may change; the storage account may not.
 */
async function createOrUpdate(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const group = await requireGroup(deps, ctx);
  const name = ctx.params.workspaceName!;
  if (!WORKSPACE_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `'${name}' is not a valid workspace name: use 3-33 letters, digits, '-' and '_', starting with a letter or digit.`);
  }
  const body = new Fields(await readJsonObject(ctx.req));
  const account = await resolveStorageAccount(deps, body.requiredObject('properties').requiredString('storageAccount'));
  const existing = await deps.workspaces.get(group.name, name);
  const now = Date.now();
  if (existing) {
    if (existing.storageAccount !== account.name) {
      throw new ArmError(400, 'ValidationError', `The storage account of workspace '${name}' cannot be changed (it is '${existing.storageAccount}'). Create a new workspace instead.`);
    }
    const settings = readSettings(body, undefined);
    if (!sameName(settings.location, existing.settings.location)) {
      throw new ArmError(409, 'InvalidResourceLocation', `Workspace '${name}' already exists in location '${existing.settings.location}'; its location cannot change.`);
    }
    settings.identity = await systemIdentity(deps, body, name, existing.settings.identity, false);
    settings.systemDatastoresAuthMode = existing.settings.systemDatastoresAuthMode;
    const saved = await saveWithAccessMode(deps, existing, body, settings, now);
    return { status: 200, body: await workspaceJson(deps, { ...existing, settings: saved, modified: now }) };
  }
  const workspace: WorkspaceRecord = {
    id: randomUUID(),
    resourceGroup: group.name,
    name,
    storageAccount: account.name,
    storageKey: account.keys[0],
    settings: { ...readSettings(body, undefined), identity: await systemIdentity(deps, body, name, undefined, true) },
    created: now,
    modified: now,
  };
  await deps.workspaces.create(workspace, await provisionWorkspaceStorage(deps, workspace.id, account, now));
  return { status: 200, body: await workspaceJson(deps, workspace) };
}

async function update(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const body = new Fields(await readJsonObject(ctx.req));
  const settings = readSettings(body, workspace.settings);
  settings.identity = await systemIdentity(deps, body, workspace.name, workspace.settings.identity, false);
  const now = Date.now();
  const saved = await saveWithAccessMode(deps, workspace, body, settings, now);
  return { status: 200, body: await workspaceJson(deps, { ...workspace, settings: saved, modified: now }) };
}

/** Re-reads the linked account's key1 into the workspace's copy and its system datastores (az ml workspace sync-keys). */
async function resyncKeys(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const account = await deps.accounts.get(workspace.storageAccount);
  if (!account) {
    throw new ArmError(400, 'ValidationError', `The storage account '${workspace.storageAccount}' linked to workspace '${workspace.name}' no longer exists; keys cannot be synchronized.`);
  }
  const id = workspaceId(deps, workspace);
  if (workspace.settings.systemDatastoresAuthMode === 'identity') {
    ctx.activity = { properties: { systemDatastoresAuthMode: 'identity', consumersChanged: boundedIds([]) } };
    const message = `Workspace '${workspace.name}' reaches its storage account with its identity and holds no key: there is nothing to synchronize.`;
    return { status: 200, body: { message } };
  }
  const key = account.keys[0];
  const changed = [
    ...(workspace.storageKey === key ? [] : [id]),
    ...(await deps.datastores.listSystem(workspace.id))
      .filter((datastore) => datastore.accountName === account.name && datastore.credentialsType === 'AccountKey' && datastore.secret !== key)
      .map((datastore) => `${id}/datastores/${datastore.name}`),
  ];
  await deps.workspaces.resyncKey(workspace, key, Date.now());
  ctx.activity = { properties: { keyName: 'key1', consumersChanged: boundedIds(changed) } };
  deps.logger.info({ workspace: workspace.name, account: account.name }, 'workspace keys resynchronized');
  return { status: 200 };
}

async function listKeys(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const account = await deps.accounts.get(workspace.storageAccount);
  return {
    status: 200,
    body: {
      userStorageKey: workspace.storageKey,
      userStorageResourceId: account ? accountId(deps, account) : workspace.storageAccount,
    },
  };
}

export function workspaceRoutes(deps: ManagementDeps): ArmRoute[] {
  const list = async (workspaces: WorkspaceRecord[]): Promise<ArmResult> => ({ status: 200, body: { value: await Promise.all(workspaces.map((workspace) => workspaceJson(deps, workspace))) } });
  return [
    { method: 'PUT', pattern: WORKSPACE_PATH, action: `${TYPE}/write`, handler: (ctx) => createOrUpdate(deps, ctx) },
    { method: 'PATCH', pattern: WORKSPACE_PATH, action: `${TYPE}/write`, handler: (ctx) => update(deps, ctx) },
    { method: 'GET', pattern: WORKSPACE_PATH, action: `${TYPE}/read`, handler: async (ctx) => ({ status: 200, body: await workspaceJson(deps, await requireWorkspace(deps, ctx)) }) },
    {
      method: 'DELETE',
      pattern: WORKSPACE_PATH,
      action: `${TYPE}/delete`,
      // Datastores and models go with the workspace, and so does its system identity with its role assignments,
      // as a managed identity goes with its resource; the data in its storage account stays, as in Azure.
      handler: async (ctx) => {
        const workspace = await deps.workspaces.get((await requireGroup(deps, ctx)).name, ctx.params.workspaceName!);
        if (!workspace || !(await deps.workspaces.delete(workspace.id))) return { status: 204 };
        const identity = workspace.settings.identity?.principalId;
        if (identity !== undefined && (await deps.directory.deletePrincipal(identity))) await deps.rolesChanged();
        return { status: 200 };
      },
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces',
      action: `${TYPE}/read`,
      handler: async (ctx) => list(await deps.workspaces.list((await requireGroup(deps, ctx)).name)),
    },
    { method: 'GET', pattern: '/subscriptions/{subscriptionId}/providers/Microsoft.MachineLearningServices/workspaces', action: `${TYPE}/read`, handler: async () => list(await deps.workspaces.list()) },
    { method: 'POST', pattern: `${WORKSPACE_PATH}/resyncKeys`, action: `${TYPE}/resynckeys/action`, activity: `${TYPE}/resyncKeys/action`, handler: (ctx) => resyncKeys(deps, ctx) },
    { method: 'POST', pattern: `${WORKSPACE_PATH}/listKeys`, action: `${TYPE}/listKeys/action`, activity: `${TYPE}/listKeys/action`, handler: (ctx) => listKeys(deps, ctx) },
  ];
}
