import fs from 'node:fs';
import path from 'node:path';
import type { JobRecord } from '../db/jobs.js';
import type { WorkspaceRecord } from '../db/workspaces.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { resolveStorageUri } from '../management/resources/assets.js';
import { downloadPlanned, filesUnder, joinRemote, localPathUnder, uploadPlanned } from '../sdk/transfer.js';
import { JobLog } from './job-log.js';
import { JobProcess } from './job-process.js';
import { JobStorage, JobStorageError } from './job-storage.js';

/** Where Azure ML keeps a job's artifacts (and logs), in the workspace's artifact store. */
export const ARTIFACT_STORE = 'workspaceartifactstore';
export const artifactsPath = (jobName: string) => `ExperimentRun/dcid.${jobName}`;
export const logPath = (jobName: string) => `${artifactsPath(jobName)}/user_logs/std_log.txt`;

export type JobOutcome = { status: 'Completed' } | { status: 'Canceled' } | { status: 'Failed'; error: { code: string; message: string } };

/** What a run needs from the runner: the job, where to work, and how to tell it the command started. */
export interface RunContext {
  deps: ManagementDeps;
  job: JobRecord;
  workspace: WorkspaceRecord;
  /** A directory of its own, emptied first and removed after. */
  workDir: string;
  /** Aborted to cancel the job (its reason is the signal's). */
  signal: AbortSignal;
  /** Called once inputs are in place; false when the job was canceled meanwhile (then the command never starts). */
  started(): Promise<boolean>;
  /** The command's process group, once it runs. */
  spawned(pid: number): Promise<void>;
}

const PLACEHOLDER = /\$\{\{\s*(inputs|outputs)\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/** A command line word holding `value` as it is, whatever it contains. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

class Stop extends Error {
  constructor(readonly outcome: JobOutcome) {
    super('stop');
  }
}

function failed(code: string, message: string): Stop {
  return new Stop({ status: 'Failed', error: { code, message } });
}

/**
 * Runs one command job on this host, as Azure ML runs it on a compute:
 *
 * 1. its log, `user_logs/std_log.txt`, is started in the workspace's artifact
 *    store with the workspace's key copy, so a stale copy fails the job at once;
 * 2. the code snapshot and every input are downloaded, each input with the
 *    credential of the datastore it names (mounts are downloads here);
 * 3. the command runs in the snapshot's folder, `${{inputs.x}}` and
 *    `${{outputs.y}}` replaced by local paths, its output appended to the log;
 * 4. each output folder is uploaded, with the workspace's key copy when it goes
 *    to the workspace's own storage.
 *
 * Any storage refusal ends the job Failed with an error that names the holder
 * of the refused credential and the fix.
 */
export async function runJob(ctx: RunContext): Promise<JobOutcome> {
  const { deps, job, workspace, workDir, signal } = ctx;
  const storage = new JobStorage(deps, workspace);
  const dirs = { code: path.join(workDir, 'code'), inputs: path.join(workDir, 'inputs'), outputs: path.join(workDir, 'outputs'), tmp: path.join(workDir, 'tmp') };
  fs.rmSync(workDir, { recursive: true, force: true });
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  const log = new JobLog(storage, () => storage.datastore(ARTIFACT_STORE, true), logPath(job.name));
  let logStarted = false;
  try {
    await step('start the job log', () => log.start());
    logStarted = true;
    const bindings = new Map<string, string>();
    if (job.codeId) await step('download the code snapshot', () => downloadCode(ctx, storage, dirs.code));
    for (const [name, input] of Object.entries(job.inputs)) {
      if (input.type === 'literal') {
        bindings.set(`inputs.${name}`, input.value!);
        continue;
      }
      const local = await step(`download input '${name}'`, () => downloadInput(ctx, storage, name, dirs.inputs));
      bindings.set(`inputs.${name}`, local);
    }
    for (const [name, output] of Object.entries(job.outputs)) {
      const dir = path.join(dirs.outputs, name);
      fs.mkdirSync(dir, { recursive: true });
      bindings.set(`outputs.${name}`, output.type === 'uri_file' ? path.join(dir, path.posix.basename(outputPath(output.uri))) : dir);
    }
    if (signal.aborted || !(await ctx.started())) return { status: 'Canceled' };

    const command = job.command.replace(PLACEHOLDER, (_all, scope: string, name: string) => shellQuote(bindings.get(`${scope}.${name}`)!));
    const env = jobEnvironment(ctx, bindings, dirs.tmp);
    const child = new JobProcess(command, dirs.code, env, (chunk) => log.write(chunk));
    try {
      if (child.pid !== undefined) await ctx.spawned(child.pid);
    } catch (error) {
      child.stop('unrecorded');
      throw error;
    }
    child.release();
    const onAbort = () => child.stop(String(signal.reason ?? 'canceled'));
    signal.addEventListener('abort', onAbort);
    const timer = job.timeoutSeconds ? setTimeout(() => child.stop('timeout'), job.timeoutSeconds * 1000) : undefined;
    const end = await child.ended;
    signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
    await step('write the job log', () => log.close());
    if (end.stopped === 'timeout') return failed('JobTimeout', `The job ran longer than its limits.timeout (${job.timeoutSeconds} s) and was stopped.`).outcome;
    if (end.stopped !== undefined) return { status: 'Canceled' };
    if (end.code !== 0) {
      return failed('UserError', `The command exited with ${end.code === undefined ? `signal ${end.signal}` : `code ${end.code}`}; its output is in ${logPath(job.name)} (mlspace ml job stream).`).outcome;
    }
    for (const [name, output] of Object.entries(job.outputs)) await step(`upload output '${name}'`, () => uploadOutput(ctx, storage, output.uri, path.join(dirs.outputs, name)));
    return { status: 'Completed' };
  } catch (error) {
    if (error instanceof Stop) {
      if (logStarted) await log.close().catch(() => undefined);
      return error.outcome;
    }
    throw error;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  /** Runs a storage step; a refusal, or any failure to reach storage, fails the job saying which step and why. */
  async function step<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof Stop) throw error;
      if (signal.aborted) throw new Stop({ status: 'Canceled' });
      const why = error instanceof JobStorageError ? error.message : (error as Error).message.split('\n')[0];
      throw failed(error instanceof JobStorageError ? error.code : 'StorageError', `The job could not ${what}: ${why}`);
    }
  }
}

/**
 * The datastore and path a URI of the job points to now. The job was checked
 * when it was created, so a URI that no longer resolves lost its datastore
 * since: say so in the job's terms, not the management API's.
 */
async function placeNow(ctx: RunContext, field: string, uri: string): Promise<{ datastore: string; path: string }> {
  try {
    return await resolveStorageUri(ctx.deps, ctx.workspace, field, uri);
  } catch (error) {
    if (!(error instanceof ArmError)) throw error;
    // A datastore URI names its datastore; a storage URL names a container that some datastore read when the job was created.
    const why = uri.startsWith('azureml:')
      ? 'its datastore was deleted after the job was created'
      : 'the datastore that read its container was deleted, or registered onto another container, after the job was created';
    throw new JobStorageError(
      `'${uri}' no longer points into a datastore of workspace '${ctx.workspace.name}': ${why}. Register it again (mlspace ml datastore create) and run the job again.`,
      'DatastoreNotFound',
    );
  }
}

/** The path of a datastore URI with no trailing slash. */
function outputPath(uri: string): string {
  return uri.replace(/^azureml:\/\/.*?datastores\/[^/]+\/(?:paths\/)?/, '').replace(/\/+$/, '');
}

async function downloadCode(ctx: RunContext, storage: JobStorage, into: string): Promise<void> {
  const [, name, version] = /\/codes\/([^/]+)\/versions\/([^/]+)$|^azureml:([^:]+):(.+)$/.exec(ctx.job.codeId!)!.filter((part) => part !== undefined);
  const code = await ctx.deps.codes.getVersion(ctx.workspace.id, name!, version!);
  if (!code) throw new JobStorageError(`code '${name}' version ${version} was deleted`, 'CodeNotFound');
  const place = await placeNow(ctx, 'codeUri', code.codeUri);
  await downloadFolder(storage, () => storage.datastore(place.datastore, true), place.path, into, ctx.signal);
}

/** Downloads a uri_folder input into its own folder, or a uri_file into its folder; answers the local path. */
async function downloadInput(ctx: RunContext, storage: JobStorage, name: string, root: string): Promise<string> {
  const input = ctx.job.inputs[name]!;
  const place = await placeNow(ctx, `inputs.${name}`, input.uri!);
  const dir = path.join(root, name);
  const access = () => storage.datastore(place.datastore);
  if (input.type === 'uri_folder') {
    await downloadFolder(storage, access, place.path, dir, ctx.signal);
    return dir;
  }
  const file = localPathUnder(dir, path.posix.basename(place.path));
  await storage.with(access, async (target) => {
    if (!(await target.exists(place.path))) throw new JobStorageError(`nothing is at '${place.path}' in datastore '${place.datastore}'`, 'InputNotFound');
    await downloadPlanned(target, [{ localPath: file, remotePath: place.path, size: 0 }], { overwrite: true, abortSignal: ctx.signal });
  });
  return file;
}

async function downloadFolder(storage: JobStorage, access: Parameters<JobStorage['with']>[0], prefix: string, into: string, signal: AbortSignal): Promise<void> {
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  await storage.with(access, async (target) => {
    const planned = [];
    // A blob name with '..' in it must not reach outside the job's folder.
    for await (const file of target.list(folder)) planned.push({ localPath: localPathUnder(into, file.path.slice(folder.length)), remotePath: file.path, size: file.size });
    await downloadPlanned(target, planned, { overwrite: true, abortSignal: signal });
  });
}

async function uploadOutput(ctx: RunContext, storage: JobStorage, uri: string, dir: string): Promise<void> {
  const place = await placeNow(ctx, 'outputs', uri);
  const files = filesUnder(dir).map((file) => ({ localPath: file.localPath, remotePath: joinRemote(place.path, file.relative), size: file.size }));
  await storage.with(() => storage.datastore(place.datastore, true), (target) => uploadPlanned(target, files, { overwrite: true, abortSignal: ctx.signal }));
}

/**
 * The job's environment: the variables Azure ML sets and the job's own, and
 * nothing of the server's (no master key, no admin client, no MLSPACE_*). The
 * job's own may replace any but AZUREML_RUN_ID: it is how another node
 * recognizes the job's processes after this one dies (killOrphan).
 */
function jobEnvironment(ctx: RunContext, bindings: Map<string, string>, tmp: string): Record<string, string> {
  const { job, workspace, deps } = ctx;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: path.dirname(tmp),
    TMPDIR: tmp,
    AZUREML_RUN_ID: job.name,
    AZUREML_EXPERIMENT_NAME: job.experimentName,
    AZUREML_ARM_SUBSCRIPTION: deps.subscriptionId,
    AZUREML_ARM_RESOURCEGROUP: workspace.resourceGroup,
    AZUREML_ARM_WORKSPACE_NAME: workspace.name,
  };
  for (const [key, value] of bindings) {
    const [scope, name] = key.split('.');
    env[`AZURE_ML_${scope === 'inputs' ? 'INPUT' : 'OUTPUT'}_${name}`] = value;
  }
  return { ...env, ...job.environmentVariables, AZUREML_RUN_ID: job.name };
}
