import { BUILTIN_RESOURCE_GROUP, type ResourceGroupRecord } from '../../db/resource-groups.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import type { ArmRoute } from '../http/route.js';
import { groupId } from '../arm-ids.js';
import { requireGroup } from './common.js';
import { deleteStorageAccount } from './storage-accounts.js';

const GROUP = '/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}';
const ACTION = 'Microsoft.Resources/subscriptions/resourceGroups';

/** 1-90 letters, digits, '_', '-', '.', '(' and ')', not ending in a period (Azure's rule). */
const GROUP_NAME = /^[-\p{L}\p{N}_.()]{1,90}$/u;

function groupJson(deps: ManagementDeps, group: ResourceGroupRecord) {
  return {
    id: groupId(deps, group.name),
    name: group.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: group.location,
    ...(group.managedBy ? { managedBy: group.managedBy } : {}),
    tags: group.tags,
    properties: { provisioningState: 'Succeeded' },
  };
}

function checkGroupName(name: string): void {
  if (!GROUP_NAME.test(name) || name.endsWith('.')) {
    throw new ArmError(
      400,
      'InvalidResourceGroup',
      `The provided resource group name '${name}' is invalid. A name is 1-90 letters, digits, '_', '-', '.', '(' or ')', and cannot end in a period.`,
    );
  }
}

async function createOrUpdate(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const name = ctx.params.resourceGroupName!;
  checkGroupName(name);
  const body = new Fields(await readJsonObject(ctx.req));
  const location = body.requiredString('location');
  const tags = body.stringMap('tags') ?? {};
  const managedBy = body.string('managedBy');
  const existing = await deps.groups.get(name);
  if (existing) {
    if (!sameName(existing.location, location)) {
      throw new ArmError(409, 'InvalidResourceGroupLocation', `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`);
    }
    const updated = { ...existing, tags, managedBy };
    await deps.groups.saveTags(updated);
    return { status: 200, body: groupJson(deps, updated) };
  }
  const group: ResourceGroupRecord = { name, location, tags, managedBy, created: Date.now() };
  if (!(await deps.groups.create(group))) throw new ArmError(409, 'Conflict', `The resource group '${name}' was created by a concurrent request; retry.`);
  return { status: 201, body: groupJson(deps, group) };
}

async function update(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const group = await requireGroup(deps, ctx);
  const body = new Fields(await readJsonObject(ctx.req));
  const updated = { ...group, tags: body.stringMap('tags') ?? group.tags, managedBy: body.string('managedBy') ?? group.managedBy };
  await deps.groups.saveTags(updated);
  return { status: 200, body: groupJson(deps, updated) };
}

/** Deletes the group and everything in it: workspaces first (they refer to accounts), then accounts with their data. */
async function remove(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const group = await requireGroup(deps, ctx);
  if (sameName(group.name, BUILTIN_RESOURCE_GROUP)) {
    throw new ArmError(
      409,
      'ResourceGroupDeletionBlocked',
      `The resource group '${group.name}' holds the accounts declared at start-up (devstoreaccount1, MLSPACE_ACCOUNTS) and cannot be deleted; delete its accounts one by one instead.`,
    );
  }
  for (const workspace of await deps.workspaces.list(group.name)) await deps.workspaces.delete(workspace.id);
  for (const account of await deps.accounts.listByGroup(group.name)) await deleteStorageAccount(deps, account.name);
  await deps.groups.delete(group.name);
  return { status: 200 };
}

export function resourceGroupRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/subscriptions/{subscriptionId}/resourcegroups',
      action: `${ACTION}/read`,
      handler: async () => ({ status: 200, body: { value: (await deps.groups.list()).map((group) => groupJson(deps, group)) } }),
    },
    { method: 'PUT', pattern: GROUP, action: `${ACTION}/write`, handler: (ctx) => createOrUpdate(deps, ctx) },
    { method: 'PATCH', pattern: GROUP, action: `${ACTION}/write`, handler: (ctx) => update(deps, ctx) },
    { method: 'GET', pattern: GROUP, action: `${ACTION}/read`, handler: async (ctx) => ({ status: 200, body: groupJson(deps, await requireGroup(deps, ctx)) }) },
    {
      method: 'HEAD',
      pattern: GROUP,
      action: `${ACTION}/read`,
      handler: async (ctx) => ({ status: (await deps.groups.get(ctx.params.resourceGroupName!)) ? 204 : 404 }),
    },
    { method: 'DELETE', pattern: GROUP, action: `${ACTION}/delete`, handler: (ctx) => remove(deps, ctx) },
  ];
}

