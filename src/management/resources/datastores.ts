import type { DatastoreRecord, ServicePrincipalCredential } from '../../db/datastores.js';
import type { WorkspaceRecord } from '../../db/workspaces.js';
import { ACCOUNT_NAME } from '../../server/config.js';
import { isContainerOrShareName } from '../../storage/http/resource-names.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError, armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { requestOrigin } from '../http/origin.js';
import type { ArmRoute } from '../http/route.js';
import { nextLink, pageSize, pageStart, systemData } from './common.js';
import { defaultEndpoint } from './datastore-endpoints.js';
import { validateDatastore } from './datastore-validation.js';
import { requireWorkspace, WORKSPACE_PATH, workspaceId } from './workspaces.js';

const DATASTORES = `${WORKSPACE_PATH}/datastores`;
const TYPE = 'Microsoft.MachineLearningServices/workspaces/datastores';
const DATASTORE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

function datastoreJson(deps: ManagementDeps, workspace: WorkspaceRecord, datastore: DatastoreRecord) {
  return {
    id: `${workspaceId(deps, workspace)}/datastores/${datastore.name}`,
    name: datastore.name,
    type: TYPE,
    systemData: systemData(datastore.created, datastore.modified),
    properties: {
      datastoreType: datastore.type,
      accountName: datastore.accountName,
      ...(datastore.type === 'AzureBlob' ? { containerName: datastore.containerName } : { fileShareName: datastore.containerName }),
      endpoint: datastore.endpoint,
      protocol: datastore.protocol,
      // GET never returns secrets; listSecrets does.
      credentials: { credentialsType: datastore.credentialsType, ...datastore.servicePrincipal },
      isDefault: datastore.isDefault,
      description: datastore.description,
      tags: datastore.tags,
      properties: datastore.properties,
      serviceDataAccessAuthIdentity: 'None',
    },
  };
}

async function requireDatastore(deps: ManagementDeps, workspace: WorkspaceRecord, name: string): Promise<DatastoreRecord> {
  const datastore = await deps.datastores.get(workspace.id, name);
  if (!datastore) throw new ArmError(404, 'ResourceNotFound', `Datastore '${name}' was not found in workspace '${workspace.name}'.`);
  return datastore;
}

/** The credential a body states: its type and, for AccountKey, Sas and ServicePrincipal, the secret (never echoed back in errors). */
function readCredentials(deps: ManagementDeps, properties: Fields): Pick<DatastoreRecord, 'credentialsType' | 'secret' | 'servicePrincipal'> {
  const credentials = properties.requiredObject('credentials');
  const credentialsType = credentials.string('credentialsType');
  if (credentialsType === 'None') return { credentialsType };
  if (credentialsType !== 'AccountKey' && credentialsType !== 'Sas' && credentialsType !== 'ServicePrincipal') {
    throw armErrors.invalidContent(
      `'properties.credentials.credentialsType' must be 'AccountKey', 'Sas', 'ServicePrincipal' or 'None'${credentialsType ? `; '${credentialsType}' is not supported by this server` : ''}.`,
    );
  }
  const secrets = credentials.requiredObject('secrets');
  const secretsType = secrets.string('secretsType');
  if (secretsType !== undefined && secretsType !== credentialsType) {
    throw armErrors.invalidContent(`'properties.credentials.secrets.secretsType' must be '${credentialsType}', as credentialsType says; got '${secretsType}'.`);
  }
  if (credentialsType === 'AccountKey') {
    const key = secrets.requiredString('key');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw armErrors.invalidContent("'properties.credentials.secrets.key' is not a base64 account key.");
    // Stored canonical, so its sealing fingerprint equals the account key's whatever padding the client sent.
    return { credentialsType, secret: Buffer.from(key, 'base64').toString('base64') };
  }
  if (credentialsType === 'ServicePrincipal') {
    const tenantId = credentials.requiredString('tenantId');
    if (tenantId.toLowerCase() !== deps.tenantId.toLowerCase()) {
      throw armErrors.invalidContent(`'properties.credentials.tenantId' '${tenantId}' is not this server's tenant; use ${deps.tenantId} (endpoints.json tenantId).`);
    }
    const servicePrincipal: ServicePrincipalCredential = { tenantId: deps.tenantId, clientId: credentials.requiredString('clientId') };
    const authorityUrl = credentials.string('authorityUrl');
    const resourceUrl = credentials.string('resourceUrl');
    if (authorityUrl !== undefined) servicePrincipal.authorityUrl = authorityUrl;
    if (resourceUrl !== undefined) servicePrincipal.resourceUrl = resourceUrl;
    return { credentialsType, secret: secrets.requiredString('clientSecret'), servicePrincipal };
  }
  return { credentialsType, secret: secrets.requiredString('sasToken') };
}

/** A datastore registration from a PUT body (the v2 API shape), checked field by field. */
function readDatastore(deps: ManagementDeps, workspace: WorkspaceRecord, name: string, body: Fields, now: number): DatastoreRecord {
  const properties = body.requiredObject('properties');
  const type = properties.oneOf('datastoreType', ['AzureBlob', 'AzureFile'] as const);
  if (type === undefined) throw armErrors.invalidContent("'properties.datastoreType' is required: 'AzureBlob' or 'AzureFile' (other types are not supported by this server).");
  const accountName = properties.requiredString('accountName');
  if (!ACCOUNT_NAME.test(accountName)) {
    throw armErrors.invalidContent(`'properties.accountName' '${accountName}' is not a storage account name (3-24 lowercase letters and digits).`);
  }
  const containerField = type === 'AzureBlob' ? 'containerName' : 'fileShareName';
  const containerName = properties.requiredString(containerField);
  if (!isContainerOrShareName(containerName)) {
    throw armErrors.invalidContent(
      `'properties.${containerField}' '${containerName}' is not a valid ${type === 'AzureBlob' ? 'container' : 'share'} name: use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.`,
    );
  }
  const defaults = defaultEndpoint(deps, type);
  return {
    workspaceId: workspace.id,
    name,
    system: false,
    isDefault: false,
    type,
    accountName,
    containerName,
    endpoint: properties.string('endpoint') ?? defaults.endpoint,
    protocol: properties.oneOf('protocol', ['https', 'http', 'wasbs', 'wasb'] as const) ?? defaults.protocol,
    ...readCredentials(deps, properties),
    description: properties.string('description'),
    tags: properties.stringMap('tags') ?? {},
    properties: properties.stringMap('properties') ?? {},
    created: now,
    modified: now,
  };
}

function booleanQuery(ctx: ArmRequest, name: string): boolean | undefined {
  const value = ctx.query.get(name);
  if (value === null || value === '') return undefined;
  if (value.toLowerCase() === 'true') return true;
  if (value.toLowerCase() === 'false') return false;
  throw armErrors.invalidParameter(`The query parameter '${name}' must be 'true' or 'false'; got '${value}'.`);
}

/**
 * createOrUpdate (register, or re-register with overwrite): unless
 * skipValidation=true, the credential is first checked against the data plane,
 * as Azure does by default. A re-registered system datastore stays one.
 */
async function createOrUpdate(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const name = ctx.params.name!;
  if (!DATASTORE_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `'${name}' is not a valid datastore name: it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$ (letters, digits, '-' and '_').`);
  }
  const skipValidation = booleanQuery(ctx, 'skipValidation') ?? false;
  const now = Date.now();
  const datastore = readDatastore(deps, workspace, name, new Fields(await readJsonObject(ctx.req)), now);
  if (!skipValidation) await validateDatastore(deps, datastore);
  const existing = await deps.datastores.get(workspace.id, name);
  const saved = existing ? { ...datastore, system: existing.system, isDefault: existing.isDefault, created: existing.created } : datastore;
  await deps.datastores.put(saved);
  ctx.activity = {
    properties: {
      accountName: saved.accountName,
      credentialsType: saved.credentialsType,
      credentialsChanged: String(!existing || existing.credentialsType !== saved.credentialsType || existing.secret !== saved.secret || existing.accountName !== saved.accountName),
      validated: String(!skipValidation),
    },
  };
  return { status: existing ? 200 : 201, body: datastoreJson(deps, workspace, saved) };
}

/** ARM list with paging: `$skip` is the continuation token, `count` the page size (30 by default, as in Azure). */
async function list(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const names = ctx.query.get('names');
  const searchText = ctx.query.get('searchText');
  const page = await deps.datastores.query(workspace.id, {
    after: pageStart(ctx, '$skip'),
    limit: pageSize(ctx, 'count', 30, 100),
    isDefault: booleanQuery(ctx, 'isDefault'),
    names: names ? names.split(',').map((n) => n.trim()).filter((n) => n !== '') : undefined,
    searchText: searchText || undefined,
  });
  const value = page.items.map((datastore) => datastoreJson(deps, workspace, datastore));
  const body: { value: unknown[]; nextLink?: string } = { value };
  if (page.more) body.nextLink = nextLink(ctx, requestOrigin(ctx.req, deps.armEndpoint), '$skip', page.items[page.items.length - 1]!.name);
  return { status: 200, body };
}

async function remove(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const datastore = await deps.datastores.get(workspace.id, ctx.params.name!);
  if (!datastore) return { status: 204 };
  if (datastore.system) {
    throw new ArmError(400, 'UserError', `'${datastore.name}' is a system datastore of workspace '${workspace.name}' and cannot be deleted; re-register it to change its credentials.`);
  }
  await deps.datastores.delete(workspace.id, datastore.name);
  return { status: 200 };
}

async function listSecrets(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const datastore = await requireDatastore(deps, workspace, ctx.params.name!);
  if (datastore.credentialsType === 'AccountKey') return { status: 200, body: { secretsType: 'AccountKey', key: datastore.secret } };
  if (datastore.credentialsType === 'Sas') return { status: 200, body: { secretsType: 'Sas', sasToken: datastore.secret } };
  if (datastore.credentialsType === 'ServicePrincipal') return { status: 200, body: { secretsType: 'ServicePrincipal', clientSecret: datastore.secret } };
  throw new ArmError(400, 'UserError', `Datastore '${datastore.name}' has credentialsType None: it holds no secrets.`);
}

export function datastoreRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    { method: 'GET', pattern: DATASTORES, action: `${TYPE}/read`, handler: (ctx) => list(deps, ctx) },
    { method: 'PUT', pattern: `${DATASTORES}/{name}`, action: `${TYPE}/write`, activity: `${TYPE}/write`, handler: (ctx) => createOrUpdate(deps, ctx) },
    {
      method: 'GET',
      pattern: `${DATASTORES}/{name}`,
      action: `${TYPE}/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        return { status: 200, body: datastoreJson(deps, workspace, await requireDatastore(deps, workspace, ctx.params.name!)) };
      },
    },
    { method: 'DELETE', pattern: `${DATASTORES}/{name}`, action: `${TYPE}/delete`, handler: (ctx) => remove(deps, ctx) },
    {
      method: 'POST',
      pattern: `${DATASTORES}/{name}/listSecrets`,
      action: `${TYPE}/listsecrets/action`,
      activity: `${TYPE}/listSecrets/action`,
      handler: (ctx) => listSecrets(deps, ctx),
    },
  ];
}
