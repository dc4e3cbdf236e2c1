import fs from 'node:fs';
import fc from 'fast-check';
import { BlobServiceClient } from '@azure/storage-blob';
import { ShareServiceClient } from '@azure/storage-file-share';
import { managementClients } from '../helpers/management.js';
import { devConnectionString, fileConnectionString, type TestServer } from '../helpers/server.js';
import { FUZZ_ACCOUNT, FUZZ_GROUP, FUZZ_WORKSPACE, armRequest, armToRaw, type ArmFuzzRequest } from './arm-requests.js';
import { checkExchange, type Exchange } from './checks.js';
import { EXISTING_BLOB, EXISTING_CONTAINER, EXISTING_DIRECTORY, EXISTING_FILE, dataPlaneRequest, toRaw, type DataPlaneRequest } from './data-plane-requests.js';
import { sendRaw, type RawRequest } from './raw-http.js';

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Generated requests per fast-check run; each run has its own seed, printed with any failure. */
  runSize?: number;
  /** An account SAS for both services, signed with the dev account's key. */
  sas: string;
  log?: (line: string) => void;
}

export interface FuzzReport {
  requests: number;
  runs: number;
  failures: string[];
  rssBeforeMb: number;
  rssAfterMb: number;
}

/** What the fuzzer's targets start with: a container, share and ML resources that exist, so requests reach deep handlers. */
export async function seedFuzzTargets(server: TestServer): Promise<void> {
  const container = BlobServiceClient.fromConnectionString(devConnectionString(server)).getContainerClient(EXISTING_CONTAINER);
  await container.createIfNotExists();
  await container.getBlockBlobClient(EXISTING_BLOB).upload('seeded blob', 11);
  const share = ShareServiceClient.fromConnectionString(fileConnectionString(server)).getShareClient(EXISTING_CONTAINER);
  await share.createIfNotExists();
  await share.getDirectoryClient(EXISTING_DIRECTORY).createIfNotExists();
  await share.getDirectoryClient('').getFileClient(EXISTING_FILE).uploadData(Buffer.from('seeded file'));
  const { resources, storage, ml } = managementClients(server);
  await resources.resourceGroups.createOrUpdate(FUZZ_GROUP, { location: 'eastus' });
  const account = await storage.storageAccounts.beginCreateAndWait(FUZZ_GROUP, FUZZ_ACCOUNT, { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
  await ml.workspaces.beginCreateOrUpdateAndWait(FUZZ_GROUP, FUZZ_WORKSPACE, { location: 'eastus', storageAccount: account.id });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/**
 * Sends generated requests to both data-plane services and the management
 * plane for `seconds`, run after run, and collects every failure with the seed
 * and path that replay it (FUZZ_SEED=<seed> with the same run size).
 */
export async function fuzzServer(server: TestServer, options: FuzzOptions): Promise<FuzzReport> {
  const ca = fs.readFileSync(server.caFile, 'utf8');
  const token = (await managementClients(server).credential.getToken('https://management.azure.com/.default'))!.token;
  const storageExchange = (request: DataPlaneRequest): Exchange => {
    const endpoint = new URL(request.service === 'blob' ? server.blob : server.file);
    const raw = toRaw(request, options.sas);
    const base = raw.target.split('?')[0]!;
    const read = async (method: string, query: string) => {
      const response = await sendRaw(endpoint, { method, target: `${base}?${query}${query ? '&' : ''}${options.sas}`, headers: [] });
      if (!response) return 'closed';
      // A refusal's body names its request id and time, which differ every time: its code is what it says.
      if (response.status >= 400) return `${response.status} ${response.headers['x-ms-error-code']}`;
      return `${response.status} ${response.headers.etag ?? ''} ${response.headers['content-length'] ?? ''} ${response.body}`;
    };
    const reads: [string, string][] =
      request.container === ''
        ? [['GET', 'restype=service&comp=properties'], ['GET', 'comp=list&include=metadata']]
        : request.path === ''
          ? request.service === 'blob'
            ? [['GET', 'restype=container'], ['GET', 'restype=container&comp=acl'], ['GET', 'restype=container&comp=list&include=metadata']]
            : [['GET', 'restype=share'], ['GET', 'restype=share&comp=acl'], ['GET', 'restype=directory&comp=list']]
          : request.service === 'blob'
            ? [['HEAD', ''], ['GET', 'comp=blocklist&blocklisttype=all']]
            : [['HEAD', ''], ['GET', 'restype=directory'], ['GET', 'restype=directory&comp=list'], ['GET', 'comp=rangelist']];
    return {
      plane: 'storage',
      request: raw,
      send: () => sendRaw(endpoint, raw),
      state: async () => (await Promise.all(reads.map(([method, query]) => read(method, query)))).join('\n'),
    };
  };
  const arm = new URL(server.arm);
  const armExchange = (request: ArmFuzzRequest): Exchange => {
    const raw = armToRaw(request, server.subscriptionId, token);
    const read = async (method: string, suffix: string) => {
      const response = await sendRaw(
        arm,
        { method, target: `/subscriptions/${server.subscriptionId}/${request.resource}${suffix}?api-version=2023-01-01`, headers: [['Authorization', `Bearer ${token}`]] },
        ca,
      );
      return response ? `${response.status} ${response.body}` : 'closed';
    };
    const secrets = /storageAccounts\/[^/]+$/.test(request.resource) ? '/listKeys' : /datastores\/[^/]+$/.test(request.resource) ? '/listSecrets' : undefined;
    return {
      plane: 'arm',
      request: raw,
      send: () => sendRaw(arm, raw, ca),
      state: async () => [await read('GET', ''), secrets ? await read('POST', secrets) : ''].join('\n'),
    };
  };
  const exchanges = fc.oneof(
    { weight: 3, arbitrary: dataPlaneRequest.map(storageExchange) },
    { weight: 1, arbitrary: armRequest(server.subscriptionId).map(armExchange) },
  );

  const pid = server.process.pid!;
  const report: FuzzReport = { requests: 0, runs: 0, failures: [], rssBeforeMb: rssMb(pid), rssAfterMb: 0 };
  const deadline = Date.now() + options.seconds * 1000;
  const property = fc.asyncProperty(exchanges, async (exchange) => {
    report.requests++;
    const problem = await checkExchange(exchange);
    if (problem) throw new Error(`${problem}\n  request: ${describeRequest(exchange.request)}`);
  });
  while (Date.now() < deadline) {
    const seed = options.seed + report.runs;
    report.runs++;
    const details = await fc.check(property, {
      seed,
      numRuns: options.runSize ?? 200,
      interruptAfterTimeLimit: Math.max(1, deadline - Date.now()),
      markInterruptAsFailure: false,
    });
    if (details.failed) {
      const failure = `seed ${seed}, path ${details.counterexamplePath}: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`;
      report.failures.push(failure);
      options.log?.(`FAILURE ${failure}`);
    }
    if (server.process.exitCode !== null || server.process.signalCode !== null) {
      report.failures.push(`the server exited (${server.process.exitCode ?? server.process.signalCode}) during the run with seed ${seed}`);
      break;
    }
  }
  report.rssAfterMb = rssMb(pid);
  return report;
}

function describeRequest(request: RawRequest): string {
  const headers = request.headers.map(([name, value]) => `${name}: ${value.slice(0, 80)}`).join(' | ');
  const body = request.body === undefined ? 'no body' : `${request.body.length}-byte body ${JSON.stringify(request.body.subarray(0, 80).toString('latin1'))}`;
  const declared = request.declaredLength === undefined ? '' : `, Content-Length ${request.declaredLength}`;
  return `${request.method} ${request.target.slice(0, 400)} [${headers}] ${body}${declared}`;
}
