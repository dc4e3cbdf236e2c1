import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryRepo, type DirectoryStore, type RoleAssignmentRecord, type ServicePrincipalRecord } from '../../src/db/directory.js';
import { AssetRepo, type ModelContainerRecord, type ModelStore, type ModelVersionRecord } from '../../src/db/assets.js';
import { PgDirectoryRepo } from '../../src/db/postgres/directory.js';
import { PgAssetRepo } from '../../src/db/postgres/assets.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/**
 * The directory and model stores over every dialect, as test/e2e/metadata-stores.test.ts
 * does for the others: each must behave the same over SQLite and over PostgreSQL.
 */
interface Dialect {
  directory: DirectoryStore;
  models: ModelStore;
  close(): Promise<void>;
}

/** Workspaces the model rows refer to (their foreign key); no workspace store is under test here. */
const WORKSPACES = ['ws-one', 'ws-two'];
const WORKSPACE_ROW = `INSERT INTO workspaces (id, resource_group, name, storage_account, storage_key, doc, created, modified)
  VALUES ($1, 'mlspace-builtin', $1, 'devstoreaccount1', 'sealed', '{}', 1, 1)`;

async function sqliteDialect(): Promise<Dialect> {
  const { db, close } = sqliteScratch();
  for (const id of WORKSPACES) db.prepare(WORKSPACE_ROW.replaceAll('$1', '?')).run(id, id);
  return { directory: new DirectoryRepo(db), models: new AssetRepo(db, 'model'), close };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, close } = await postgresScratch('mlspace_stores_dm');
  for (const id of WORKSPACES) await pool.query(WORKSPACE_ROW, [id]);
  return { directory: new PgDirectoryRepo(pool), models: new PgAssetRepo(pool, 'model'), close };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Beyond 32 bits, as times are: BIGINT must come back as the same number. */
const T = 1_700_000_000_123;

function container(workspaceId: string, name: string, description = `container ${name}`): ModelContainerRecord {
  return { workspaceId, name, description, tags: { team: 'ml' }, properties: { p: '1' }, isArchived: false, created: T, modified: T };
}

function version(workspaceId: string, name: string, id: string): ModelVersionRecord {
  return {
    workspaceId,
    name,
    version: id,
    description: `version ${id}`,
    tags: { stage: 'dev' },
    properties: {},
    isArchived: false,
    modelUri: `azureml://subscriptions/s/resourceGroups/g/workspaces/w/datastores/workspaceblobstore/paths/models/${name}/${id}`,
    modelType: 'custom_model',
    jobName: 'job-1',
    flavors: { python_function: { loader_module: 'mlflow.sklearn' } },
    isAnonymous: false,
    created: T + 1,
    modified: T + 2,
  };
}

/** Every page of a listing, `limit` at a time, each page starting after the last one's final key. */
async function allPages<R>(list: (after: string, limit: number) => Promise<R[]>, key: (record: R) => string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  for (let after = ''; ; ) {
    const page = (await list(after, limit)).map(key);
    if (page.length === 0) return pages;
    pages.push(page);
    after = page[page.length - 1]!;
  }
}

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('the directory and model stores over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
  });
  afterAll(() => stores?.close());

  it('choose the tenant and subscription ids once: every call, even concurrent ones, answers the same', async () => {
    const { directory } = stores;
    const racing = await Promise.all([directory.ids(), directory.ids(), directory.ids()]);
    const ids = await directory.ids();
    expect(ids.tenantId).toMatch(GUID);
    expect(ids.subscriptionId).toMatch(GUID);
    expect(ids.tenantId).not.toBe(ids.subscriptionId);
    for (const each of racing) expect(each).toEqual(ids);
    expect(await directory.ids()).toEqual(ids);
  });

  it('keep service principals with their first role assignments: round trip, unknown ones undefined, a client id only once', async () => {
    const { directory } = stores;
    const principal: ServicePrincipalRecord = { clientId: 'c0ffee00-0000-4000-8000-000000000001', displayName: 'ci', secretHash: 'salt:hash', created: T };
    const assignment: RoleAssignmentRecord = {
      name: 'a0000000-0000-4000-8000-000000000001',
      scope: '/subscriptions/s/resourceGroups/RG',
      roleDefinitionId: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
      principalId: principal.clientId,
      principalType: 'ServicePrincipal',
      created: T,
      createdBy: 'c0ffee00-0000-4000-8000-0000000000ff',
    };
    expect(await directory.getPrincipal(principal.clientId)).toBeUndefined();
    await directory.addPrincipal(principal, [assignment]);
    expect(await directory.getPrincipal(principal.clientId)).toEqual(principal);
    expect(await directory.listAssignments(principal.clientId)).toEqual([assignment]);
    // A second principal whose assignment clashes fails whole: neither the principal nor the assignment is kept.
    await expect(directory.addPrincipal({ ...principal, clientId: 'c0ffee00-0000-4000-8000-000000000002' }, [assignment])).rejects.toThrow();
    expect(await directory.getPrincipal('c0ffee00-0000-4000-8000-000000000002')).toBeUndefined();
    await expect(directory.addPrincipal({ ...principal, displayName: 'again' }, [])).rejects.toThrow();
    expect(await directory.getPrincipal(principal.clientId)).toEqual(principal);
    expect(await directory.getPrincipal('not-a-client')).toBeUndefined();
  });

  it('keep role assignments: one per name, one per role, principal and scope (scopes compare without case), deleted once', async () => {
    const { directory } = stores;
    const base: RoleAssignmentRecord = {
      name: 'b0000000-0000-4000-8000-000000000001',
      scope: '/subscriptions/s/resourceGroups/other',
      roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
      principalId: 'c0ffee00-0000-4000-8000-000000000001',
      principalType: 'ServicePrincipal',
      created: T + 1,
    };
    expect(await directory.addAssignment(base)).toBeUndefined();
    expect(await directory.getAssignment(base.name.toUpperCase())).toEqual(base);
    expect(await directory.addAssignment({ ...base, scope: '/SUBSCRIPTIONS/s/resourcegroups/OTHER' })).toBe('nameInUse');
    expect(await directory.addAssignment({ ...base, name: 'b0000000-0000-4000-8000-000000000002', scope: '/SUBSCRIPTIONS/s/resourcegroups/OTHER' })).toBe('exists');
    const racing = await Promise.all(
      ['b0000000-0000-4000-8000-000000000003', 'b0000000-0000-4000-8000-000000000004'].map((name) => directory.addAssignment({ ...base, name, scope: '/subscriptions/s' })),
    );
    expect(racing.filter((outcome) => outcome === undefined)).toHaveLength(1);
    expect((await directory.listAssignments(base.principalId)).map((a) => a.scope)).toEqual(['/subscriptions/s/resourceGroups/RG', base.scope, '/subscriptions/s']);
    expect(await directory.deleteAssignment(base.name)).toEqual(base);
    expect(await directory.deleteAssignment(base.name)).toBeUndefined();
    expect(await directory.getAssignment(base.name)).toBeUndefined();
    expect((await directory.listAssignments()).length).toBe(2);
  });

  it('delete a principal with its role assignments, and nobody else\'s', async () => {
    const { directory } = stores;
    const principal: ServicePrincipalRecord = { clientId: 'c0ffee00-0000-4000-8000-000000000009', displayName: 'gone', secretHash: '', created: T };
    const assignment = (name: string, principalId: string): RoleAssignmentRecord => ({
      name,
      scope: '/subscriptions/s',
      roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
      principalId,
      principalType: 'ServicePrincipal',
      created: T + 2,
    });
    await directory.addPrincipal(principal, [assignment('d0000000-0000-4000-8000-000000000001', principal.clientId)]);
    expect(await directory.addAssignment(assignment('d0000000-0000-4000-8000-000000000002', 'c0ffee00-0000-4000-8000-00000000000a'))).toBeUndefined();
    expect(await directory.deletePrincipal(principal.clientId)).toBe(true);
    expect(await directory.getPrincipal(principal.clientId)).toBeUndefined();
    expect(await directory.listAssignments(principal.clientId)).toEqual([]);
    expect(await directory.getAssignment('d0000000-0000-4000-8000-000000000002')).toBeDefined();
    expect(await directory.deletePrincipal(principal.clientId)).toBe(false);
  });

  it('keep model containers: round trip, replaced in place, listed a page at a time in byte order', async () => {
    const { models } = stores;
    const [ws, other] = WORKSPACES as [string, string];
    expect(await models.getContainer(ws, 'nothing')).toBeUndefined();
    const names = ['b', 'B', 'a10', 'a2', 'A', '_x', 'Z9', '10', '9', 'a-b', 'ab'];
    for (const name of names) await models.putContainer(container(ws, name));
    await models.putContainer(container(other, 'only-other'));
    const sorted = [...names].sort(); // UTF-16 order, byte order for ASCII: SQLite's BINARY
    expect(sorted).toEqual(['10', '9', 'A', 'B', 'Z9', '_x', 'a-b', 'a10', 'a2', 'ab', 'b']);

    expect(await models.getContainer(ws, 'a10')).toEqual(container(ws, 'a10'));
    expect(await models.getContainer(ws, 'A10')).toBeUndefined();
    expect(await models.getContainer(other, 'a10')).toBeUndefined();

    const pages = await allPages((after, limit) => models.listContainers(ws, after, limit), (c) => c.name, 4);
    expect(pages).toEqual([sorted.slice(0, 4), sorted.slice(4, 8), sorted.slice(8)]);
    expect((await models.listContainers(ws, 'B', 2)).map((c) => c.name)).toEqual(['Z9', '_x']);
    expect((await models.listContainers(ws, 'a', 100)).map((c) => c.name)).toEqual(['a-b', 'a10', 'a2', 'ab', 'b']);
    expect(await models.listContainers(ws, 'b', 10)).toEqual([]);
    expect(await models.listContainers(other, '', 10)).toEqual([container(other, 'only-other')]);

    const changed = { ...container(ws, 'b', 'changed'), tags: {}, isArchived: true, created: T + 50, modified: T + 100 };
    await models.putContainer(changed);
    expect(await models.getContainer(ws, 'b')).toEqual({ ...changed, created: T }); // created stays as first written

    expect(await models.deleteContainer(ws, 'b')).toBe(true);
    expect(await models.deleteContainer(ws, 'b')).toBe(false);
    expect(await models.getContainer(ws, 'b')).toBeUndefined();
    expect(await models.deleteContainer(other, 'a10')).toBe(false);
    await expect(models.putContainer(container('no-such-workspace', 'x'))).rejects.toThrow();
  });

  it('keep model versions: round trip, listed a page at a time in byte order, deleted once', async () => {
    const { models } = stores;
    const ws = WORKSPACES[0]!;
    await models.putContainer(container(ws, 'Versioned'));
    const ids = ['1', '10', '2', '9', '11', 'a', 'B', 'v2'];
    for (const id of ids) await models.putVersion(version(ws, 'Versioned', id), container(ws, 'Versioned', 'not used'));
    expect((await models.getContainer(ws, 'Versioned'))?.description).toBe('container Versioned');
    const sorted = [...ids].sort();
    expect(sorted).toEqual(['1', '10', '11', '2', '9', 'B', 'a', 'v2']);

    expect(await models.getVersion(ws, 'Versioned', '10')).toEqual(version(ws, 'Versioned', '10'));
    expect(await models.getVersion(ws, 'Versioned', '3')).toBeUndefined();
    expect(await models.getVersion(ws, 'versioned', '10')).toBeUndefined();
    expect([...(await models.versionNames(ws, 'Versioned'))].sort()).toEqual(sorted);
    expect(await models.versionNames(ws, 'unknown')).toEqual([]);

    const pages = await allPages((after, limit) => models.listVersions(ws, 'Versioned', after, limit), (v) => v.version, 3);
    expect(pages).toEqual([sorted.slice(0, 3), sorted.slice(3, 6), sorted.slice(6)]);
    expect((await models.listVersions(ws, 'Versioned', '10', 2)).map((v) => v.version)).toEqual(['11', '2']);
    expect(await models.listVersions(ws, 'unknown', '', 10)).toEqual([]);

    const replaced = { ...version(ws, 'Versioned', '2'), description: 'replaced', isArchived: true, created: T + 70, modified: T + 80 };
    await models.putVersion(replaced, container(ws, 'Versioned'));
    expect(await models.getVersion(ws, 'Versioned', '2')).toEqual({ ...replaced, created: T + 1 });

    expect(await models.deleteVersion(ws, 'Versioned', '9')).toBe(true);
    expect(await models.deleteVersion(ws, 'Versioned', '9')).toBe(false);
    expect(await models.getVersion(ws, 'Versioned', '9')).toBeUndefined();
    expect(await models.versionNames(ws, 'Versioned')).toHaveLength(ids.length - 1);
  });

  it('create a missing container with its first version, atomically, and delete a container with its versions', async () => {
    const { models } = stores;
    const ws = WORKSPACES[1]!;
    const minimal: ModelVersionRecord = { workspaceId: ws, name: 'fresh', version: '1', modelUri: 'azureml://x', tags: {}, properties: {}, isArchived: false, isAnonymous: true, created: T, modified: T };
    await models.putVersion(minimal, container(ws, 'fresh', 'made by its first version'));
    expect(await models.getContainer(ws, 'fresh')).toEqual(container(ws, 'fresh', 'made by its first version'));
    expect(await models.getVersion(ws, 'fresh', '1')).toEqual(minimal);

    // A version that cannot be written leaves no container behind.
    const unwritable = { ...version(ws, 'never', '1'), flavors: { size: 10n } };
    await expect(models.putVersion(unwritable, container(ws, 'never'))).rejects.toThrow();
    expect(await models.getContainer(ws, 'never')).toBeUndefined();
    await expect(models.putVersion(version('no-such-workspace', 'x', '1'), container('no-such-workspace', 'x'))).rejects.toThrow();

    await models.putVersion(version(ws, 'fresh', '2'), container(ws, 'fresh'));
    await models.putVersion(version(ws, 'kept', '1'), container(ws, 'kept'));
    expect(await models.deleteContainer(ws, 'fresh')).toBe(true);
    expect(await models.getVersion(ws, 'fresh', '1')).toBeUndefined();
    expect(await models.listVersions(ws, 'fresh', '', 10)).toEqual([]);
    expect(await models.versionNames(ws, 'fresh')).toEqual([]);
    expect(await models.deleteContainer(ws, 'fresh')).toBe(false);
    expect(await models.getVersion(ws, 'kept', '1')).toEqual(version(ws, 'kept', '1'));

    // A container made again starts with no versions.
    await models.putContainer(container(ws, 'fresh'));
    expect(await models.listVersions(ws, 'fresh', '', 10)).toEqual([]);
  });
});
