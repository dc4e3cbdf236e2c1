import type { AssetContainerRecord, AssetFields, AssetStore, AssetVersionRecord, CodeVersionRecord, DataVersionRecord, ModelVersionRecord } from '../../db/assets.js';
import type { DatastoreRecord } from '../../db/datastores.js';
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

const ASSET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}$/;
/**
 * `azureml://[subscriptions/{s}/resourcegroups/{g}/workspaces/{w}/]datastores/{d}/paths/{path}`, or
 * `azureml://datastores/{d}/ExperimentRun/…`, as Azure ML writes a job's default output (no `paths/`).
 */
const DATASTORE_URI = /^azureml:\/\/(?:subscriptions\/([^/]+)\/resource[gG]roups\/([^/]+)\/workspaces\/([^/]+)\/)?datastores\/([^/]+)\/(?:paths\/(.*)|(ExperimentRun\/.*))$/;

/**
 * One kind of workspace asset (models, data, codes): its ARM segment and type,
 * its store, and what its versions hold beside the common asset fields.
 */
interface AssetKind<V extends AssetVersionRecord> {
  /** The ARM path segment: `models`, `data`, `codes`. */
  segment: string;
  /** How messages name one: 'model', 'data asset', 'code'. */
  label: string;
  store: (deps: ManagementDeps) => AssetStore<V>;
  /** The page size parameter the SDK sends when listing containers. */
  countParameter: string;
  /** The version's own fields from a PUT body's properties, checked. */
  read(deps: ManagementDeps, workspace: WorkspaceRecord, properties: Fields): Promise<Omit<V, keyof AssetVersionRecord>>;
  /** Those fields as the version's JSON shows them. */
  show(version: V): Record<string, unknown>;
}

function checkName(kind: AssetKind<AssetVersionRecord>, what: string, name: string): void {
  if (!ASSET_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `'${name}' is not a valid ${kind.label} ${what}: it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_.]{0,254}$.`);
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
async function versionSummary(store: AssetStore<AssetVersionRecord>, workspace: WorkspaceRecord, name: string) {
  const numbers = (await store.versionNames(workspace.id, name)).filter((v) => /^\d+$/.test(v)).map(Number);
  const latest = numbers.length > 0 ? Math.max(...numbers) : undefined;
  return { latestVersion: latest === undefined ? null : String(latest), nextVersion: String((latest ?? 0) + 1) };
}

const typeOf = (kind: AssetKind<AssetVersionRecord>) => `Microsoft.MachineLearningServices/workspaces/${kind.segment}`;

async function containerJson(deps: ManagementDeps, kind: AssetKind<AssetVersionRecord>, workspace: WorkspaceRecord, container: AssetContainerRecord) {
  return {
    id: `${workspaceId(deps, workspace)}/${kind.segment}/${container.name}`,
    name: container.name,
    type: typeOf(kind),
    systemData: systemData(container.created, container.modified),
    properties: {
      description: container.description,
      tags: container.tags,
      properties: container.properties,
      isArchived: container.isArchived,
      ...(await versionSummary(kind.store(deps), workspace, container.name)),
    },
  };
}

function versionJson<V extends AssetVersionRecord>(deps: ManagementDeps, kind: AssetKind<V>, workspace: WorkspaceRecord, version: V) {
  return {
    id: `${workspaceId(deps, workspace)}/${kind.segment}/${version.name}/versions/${version.version}`,
    name: version.version,
    type: `${typeOf(kind as AssetKind<AssetVersionRecord>)}/versions`,
    systemData: systemData(version.created, version.modified),
    properties: {
      description: version.description,
      tags: version.tags,
      properties: version.properties,
      isArchived: version.isArchived,
      isAnonymous: version.isAnonymous,
      ...kind.show(version),
    },
  };
}

/**
 * A URI into a datastore of this workspace: the datastore must exist (the
 * files themselves are written by the client, through the datastore's
 * credential, and are not checked here). Answers the datastore and the path.
 */
export async function checkDatastoreUri(deps: ManagementDeps, workspace: WorkspaceRecord, field: string, uri: string): Promise<{ datastore: string; path: string }> {
  const match = DATASTORE_URI.exec(uri);
  if (!match) {
    throw armErrors.invalidContent(`'${field}' must point into a datastore: azureml://datastores/{datastore}/paths/{path} (or the long form with subscriptions/…/workspaces/…); got '${uri}'.`);
  }
  const [, subscription, group, workspaceName, datastore, path = match[6]] = match;
  if (
    workspaceName !== undefined &&
    !(sameName(subscription!, deps.subscriptionId) && sameName(group!, workspace.resourceGroup) && sameName(workspaceName, workspace.name))
  ) {
    throw armErrors.invalidContent(`'${field}' names another workspace ('${workspaceName}' in '${group}'); it must be in a datastore of '${workspace.name}'.`);
  }
  if (!(await deps.datastores.get(workspace.id, datastore!))) {
    throw armErrors.invalidContent(`'${field}' names datastore '${datastore}', which workspace '${workspace.name}' does not have. Register it first (mlspace ml datastore create).`);
  }
  return { datastore: datastore!, path: path! };
}

const MODELS: AssetKind<ModelVersionRecord> = {
  segment: 'models',
  label: 'model',
  store: (deps) => deps.models,
  countParameter: 'count',
  async read(deps, workspace, properties) {
    const modelUri = properties.requiredString('modelUri');
    await checkDatastoreUri(deps, workspace, 'properties.modelUri', modelUri);
    return { modelUri, modelType: properties.string('modelType'), jobName: properties.string('jobName'), flavors: properties.object('flavors')?.raw };
  },
  show: (version) => ({ modelUri: version.modelUri, modelType: version.modelType, jobName: version.jobName, flavors: version.flavors }),
};

const DATA: AssetKind<DataVersionRecord> = {
  segment: 'data',
  label: 'data asset',
  store: (deps) => deps.data,
  countParameter: '$top',
  async read(deps, workspace, properties) {
    const dataType = properties.oneOf('dataType', ['uri_file', 'uri_folder'] as const, true);
    if (!dataType) throw armErrors.invalidContent("'properties.dataType' is required: 'uri_file' or 'uri_folder' (mltable is not supported by this server).");
    const dataUri = properties.requiredString('dataUri');
    await resolveStorageUri(deps, workspace, 'properties.dataUri', dataUri);
    return { dataType, dataUri };
  },
  show: (version) => ({ dataType: version.dataType, dataUri: version.dataUri }),
};

const CODES: AssetKind<CodeVersionRecord> = {
  segment: 'codes',
  label: 'code',
  store: (deps) => deps.codes,
  countParameter: '$top',
  async read(deps, workspace, properties) {
    const codeUri = properties.requiredString('codeUri');
    await resolveStorageUri(deps, workspace, 'properties.codeUri', codeUri);
    return { codeUri };
  },
  show: (version) => ({ codeUri: version.codeUri }),
};

/** The datastore and path a job's URI names: an azureml:// datastore URI, or a URL of this server's storage. */
export async function resolveStorageUri(deps: ManagementDeps, workspace: WorkspaceRecord, field: string, uri: string): Promise<{ datastore: string; path: string }> {
  return /^https?:\/\//i.test(uri) ? checkServerUrl(deps, workspace, field, uri) : checkDatastoreUri(deps, workspace, field, uri);
}

/**
 * An https (or http) URL of this server's Blob or File service, in an account
 * and container a datastore of the workspace reads: that datastore (what reads
 * it later) and the path under it.
 */
async function checkServerUrl(deps: ManagementDeps, workspace: WorkspaceRecord, field: string, url: string): Promise<{ datastore: string; path: string }> {
  const refuse = (why: string) => armErrors.invalidContent(`'${field}' ${why}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse(`is not a URL: '${url}'.`);
  }
  const services = [
    { type: 'AzureBlob', bases: [deps.blob.endpoint, deps.dataPlaneHttps.blob] },
    { type: 'AzureFile', bases: [deps.file.endpoint, deps.dataPlaneHttps.file] },
  ];
  const service = services.find(({ bases }) => bases.some((base) => new URL(base).port === parsed.port));
  const [account, container, ...rest] = parsed.pathname.split('/').slice(1).map(decodeURIComponent);
  if (!service || !account || !container) {
    throw refuse(`must be a URL of this server's Blob or File service, https://host:port/{account}/{container}/{path}; got '${url}'.`);
  }
  let datastore: DatastoreRecord | undefined;
  for (let after = '', more = true; more && !datastore; ) {
    const page = await deps.datastores.query(workspace.id, { after, limit: 100 });
    datastore = page.items.find((candidate) => candidate.type === service.type && candidate.accountName === account && candidate.containerName === container);
    after = page.items.at(-1)?.name ?? after;
    more = page.more;
  }
  if (!datastore) {
    throw refuse(`points into container '${container}' of account '${account}', which no datastore of workspace '${workspace.name}' reads. Register one for it (mlspace ml datastore create).`);
  }
  return { datastore: datastore.name, path: rest.join('/') };
}

async function putContainer<V extends AssetVersionRecord>(deps: ManagementDeps, kind: AssetKind<V>, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const name = ctx.params.name!;
  checkName(kind as AssetKind<AssetVersionRecord>, 'name', name);
  const asset = readAsset(new Fields(await readJsonObject(ctx.req)).requiredObject('properties'));
  const store = kind.store(deps);
  const existing = await store.getContainer(workspace.id, name);
  const now = Date.now();
  const container: AssetContainerRecord = { ...asset, workspaceId: workspace.id, name, created: existing?.created ?? now, modified: now };
  await store.putContainer(container);
  return { status: existing ? 200 : 201, body: await containerJson(deps, kind as AssetKind<AssetVersionRecord>, workspace, container) };
}

async function putVersion<V extends AssetVersionRecord>(deps: ManagementDeps, kind: AssetKind<V>, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const name = ctx.params.name!;
  const id = ctx.params.version!;
  checkName(kind as AssetKind<AssetVersionRecord>, 'name', name);
  checkName(kind as AssetKind<AssetVersionRecord>, 'version', id);
  const properties = new Fields(await readJsonObject(ctx.req)).requiredObject('properties');
  const own = await kind.read(deps, workspace, properties);
  const store = kind.store(deps);
  const existing = await store.getVersion(workspace.id, name, id);
  const now = Date.now();
  const version = {
    ...readAsset(properties),
    ...own,
    workspaceId: workspace.id,
    name,
    version: id,
    isAnonymous: properties.boolean('isAnonymous') ?? false,
    created: existing?.created ?? now,
    modified: now,
  } as V;
  await store.putVersion(version, { workspaceId: workspace.id, name, tags: {}, properties: {}, isArchived: false, created: now, modified: now });
  return { status: existing ? 200 : 201, body: versionJson(deps, kind, workspace, version) };
}

function notFound(what: string, workspace: WorkspaceRecord): ArmError {
  return new ArmError(404, 'ResourceNotFound', `${what} was not found in workspace '${workspace.name}'.`);
}

const capitalized = (label: string) => label[0]!.toUpperCase() + label.slice(1);

/** One page of items after the `$skip` token; the SDK sends the page size as `count` for models, `$top` elsewhere. */
export async function page<T>(
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

function routesOf<V extends AssetVersionRecord>(deps: ManagementDeps, kind: AssetKind<V>): ArmRoute[] {
  const base = `${WORKSPACE_PATH}/${kind.segment}`;
  const type = typeOf(kind as AssetKind<AssetVersionRecord>);
  const general = kind as AssetKind<AssetVersionRecord>;
  const store = () => kind.store(deps);
  const Label = capitalized(kind.label);
  return [
    {
      method: 'GET',
      pattern: base,
      action: `${type}/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        return page(ctx, deps, kind.countParameter, (after, limit) => store().listContainers(workspace.id, after, limit), (c) => c.name, (c) => containerJson(deps, general, workspace, c));
      },
    },
    { method: 'PUT', pattern: `${base}/{name}`, action: `${type}/write`, handler: (ctx) => putContainer(deps, kind, ctx) },
    {
      method: 'GET',
      pattern: `${base}/{name}`,
      action: `${type}/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        const container = await store().getContainer(workspace.id, ctx.params.name!);
        if (!container) throw notFound(`${Label} '${ctx.params.name}'`, workspace);
        return { status: 200, body: await containerJson(deps, general, workspace, container) };
      },
    },
    {
      method: 'DELETE',
      pattern: `${base}/{name}`,
      action: `${type}/delete`,
      // Its versions go with it.
      handler: async (ctx) => ({ status: (await store().deleteContainer((await requireWorkspace(deps, ctx)).id, ctx.params.name!)) ? 200 : 204 }),
    },
    {
      method: 'GET',
      pattern: `${base}/{name}/versions`,
      action: `${type}/versions/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        if (!(await store().getContainer(workspace.id, ctx.params.name!))) throw notFound(`${Label} '${ctx.params.name}'`, workspace);
        return page(
          ctx,
          deps,
          '$top',
          (after, limit) => store().listVersions(workspace.id, ctx.params.name!, after, limit),
          (v) => v.version,
          (v) => versionJson(deps, kind, workspace, v),
        );
      },
    },
    { method: 'PUT', pattern: `${base}/{name}/versions/{version}`, action: `${type}/versions/write`, handler: (ctx) => putVersion(deps, kind, ctx) },
    {
      method: 'GET',
      pattern: `${base}/{name}/versions/{version}`,
      action: `${type}/versions/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        const version = await store().getVersion(workspace.id, ctx.params.name!, ctx.params.version!);
        if (!version) throw notFound(`Version '${ctx.params.version}' of ${kind.label} '${ctx.params.name}'`, workspace);
        return { status: 200, body: versionJson(deps, kind, workspace, version) };
      },
    },
    {
      method: 'DELETE',
      pattern: `${base}/{name}/versions/{version}`,
      action: `${type}/versions/delete`,
      handler: async (ctx) => ({ status: (await store().deleteVersion((await requireWorkspace(deps, ctx)).id, ctx.params.name!, ctx.params.version!)) ? 200 : 204 }),
    },
  ];
}

/** ARM `workspaces/{ws}/models`, `data` and `codes`, with their versions. */
export function assetRoutes(deps: ManagementDeps): ArmRoute[] {
  return [...routesOf(deps, MODELS), ...routesOf(deps, DATA), ...routesOf(deps, CODES)];
}
