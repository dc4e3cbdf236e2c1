import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoints } from '../../src/server/endpoints.js';

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
  options: { dataDir?: string; env?: Record<string, string>; args?: string[]; /** leave --data-dir out: the server picks its default */ defaultDataDir?: boolean } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-test-'));
  const dataDirArgs = options.defaultDataDir ? [] : ['--data-dir', dataDir];
  const endpointsFile = path.join(dataDir, 'endpoints.json');
  fs.rmSync(endpointsFile, { force: true });
  const child = spawn(process.execPath, [BIN, 'up', ...dataDirArgs, '--blob-port', '0', '--file-port', '0', '--blob-https-port', '0', '--file-https-port', '0', '--arm-port', '0', ...(options.args ?? [])], {
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
