import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints } from '../../src/server/endpoints.js';
import { createTestDatabase, E2E_DATABASE_PREFIX, type TestDatabase } from './postgres.js';

export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlspace.js');

/** The started server: what its endpoints.json says, plus its process. */
export interface TestServer extends Endpoints {
  dataDir: string;
  process: ChildProcess;
  /** The server's stdout and stderr so far (to assert nothing secret was logged). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `mlspace up` as a separate process on free ports and waits for its endpoints.json. */
export async function startTestServer(
  options: {
    dataDir?: string;
    env?: Record<string, string>;
    args?: string[];
    /** leave --data-dir out: the server picks its default */
    defaultDataDir?: boolean;
    /** --endpoints-file: each of several nodes sharing a data directory needs its own */
    endpointsFile?: string;
    /** Keep the data directory's SQLite file even in a run on PostgreSQL: the test is about that file. */
    embedded?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-test-'));
  const dataDirArgs = options.defaultDataDir ? [] : ['--data-dir', dataDir];
  const endpointsFile = options.endpointsFile ?? path.join(dataDir, 'endpoints.json');
  const endpointsArgs = options.endpointsFile ? ['--endpoints-file', options.endpointsFile] : [];
  fs.rmSync(endpointsFile, { force: true });
  const databaseArgs = options.embedded ? [] : await testDatabaseArgs(dataDir, options.args ?? []);
  const child = spawn(process.execPath, [BIN, 'up', ...dataDirArgs, ...databaseArgs, ...endpointsArgs, '--blob-port', '0', '--file-port', '0', '--blob-https-port', '0', '--file-https-port', '0', '--arm-port', '0', ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(endpointsFile)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mlspace up did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const endpoints = JSON.parse(fs.readFileSync(endpointsFile, 'utf8')) as Endpoints;
  return {
    ...endpoints,
    dataDir,
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * With MLSPACE_TEST_DATABASE=postgres, every server the suite starts keeps its
 * metadata in a PostgreSQL database of its own: one per data directory, so a
 * test that restarts a server on its data directory finds its metadata again.
 * The databases are dropped when the run ends (test/helpers/postgres-run.ts).
 */
const testDatabases = new Map<string, Promise<TestDatabase>>();

async function testDatabaseArgs(dataDir: string, args: string[]): Promise<string[]> {
  if (process.env.MLSPACE_TEST_DATABASE !== 'postgres' || args.includes('--database')) return [];
  let database = testDatabases.get(dataDir);
  if (database === undefined) testDatabases.set(dataDir, (database = createTestDatabase(E2E_DATABASE_PREFIX)));
  return ['--database', (await database).url];
}

/** Everything a server's metadata store holds, as text: its SQLite files, or every row of its PostgreSQL database. */
export async function storedMetadata(server: { dataDir: string }): Promise<string> {
  const database = testDatabases.get(server.dataDir);
  if (database === undefined) {
    return ['metadata.sqlite', 'metadata.sqlite-wal']
      .map((file) => path.join(server.dataDir, file))
      .filter((file) => fs.existsSync(file))
      .map((file) => fs.readFileSync(file).toString('latin1'))
      .join('');
  }
  const pool = (await database).pool(1);
  try {
    const { rows: tables } = await pool.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'");
    const text: string[] = [];
    for (const { name } of tables) text.push(...(await pool.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`)).rows.map((row) => row.row));
    return text.join('\n');
  } finally {
    await pool.end();
  }
}

/** The first column of a query on a server's metadata store, in SQL both dialects accept. */
export async function queryMetadata(server: { dataDir: string }, sql: string): Promise<unknown[]> {
  const database = testDatabases.get(server.dataDir);
  if (database === undefined) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(server.dataDir, 'metadata.sqlite'), { readonly: true });
    try {
      return db.prepare(sql).pluck().all();
    } finally {
      db.close();
    }
  }
  const pool = (await database).pool(1);
  try {
    return (await pool.query({ text: sql, rowMode: 'array' })).rows.map((row: unknown[]) => row[0]);
  } finally {
    await pool.end();
  }
}

/** Whether this run keeps the servers' metadata in PostgreSQL (see testDatabaseArgs). */
export const onPostgres = process.env.MLSPACE_TEST_DATABASE === 'postgres';

export function devConnectionString(server: TestServer, key = DEV_KEY): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${key};BlobEndpoint=${server.blob}/${DEV_ACCOUNT};`;
}

/** A connection string for the File service, which the share client reads as `FileEndpoint`. */
export function fileConnectionString(server: TestServer, account = DEV_ACCOUNT, key = DEV_KEY): string {
  return `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};FileEndpoint=${server.file}/${account};`;
}

/** A new container of the development account, through the official client, which tries each request once (errors are what tests look at). */
export async function newDevContainer(server: TestServer, name: string) {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const container = BlobServiceClient.fromConnectionString(devConnectionString(server), { retryOptions: { maxTries: 1 } }).getContainerClient(name);
  await container.create();
  return container;
}
