import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliIn } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A data directory the 0.1.0 release wrote (test/fixtures/make-data-dir.sh says how), with the master key it was made with. */
const FIXTURE = fileURLToPath(new URL('../fixtures/data-dir-0.1.0.tar.gz', import.meta.url));
/** The same, written with its metadata in PostgreSQL (make-data-dir.sh --postgres): the dump, and the data directory beside it. */
const POSTGRES_DUMP = fileURLToPath(new URL('../fixtures/postgres-0.1.0.sql.gz', import.meta.url));
const POSTGRES_FIXTURE = fileURLToPath(new URL('../fixtures/postgres-data-dir-0.1.0.tar.gz', import.meta.url));
const FIXTURE_KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 8).toString('base64');

const homes: string[] = [];
let server: TestServer | undefined;
afterAll(async () => {
  await server?.stop();
  for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
});

/** A fresh MLSPACE_HOME whose data directory is the fixture's, unpacked. */
function unpackFixture(fixture = FIXTURE): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-upgrade-'));
  homes.push(home);
  execFileSync('tar', ['xzf', fixture, '-C', home]);
  fs.chmodSync(path.join(home, 'data'), 0o700);
  return home;
}

/** What make-data-dir.sh put there, read back through the CLI and the official client. */
async function expectFixtureContents(running: TestServer, home: string): Promise<void> {
  const cli = cliIn(home);
  await run(cli, 'login', '-o', 'none');
  // The release before scoped roles gave each principal one role: the admin's Owner is now an assignment at the subscription.
  const roles = JSON.parse(await run(cli, 'role', 'assignment', 'list', '-o', 'json')) as { roleDefinitionName: string; scope: string }[];
  expect(roles).toEqual([expect.objectContaining({ roleDefinitionName: 'Owner', scope: `/subscriptions/${running.subscriptionId}` })]);
  const key1 = await run(cli, 'storage', 'account', 'keys', 'list', '-g', 'rg-fixture', '-n', 'fixtureacct', '--query', '[0].value', '-o', 'tsv');
  const blobs = new BlobServiceClient(`${running.blob}/fixtureacct`, new StorageSharedKeyCredential('fixtureacct', key1));
  expect((await blobs.getContainerClient('data').getBlobClient('hello.txt').downloadToBuffer()).toString()).toBe('written by mlspace 0.1.0\n');
  const datastores = JSON.parse(await run(cli, 'ml', 'datastore', 'list', '-w', 'fixturews', '-g', 'rg-fixture', '-o', 'json')) as { name: string }[];
  expect(datastores.map((datastore) => datastore.name).sort()).toEqual(['userdata', 'workspaceartifactstore', 'workspaceblobstore', 'workspacefilestore']);
  // The datastore registered with key2 still holds it, as discovery sees it.
  const consumers = JSON.parse(await run(cli, 'storage', 'account', 'keys', 'consumers', '-g', 'rg-fixture', '-n', 'fixtureacct', '--query', 'value', '-o', 'json')) as { datastoreName?: string; matches: string }[];
  expect(consumers.find((consumer) => consumer.datastoreName === 'userdata')?.matches).toBe('key2');
}

const run = async (cli: ReturnType<typeof cliIn>, ...args: string[]) => {
  const result = await cli(...args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
};

describe('a data directory written by an earlier release', () => {
  it('opens in this one: its accounts, keys, blobs, workspaces and datastores are all there', async () => {
    const home = unpackFixture();
    server = await startTestServer({ embedded: true, dataDir: path.join(home, 'data'), env: { MLSPACE_MASTER_KEY: FIXTURE_KEY } });
    await expectFixtureContents(server, home);
    await server.stop();
    server = undefined;
  });

  it('refuses to start with another master key, and says which key and what to do; nothing is changed', async () => {
    const home = unpackFixture();
    const dataDir = path.join(home, 'data');
    const before = fs.readFileSync(path.join(dataDir, 'metadata.sqlite'));
    // Before the check value is recorded, the sealed keys themselves tell a wrong key.
    await expect(startTestServer({ embedded: true, dataDir, env: { MLSPACE_MASTER_KEY: OTHER_KEY } })).rejects.toThrow(/master key from MLSPACE_MASTER_KEY is not the one this deployment's secrets were sealed with/);
    expect(fs.readFileSync(path.join(dataDir, 'metadata.sqlite')).equals(before)).toBe(true);

    // The right key, from a file outside the data directory: it starts, and the database records the key's check value.
    const keyFile = path.join(home, 'master.key');
    fs.writeFileSync(keyFile, `${FIXTURE_KEY}\n`, { mode: 0o600 });
    server = await startTestServer({ embedded: true, dataDir, args: ['--master-key-file', keyFile], env: { MLSPACE_MASTER_KEY: '' } });
    await server.stop();
    server = undefined;

    // From then on, another key is refused by the check value, whatever it would unseal.
    const otherFile = path.join(home, 'other.key');
    fs.writeFileSync(otherFile, `${OTHER_KEY}\n`, { mode: 0o600 });
    await expect(startTestServer({ embedded: true, dataDir, args: ['--master-key-file', otherFile], env: { MLSPACE_MASTER_KEY: '' } })).rejects.toThrow(
      new RegExp(`master key from --master-key-file ${otherFile} is not the one .* set MLSPACE_MASTER_KEY, or --master-key-file`),
    );
    await expect(startTestServer({ embedded: true, dataDir, args: ['--master-key-file', path.join(home, 'missing.key')], env: { MLSPACE_MASTER_KEY: '' } })).rejects.toThrow(/no such file.*openssl rand -base64 32/);
    await expect(startTestServer({ embedded: true, dataDir, env: { MLSPACE_MASTER_KEY: 'c2hvcnQ=' } })).rejects.toThrow(/exactly 32 bytes/);
  });

  it('refuses a database a newer release migrated, saying so', async () => {
    const home = unpackFixture();
    const dataDir = path.join(home, 'data');
    const db = new Database(path.join(dataDir, 'metadata.sqlite'));
    db.prepare("INSERT INTO schema_migrations (name, applied) VALUES ('999-from-the-future', 0)").run();
    db.close();
    await expect(startTestServer({ embedded: true, dataDir, env: { MLSPACE_MASTER_KEY: FIXTURE_KEY } })).rejects.toThrow(/migrated by a newer mlspace release \(999-from-the-future\)/);
  });
});

describe('a PostgreSQL database written by this release', () => {
  let database: TestDatabase | undefined;
  afterAll(() => database?.drop());

  /** The dump restored into a database of its own: pg_dump's INSERTs, run through the pg client (psql's own commands left out). */
  async function restoreFixture(): Promise<TestDatabase> {
    database = await createTestDatabase('mlspace_upgrade');
    const dump = zlib.gunzipSync(fs.readFileSync(POSTGRES_DUMP)).toString('utf8');
    const pool = database.pool(1);
    await pool.query(dump.split('\n').filter((line) => !line.startsWith('\\')).join('\n'));
    return database;
  }

  it('opens in this one, with everything in it; another master key and a newer schema are refused', async () => {
    const restored = await restoreFixture();
    const home = unpackFixture(POSTGRES_FIXTURE);
    const dataDir = path.join(home, 'data');
    const args = ['--database', restored.url];
    await expect(startTestServer({ dataDir, args, env: { MLSPACE_MASTER_KEY: OTHER_KEY } })).rejects.toThrow(/master key from MLSPACE_MASTER_KEY is not the one this deployment's secrets were sealed with/);
    server = await startTestServer({ dataDir, args, env: { MLSPACE_MASTER_KEY: FIXTURE_KEY } });
    await expectFixtureContents(server, home);
    await server.stop();
    server = undefined;
    await restored.pool(1).query("INSERT INTO schema_migrations (name, applied) VALUES ('999-from-the-future', 0)");
    await expect(startTestServer({ dataDir, args, env: { MLSPACE_MASTER_KEY: FIXTURE_KEY } })).rejects.toThrow(/migrated by a newer mlspace release \(999-from-the-future\)/);
  });
});
