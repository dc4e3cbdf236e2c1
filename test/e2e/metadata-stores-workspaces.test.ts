import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatastoreRepo, type DatastoreRecord, type DatastoreStore } from '../../src/db/datastores.js';
import { PgDatastoreRepo } from '../../src/db/postgres/datastores.js';
import { PgWorkspaceRepo } from '../../src/db/postgres/workspaces.js';
import { WorkspaceRepo, type WorkspaceRecord, type WorkspaceStore } from '../../src/db/workspaces.js';
import { postgresScratch, sqliteScratch } from '../helpers/scratch-stores.js';

/** Workspaces and their datastores, the same over SQLite and over PostgreSQL (as test/e2e/metadata-stores.test.ts). */
interface Dialect {
  workspaces: WorkspaceStore;
  datastores: DatastoreStore;
  close(): Promise<void>;
}

async function sqliteDialect(): Promise<Dialect> {
  const { db, sealer, close } = sqliteScratch();
  const datastores = new DatastoreRepo(db, sealer);
  return { workspaces: new WorkspaceRepo(db, sealer, datastores), datastores, close };
}

async function postgresDialect(): Promise<Dialect> {
  const { pool, sealer, close } = await postgresScratch('mlspace_workspaces');
  const datastores = new PgDatastoreRepo(pool, sealer);
  return { workspaces: new PgWorkspaceRepo(pool, sealer, datastores), datastores, close };
}

function workspace(id: string, resourceGroup: string, name: string, created = 1_700_000_000_123): WorkspaceRecord {
  return {
    id,
    resourceGroup,
    name,
    storageAccount: 'mlstore',
    storageKey: 'key-one',
    settings: { location: 'eastus', tags: { team: 'ml' }, friendlyName: name, properties: { keyVault: '/kv' } },
    created,
    modified: created,
  };
}

function datastore(workspaceId: string, name: string, fields: Partial<DatastoreRecord> = {}): DatastoreRecord {
  return {
    workspaceId,
    name,
    system: false,
    isDefault: false,
    type: 'AzureBlob',
    accountName: 'mlstore',
    containerName: `c-${name.toLowerCase()}`,
    endpoint: 'core.windows.net',
    protocol: 'https',
    credentialsType: 'AccountKey',
    secret: 'key-one',
    tags: {},
    properties: {},
    created: 1_700_000_000_500,
    modified: 1_700_000_000_500,
    ...fields,
  };
}

/** What a workspace is created with: two on the linked account's key, one on a SAS, one on another account. */
function systemStores(workspaceId: string): DatastoreRecord[] {
  return [
    datastore(workspaceId, 'workspaceblobstore', { system: true, isDefault: true }),
    datastore(workspaceId, 'workspacefilestore', { system: true, type: 'AzureFile' }),
    datastore(workspaceId, 'workspacesasstore', { system: true, credentialsType: 'Sas', secret: 'sv=sas' }),
    datastore(workspaceId, 'workspaceotherstore', { system: true, accountName: 'otherstore', secret: 'other-key' }),
  ];
}

describe.each([
  ['SQLite', sqliteDialect],
  ['PostgreSQL', postgresDialect],
])('workspaces and datastores over %s', (_name, open) => {
  let stores: Dialect;
  beforeAll(async () => {
    stores = await open();
  });
  afterAll(() => stores?.close());

  const main = workspace('11111111-0000-0000-0000-000000000001', 'RG-Main', 'Ws-One');

  it('create a workspace with its system datastores in one go', async () => {
    await stores.workspaces.create(main, systemStores(main.id));
    await expect(stores.workspaces.create({ ...main, id: '11111111-0000-0000-0000-000000000009', name: 'ws-ONE' }, [])).rejects.toThrow();
    // The failed create left nothing behind, not even its datastores.
    await expect(stores.workspaces.create({ ...main, id: '11111111-0000-0000-0000-000000000008', name: 'WS-one' }, systemStores('11111111-0000-0000-0000-000000000008'))).rejects.toThrow();
    expect(await stores.datastores.listSystem('11111111-0000-0000-0000-000000000008')).toEqual([]);
  });

  it('get a workspace in any case, with its key unsealed', async () => {
    expect(await stores.workspaces.get('rg-main', 'WS-ONE')).toEqual(main);
    expect(await stores.workspaces.get('rg-main', 'ws-two')).toBeUndefined();
    expect(await stores.workspaces.get('rg-other', 'ws-one')).toBeUndefined();
    expect((await stores.datastores.listSystem(main.id)).map((each) => each.name)).toEqual(['workspaceblobstore', 'workspacefilestore', 'workspaceotherstore', 'workspacesasstore']);
    expect(await stores.datastores.get(main.id, 'workspaceblobstore')).toEqual(systemStores(main.id)[0]);
  });

  it('list workspaces of a group, or all, in resource group and name order without regard to case', async () => {
    // SQLite's NOCASE order: folded to lower case, then byte by byte ('-' < '1' < '_' < letters), which is not ICU's.
    await stores.workspaces.create(workspace('22222222-0000-0000-0000-000000000001', 'rg-main', 'ws_b'), []);
    await stores.workspaces.create(workspace('22222222-0000-0000-0000-000000000002', 'RG-MAIN', 'WS1'), []);
    await stores.workspaces.create(workspace('22222222-0000-0000-0000-000000000003', 'rg_a', 'alpha'), []);
    await stores.workspaces.create(workspace('22222222-0000-0000-0000-000000000004', 'rg1', 'Zed'), []);
    await stores.workspaces.create(workspace('22222222-0000-0000-0000-000000000005', 'rg1', 'beta'), []);
    const names = (list: WorkspaceRecord[]) => list.map((each) => `${each.resourceGroup}/${each.name}`);
    expect(names(await stores.workspaces.list('rg-main'))).toEqual(['RG-Main/Ws-One', 'RG-MAIN/WS1', 'rg-main/ws_b']);
    expect(names(await stores.workspaces.list('RG1'))).toEqual(['rg1/beta', 'rg1/Zed']);
    expect(names(await stores.workspaces.list('rg-none'))).toEqual([]);
    expect(names(await stores.workspaces.list())).toEqual(['RG-Main/Ws-One', 'RG-MAIN/WS1', 'rg-main/ws_b', 'rg1/beta', 'rg1/Zed', 'rg_a/alpha']);
  });

  it('save settings', async () => {
    const settings = { location: 'eastus', tags: { team: 'data' }, skuName: 'Enterprise', description: 'changed', properties: {} };
    await stores.workspaces.saveSettings(main.id, settings, 1_700_000_001_000);
    expect(await stores.workspaces.get('RG-Main', 'Ws-One')).toEqual({ ...main, settings, modified: 1_700_000_001_000 });
    main.settings = settings;
    main.modified = 1_700_000_001_000;
  });

  it('resync the key: the workspace and only its system datastores on the linked account key', async () => {
    await stores.datastores.put(datastore(main.id, 'userstore'));
    await stores.workspaces.resyncKey(main, 'key-two', 1_700_000_002_000);
    expect(await stores.workspaces.get('RG-Main', 'Ws-One')).toEqual({ ...main, storageKey: 'key-two', modified: 1_700_000_002_000 });
    const [blob, file, sas, other] = systemStores(main.id);
    expect(await stores.datastores.listSystem(main.id)).toEqual([
      { ...blob, secret: 'key-two', modified: 1_700_000_002_000 },
      { ...file, secret: 'key-two', modified: 1_700_000_002_000 },
      other,
      sas,
    ]);
    expect(await stores.datastores.get(main.id, 'userstore')).toEqual(datastore(main.id, 'userstore'));
  });

  it('put and get datastores, with a sealed secret or none', async () => {
    const keyed = datastore(main.id, 'keyed', { description: 'Training Data', tags: { a: 'b' }, properties: { p: 'q' } });
    await stores.datastores.put(keyed);
    expect(await stores.datastores.get(main.id, 'keyed')).toEqual(keyed);
    const open = datastore(main.id, 'open', { credentialsType: 'None', secret: undefined });
    await stores.datastores.put(open);
    const got = await stores.datastores.get(main.id, 'open');
    expect(got).toEqual(open);
    expect(got?.secret).toBeUndefined();
    expect(await stores.datastores.get(main.id, 'missing')).toBeUndefined();
    expect(await stores.datastores.get('no-such-workspace', 'keyed')).toBeUndefined();
  });

  it('overwrite a datastore, keeping system, isDefault and created', async () => {
    const replacement = datastore(main.id, 'workspaceblobstore', {
      containerName: 'elsewhere',
      credentialsType: 'Sas',
      secret: 'sv=new',
      description: 'moved',
      created: 1_800_000_000_000,
      modified: 1_800_000_000_000,
    });
    await stores.datastores.put(replacement);
    expect(await stores.datastores.get(main.id, 'workspaceblobstore')).toEqual({ ...replacement, system: true, isDefault: true, created: 1_700_000_000_500 });
  });

  it('query datastores page by page and by each filter', async () => {
    const ws = '33333333-0000-0000-0000-000000000001';
    await stores.workspaces.create(workspace(ws, 'rg-query', 'ws-query'), []);
    // Byte order, as SQLite's BINARY: upper case before '_' before lower case.
    for (const [name, description, isDefault] of [
      ['b_two', 'Second STORE', false],
      ['B2', undefined, false],
      ['a1', 'first', true],
      ['Zeta', 'an Ünusual one', false],
      ['_under', undefined, false],
    ] as const) {
      await stores.datastores.put(datastore(ws, name, { description, isDefault }));
    }
    const names = async (query: Parameters<DatastoreStore['query']>[1]) => {
      const page = await stores.datastores.query(ws, query);
      return [page.items.map((each) => each.name), page.more];
    };
    expect(await names({ after: '', limit: 2 })).toEqual([['B2', 'Zeta'], true]);
    expect(await names({ after: 'Zeta', limit: 2 })).toEqual([['_under', 'a1'], true]);
    expect(await names({ after: 'a1', limit: 2 })).toEqual([['b_two'], false]);
    expect(await names({ after: '', limit: 5 })).toEqual([['B2', 'Zeta', '_under', 'a1', 'b_two'], false]);
    expect(await names({ after: '', limit: 10, isDefault: true })).toEqual([['a1'], false]);
    expect(await names({ after: '', limit: 10, isDefault: false })).toEqual([['B2', 'Zeta', '_under', 'b_two'], false]);
    expect(await names({ after: '', limit: 10, names: ['a1', 'Zeta', 'zeta', 'none'] })).toEqual([['Zeta', 'a1'], false]);
    expect(await names({ after: '', limit: 10, names: [] })).toEqual([[], false]);
    // Case-insensitive over name and description; as SQLite's lower(), only A-Z fold.
    expect(await names({ after: '', limit: 10, searchText: 'B' })).toEqual([['B2', 'b_two'], false]);
    expect(await names({ after: '', limit: 10, searchText: 'store' })).toEqual([['b_two'], false]);
    expect(await names({ after: '', limit: 10, searchText: 'FIRST' })).toEqual([['a1'], false]);
    expect(await names({ after: '', limit: 10, searchText: 'ünusual' })).toEqual([[], false]);
    expect(await names({ after: '', limit: 10, searchText: 'nusual' })).toEqual([['Zeta'], false]);
    expect(await names({ after: '', limit: 1, searchText: '', isDefault: false, names: ['B2', 'b_two', 'a1'] })).toEqual([['B2'], true]);
  });

  it('list only the system datastores', async () => {
    expect((await stores.datastores.listSystem(main.id)).map((each) => [each.name, each.system])).toEqual([
      ['workspaceblobstore', true],
      ['workspacefilestore', true],
      ['workspaceotherstore', true],
      ['workspacesasstore', true],
    ]);
    expect(await stores.datastores.listSystem('33333333-0000-0000-0000-000000000001')).toEqual([]);
  });

  it('delete a datastore once', async () => {
    expect(await stores.datastores.delete(main.id, 'keyed')).toBe(true);
    expect(await stores.datastores.delete(main.id, 'keyed')).toBe(false);
    expect(await stores.datastores.get(main.id, 'keyed')).toBeUndefined();
  });

  it('delete a workspace once, and its datastores with it', async () => {
    expect(await stores.workspaces.delete(main.id)).toBe(true);
    expect(await stores.workspaces.delete(main.id)).toBe(false);
    expect(await stores.workspaces.get('RG-Main', 'Ws-One')).toBeUndefined();
    expect(await stores.datastores.listSystem(main.id)).toEqual([]);
    expect(await stores.datastores.get(main.id, 'userstore')).toBeUndefined();
    expect((await stores.datastores.query(main.id, { after: '', limit: 10 })).items).toEqual([]);
    expect((await stores.datastores.query('33333333-0000-0000-0000-000000000001', { after: '', limit: 10 })).items).toHaveLength(5);
  });
});
