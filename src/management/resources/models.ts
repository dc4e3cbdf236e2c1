import type { AssetFields, ModelContainerRecord, ModelVersionRecord } from '../../db/models.js';
import type { WorkspaceRecord } from '../../db/workspaces.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import { requestOrigin } from '../http/origin.js';
import type { ArmRoute } from '../http/route.js';
import { nextLink, pageSize, pageStart, systemData } from './common.js';
import { requireWorkspace, WORKSPACE_PATH, workspaceId } from './workspaces.js';

const MODELS = `${WORKSPACE_PATH}/models`;
const TYPE = 'Microsoft.MachineLearningServices/workspaces/models';
const ASSET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$/;
/** `azureml://[subscriptions/{s}/resourcegroups/{g}/workspaces/{w}/]datastores/{d}/paths/{path}` */
const DATASTORE_URI = /^azureml:\/\/(?:subscriptions\/([^/]+)\/resource[gG]roups\/([^/]+)\/workspaces\/([^/]+)\/)?datastores\/([^/]+)\/paths\/(.+)$/;

function checkName(what: string, name: string): void {
  if (!ASSET_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `'${name}' is not a valid model ${what}: it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_.]{0,254}$.`);
  }
}

function readAsset(properties: Fields): AssetFields {
  return {
    description: properties.string('description'),
    tags: properties.stringMap('tags') ?? {},
    properties: properties.stringMap('properties') ?? {},
    isArchived: properties.boolean('isArchived') ?? false,
  };
}

/** Numeric versions count up; the next version is one past the highest, as Azure ML's autoincrement does. */
async function versionSummary(deps: ManagementDeps, workspace: WorkspaceRecord, name: string) {
  const numbers = (await deps.models.versionNames(workspace.id, name)).filter((v) => /^\d+$/.test(v)).map(Number);
  const latest = numbers.length > 0 ? Math.max(...numbers) : undefined;
  return { latestVersion: latest === undefined ? null : String(latest), nextVersion: String((latest ?? 0) + 1) };
}

async function containerJson(deps: ManagementDeps, workspace: WorkspaceRecord, container: ModelContainerRecord) {
  return {
    id: `${workspaceId(deps, workspace)}/models/${container.name}`,
    name: container.name,
    type: TYPE,
    systemData: systemData(container.created, container.modified),
    properties: {
      description: container.description,
      tags: container.tags,
      properties: container.properties,
      isArchived: container.isArchived,
      ...(await versionSummary(deps, workspace, container.name)),
    },
  };
}

function versionJson(deps: ManagementDeps, workspace: WorkspaceRecord, version: ModelVersionRecord) {
  return {
    id: `${workspaceId(deps, workspace)}/models/${version.name}/versions/${version.version}`,
    name: version.version,
    type: `${TYPE}/versions`,
    systemData: systemData(version.created, version.modified),
    properties: {
      description: version.description,
      tags: version.tags,
      properties: version.properties,
      isArchived: version.isArchived,
      isAnonymous: version.isAnonymous,
      modelUri: version.modelUri,
      modelType: version.modelType,
      jobName: version.jobName,
      flavors: version.flavors,
    },
  };
}

/**
 * A model's files live in a datastore of this workspace; the URI must name one
 * that exists (the files themselves are written by the client, through the
 * datastore's credential, and are not checked here).
 */
async function checkModelUri(deps: ManagementDeps, workspace: WorkspaceRecord, uri: string): Promise<void> {
  const match = DATASTORE_URI.exec(uri);
  if (!match) {
    throw armErrors.invalidContent(
      `'properties.modelUri' must point into a datastore: azureml://datastores/{datastore}/paths/{path} (or the long form with subscriptions/…/workspaces/…); got '${uri}'.`,
    );
  }
  const [, subscription, group, workspaceName, datastore] = match;
  if (
    workspaceName !== undefined &&
    !(sameName(subscription!, deps.subscriptionId) && sameName(group!, workspace.resourceGroup) && sameName(workspaceName, workspace.name))
  ) {
    throw armErrors.invalidContent(`'properties.modelUri' names another workspace ('${workspaceName}' in '${group}'); a model's files must be in a datastore of '${workspace.name}'.`);
  }
  if (!(await deps.datastores.get(workspace.id, datastore!))) {
    throw armErrors.invalidContent(`'properties.modelUri' names datastore '${datastore}', which workspace '${workspace.name}' does not have. Register it first.`);
  }
}

async function putContainer(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const name = ctx.params.name!;
  checkName('name', name);
  const asset = readAsset(new Fields(await readJsonObject(ctx.req)).requiredObject('properties'));
  const existing = await deps.models.getContainer(workspace.id, name);
  const now = Date.now();
  const container: ModelContainerRecord = { ...asset, workspaceId: workspace.id, name, created: existing?.created ?? now, modified: now };
  await deps.models.putContainer(container);
  return { status: existing ? 200 : 201, body: await containerJson(deps, workspace, container) };
}

async function putVersion(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const name = ctx.params.name!;
  const id = ctx.params.version!;
  checkName('name', name);
  checkName('version', id);
  const properties = new Fields(await readJsonObject(ctx.req)).requiredObject('properties');
  const modelUri = properties.requiredString('modelUri');
  await checkModelUri(deps, workspace, modelUri);
  const existing = await deps.models.getVersion(workspace.id, name, id);
  const now = Date.now();
  const version: ModelVersionRecord = {
    ...readAsset(properties),
    workspaceId: workspace.id,
    name,
    version: id,
    modelUri,
    modelType: properties.string('modelType'),
    jobName: properties.string('jobName'),
    flavors: properties.object('flavors')?.raw,
    isAnonymous: properties.boolean('isAnonymous') ?? false,
    created: existing?.created ?? now,
    modified: now,
  };
  await deps.models.putVersion(version, { workspaceId: workspace.id, name, tags: {}, properties: {}, isArchived: false, created: now, modified: now });
  return { status: existing ? 200 : 201, body: versionJson(deps, workspace, version) };
}

function notFound(what: string, workspace: WorkspaceRecord): ArmError {
  return new ArmError(404, 'ResourceNotFound', `${what} was not found in workspace '${workspace.name}'.`);
}

/** One page of items after the `$skip` token; the SDK sends the page size as `count` for models, `$top` for versions. */
async function page<T>(
  ctx: ArmRequest,
  deps: ManagementDeps,
  sizeParameter: string,
  load: (after: string, limit: number) => Promise<T[]>,
  key: (item: T) => string,
  render: (item: T) => unknown,
): Promise<ArmResult> {
  const limit = pageSize(ctx, sizeParameter, 100, 100);
  const items = await load(pageStart(ctx, '$skip'), limit + 1);
  const body: { value: unknown[]; nextLink?: string } = { value: await Promise.all(items.slice(0, limit).map(render)) };
  if (items.length > limit) body.nextLink = nextLink(ctx, requestOrigin(ctx.req, deps.armEndpoint), '$skip', key(items[limit - 1]!));
  return { status: 200, body };
}

export function modelRoutes(deps: ManagementDeps): ArmRoute[] {
  const read = `${TYPE}/read`;
  const write = `${TYPE}/write`;
  const remove = `${TYPE}/delete`;
  return [
    {
      method: 'GET',
      pattern: MODELS,
      action: read,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        return page(ctx, deps, 'count', (after, limit) => deps.models.listContainers(workspace.id, after, limit), (c) => c.name, (c) => containerJson(deps, workspace, c));
      },
    },
    { method: 'PUT', pattern: `${MODELS}/{name}`, action: write, handler: (ctx) => putContainer(deps, ctx) },
    {
      method: 'GET',
      pattern: `${MODELS}/{name}`,
      action: read,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        const container = await deps.models.getContainer(workspace.id, ctx.params.name!);
        if (!container) throw notFound(`Model '${ctx.params.name}'`, workspace);
        return { status: 200, body: await containerJson(deps, workspace, container) };
      },
    },
    {
      method: 'DELETE',
      pattern: `${MODELS}/{name}`,
      action: remove,
      // Its versions go with it.
      handler: async (ctx) => ({ status: (await deps.models.deleteContainer((await requireWorkspace(deps, ctx)).id, ctx.params.name!)) ? 200 : 204 }),
    },
    {
      method: 'GET',
      pattern: `${MODELS}/{name}/versions`,
      action: `${TYPE}/versions/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        if (!(await deps.models.getContainer(workspace.id, ctx.params.name!))) throw notFound(`Model '${ctx.params.name}'`, workspace);
        return page(
          ctx,
          deps,
          '$top',
          (after, limit) => deps.models.listVersions(workspace.id, ctx.params.name!, after, limit),
          (v) => v.version,
          (v) => versionJson(deps, workspace, v),
        );
      },
    },
    { method: 'PUT', pattern: `${MODELS}/{name}/versions/{version}`, action: `${TYPE}/versions/write`, handler: (ctx) => putVersion(deps, ctx) },
    {
      method: 'GET',
      pattern: `${MODELS}/{name}/versions/{version}`,
      action: `${TYPE}/versions/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        const version = await deps.models.getVersion(workspace.id, ctx.params.name!, ctx.params.version!);
        if (!version) throw notFound(`Version '${ctx.params.version}' of model '${ctx.params.name}'`, workspace);
        return { status: 200, body: versionJson(deps, workspace, version) };
      },
    },
    {
      method: 'DELETE',
      pattern: `${MODELS}/{name}/versions/{version}`,
      action: `${TYPE}/versions/delete`,
      handler: async (ctx) => ({ status: (await deps.models.deleteVersion((await requireWorkspace(deps, ctx)).id, ctx.params.name!, ctx.params.version!)) ? 200 : 204 }),
    },
  ];
}
