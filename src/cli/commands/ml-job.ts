import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { workspacePath } from '../arm-paths.js';
import type { ArmRest } from '../arm-rest.js';
import { CliError } from '../errors.js';
import { readJobYaml, type JobYaml, type LocalPath } from '../job-yaml.js';
import { emit } from '../output/options.js';
import { examples, groupOf, session, withWorkspace, workspaceOf, type WorkspaceScoped } from './common.js';

/** A job as the management API answers it (mlspace adds `error` and `notes`). */
interface WireJob {
  id: string;
  name: string;
  systemData?: { createdAt?: string; createdBy?: string; lastModifiedAt?: string };
  properties: {
    displayName?: string;
    experimentName?: string;
    description?: string;
    tags?: Record<string, string>;
    properties?: Record<string, string>;
    command: string;
    codeId?: string;
    environmentId: string;
    environmentVariables?: Record<string, string>;
    inputs?: Record<string, { jobInputType: string; uri?: string; value?: string; mode?: string }>;
    outputs?: Record<string, { jobOutputType: string; uri?: string; mode?: string }>;
    computeId?: string | null;
    limits?: { timeout?: string };
    status: string;
    error?: { code: string; message: string };
    notes?: string[];
  };
}

const TERMINAL = new Set(['Completed', 'Failed', 'Canceled']);
const INPUT_MODES: Record<string, string> = { ReadOnlyMount: 'ro_mount', Download: 'download', Direct: 'direct', EvalMount: 'eval_mount', EvalDownload: 'eval_download' };
const OUTPUT_MODES: Record<string, string> = { ReadWriteMount: 'rw_mount', Upload: 'upload' };

/** A job as `az ml job show` prints it, in the YAML's own field names. */
function jobView(job: WireJob) {
  const p = job.properties;
  return {
    name: job.name,
    display_name: p.displayName,
    type: 'command',
    status: p.status,
    experiment_name: p.experimentName,
    description: p.description,
    command: p.command,
    code: p.codeId,
    environment: p.environmentId,
    compute: 'local',
    inputs: Object.fromEntries(
      Object.entries(p.inputs ?? {}).map(([name, input]) => [name, input.jobInputType === 'literal' ? input.value : { type: input.jobInputType, path: input.uri, mode: INPUT_MODES[input.mode ?? ''] ?? input.mode }]),
    ),
    outputs: Object.fromEntries(Object.entries(p.outputs ?? {}).map(([name, output]) => [name, { type: output.jobOutputType, path: output.uri, mode: OUTPUT_MODES[output.mode ?? ''] ?? output.mode }])),
    environment_variables: p.environmentVariables ?? {},
    limits: p.limits?.timeout ? { timeout: p.limits.timeout } : undefined,
    tags: p.tags ?? {},
    properties: p.properties ?? {},
    ...(p.error && { error: p.error }),
    notes: p.notes ?? [],
    id: job.id,
    resource_group: groupOf(job.id),
    creation_context: { created_at: job.systemData?.createdAt, created_by: job.systemData?.createdBy, last_modified_at: job.systemData?.lastModifiedAt },
  };
}

const jobRow = (view: ReturnType<typeof jobView>) => ({ Name: view.name, DisplayName: view.display_name, Status: view.status, Experiment: view.experiment_name, Created: view.creation_context.created_at });

function jobsPath(subscriptionId: string, options: WorkspaceScoped, ...inside: string[]): string {
  return workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'jobs', ...inside);
}

const isLocal = (value: unknown): value is LocalPath => typeof value === 'object' && value !== null && 'path' in value;

/**
 * Uploads what the job needs from this machine, as az ml does before it
 * creates a job: the code folder (a code version named by a new GUID) and any
 * local input, to the workspace's default datastore under LocalUpload/.
 */
async function uploadLocalPaths(spec: JobYaml, options: WorkspaceScoped, rest: ArmRest, subscriptionId: string): Promise<void> {
  if (typeof spec.code === 'string') spec.properties.codeId = spec.code;
  const locals = [spec.code, ...Object.values(spec.properties.inputs).map((input) => ('uri' in input ? input.uri : undefined))].filter(isLocal);
  if (locals.length === 0) return;
  const [{ uploadLocalPath }, workspace] = await Promise.all([import('../../sdk/local-upload.js'), workspaceOf(options)]);
  if (isLocal(spec.code)) {
    const uploaded = await uploadLocalPath(workspace, spec.code.path);
    if (!uploaded.isFolder) throw new CliError(`'code' must be a folder; ${spec.code.path} is a file.`, 2);
    const codeName = randomUUID();
    const code = await rest.put<{ id: string }>(workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'codes', codeName, 'versions', '1'), {
      properties: { codeUri: uploaded.url, isAnonymous: true },
    });
    spec.properties.codeId = code.id;
  }
  for (const input of Object.values(spec.properties.inputs)) {
    if ('uri' in input && isLocal(input.uri)) input.uri = (await uploadLocalPath(workspace, input.uri.path)).uri;
  }
}

/**
 * Follows a job until it ends, printing its log as it grows, as `az ml job
 * stream` does; fails (exit 1) when the job does not complete.
 */
async function streamJob(rest: ArmRest, subscriptionId: string, options: WorkspaceScoped, name: string): Promise<WireJob> {
  const { readJobLog } = await import('../../sdk/job-files.js');
  const workspace = await workspaceOf(options);
  process.stdout.write(`RunId: ${name}\n\nStreaming user_logs/std_log.txt\n${'='.repeat('user_logs/std_log.txt'.length + 10)}\n\n`);
  let printed = 0;
  let job: WireJob;
  for (;;) {
    job = await rest.get<WireJob>(jobsPath(subscriptionId, options, name));
    const ended = TERMINAL.has(job.properties.status);
    // The log may not exist yet, or be unreadable with a stale key: the job's own error says so when it ends.
    // Only what was added since the last read: a long log costs nothing to follow.
    const added = await readJobLog(workspace, job.properties.outputs!.default!.uri!, printed).catch(() => undefined);
    if (added && added.length > 0) {
      process.stdout.write(added);
      printed += added.length;
    }
    if (ended) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  process.stdout.write(`\nExecution Summary\n=================\nRunId: ${name}\nStatus: ${job.properties.status}\n\n`);
  if (job.properties.status === 'Failed') throw new CliError(`Job '${name}' failed: ${job.properties.error?.message ?? 'see its log.'}`);
  if (job.properties.status === 'Canceled') throw new CliError(`Job '${name}' was canceled.`);
  return job;
}

export function registerMlJob(ml: Command): void {
  const job = ml
    .command('job')
    .description("Run command jobs on the server's host (mlspace up --enable-local-jobs), follow them and fetch their outputs.")
    .addHelpText('after', examples('mlspace ml job create --file job.yml --stream -w myworkspace -g myresourcegroup', 'mlspace ml job list -w myworkspace -g myresourcegroup -o table'));

  withWorkspace(
    job
      .command('create')
      .description('Create a command job from an az ml v2 YAML file: its code folder and local inputs are uploaded first, then the server runs it.')
      .requiredOption('-f, --file <file>', 'the job YAML (type: command, command, code, environment, inputs, outputs, ...)')
      .option('-n, --name <name>', 'the job name (default: the YAML\'s, or a new one)')
      .option('-s, --stream', 'follow the job until it ends, printing its log'),
  )
    .addHelpText(
      'after',
      `
A job.yml:
  $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
  command: python train.py --data \${{inputs.training}} --out \${{outputs.model}}
  code: ./src
  environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:1   # recorded; the command runs with this host's tools
  inputs:
    training: {type: uri_folder, path: azureml://datastores/trainingdata/paths/images/}
  outputs:
    model: {type: uri_folder}
  limits: {timeout: 3600}
${examples('mlspace ml job create --file job.yml --stream -w myworkspace -g myresourcegroup')}`,
    )
    .action(async (options: WorkspaceScoped & { file: string; name?: string; stream?: boolean }) => {
      const spec = readJobYaml(options.file, options.name);
      const { rest, subscriptionId } = await session();
      await uploadLocalPaths(spec, options, rest, subscriptionId);
      const created = await rest.put<WireJob>(jobsPath(subscriptionId, options, spec.name), { properties: spec.properties });
      if (options.stream) await streamJob(rest, subscriptionId, options, created.name);
      else emit(jobView(created), options, jobRow);
    });

  withWorkspace(job.command('list').description('List the jobs of the workspace, by name; archived ones too with --include-archived.').option('--include-archived', 'list archived jobs too'))
    .addHelpText('after', examples('mlspace ml job list -w myworkspace -g myresourcegroup -o table'))
    .action(async (options: WorkspaceScoped & { includeArchived?: boolean }) => {
      const { rest, subscriptionId } = await session();
      const path = jobsPath(subscriptionId, options) + (options.includeArchived ? '&listViewType=All' : '');
      emit((await rest.list<WireJob>(path)).map(jobView), options, jobRow);
    });

  withWorkspace(job.command('show').description("Show a job: its definition, status, and on failure its error.").requiredOption('-n, --name <name>', 'job name'))
    .addHelpText('after', examples('mlspace ml job show -n brave_lamp_1a2b3c4 -w myworkspace -g myresourcegroup --query status -o tsv'))
    .action(async (options: WorkspaceScoped & { name: string }) => {
      const { rest, subscriptionId } = await session();
      emit(jobView(await rest.get<WireJob>(jobsPath(subscriptionId, options, options.name))), options, jobRow);
    });

  withWorkspace(job.command('stream').description('Follow a job until it ends, printing its log (user_logs/std_log.txt) as it grows.').requiredOption('-n, --name <name>', 'job name'))
    .addHelpText('after', examples('mlspace ml job stream -n brave_lamp_1a2b3c4 -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string }) => {
      const { rest, subscriptionId } = await session();
      await streamJob(rest, subscriptionId, options, options.name);
    });

  withWorkspace(job.command('cancel').description('Cancel a job: its whole process group is stopped; waits until it is Canceled.').requiredOption('-n, --name <name>', 'job name'))
    .addHelpText('after', examples('mlspace ml job cancel -n brave_lamp_1a2b3c4 -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string }) => {
      const { rest, subscriptionId } = await session();
      await rest.post(jobsPath(subscriptionId, options, options.name, 'cancel'));
      emit(jobView(await rest.get<WireJob>(jobsPath(subscriptionId, options, options.name))), { ...options, output: options.output === 'json' ? 'none' : options.output }, jobRow);
    });

  withWorkspace(
    job
      .command('download')
      .description("Download a job's logs and artifacts (artifacts/), or its outputs (named-outputs/<name>/), once it has ended.")
      .requiredOption('-n, --name <name>', 'job name')
      .option('-p, --download-path <dir>', 'where to put them', '.')
      .option('--output-name <name>', 'only this output')
      .option('--all', 'every output, and the logs and artifacts')
      .option('--overwrite', 'replace local files that exist'),
  )
    .addHelpText('after', examples('mlspace ml job download -n brave_lamp_1a2b3c4 --all --download-path ./run -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string; downloadPath: string; outputName?: string; all?: boolean; overwrite?: boolean }) => {
      const { rest, subscriptionId } = await session();
      const found = await rest.get<WireJob>(jobsPath(subscriptionId, options, options.name));
      if (!TERMINAL.has(found.properties.status)) {
        throw new CliError(`Job '${options.name}' is ${found.properties.status}: download it once it has ended (mlspace ml job stream -n ${options.name} waits for that).`);
      }
      const outputs = found.properties.outputs ?? {};
      const names = options.all ? Object.keys(outputs) : [options.outputName ?? 'default'];
      const missing = names.find((name) => !outputs[name]?.uri);
      if (missing) throw new CliError(`Job '${options.name}' has no output '${missing}'; it has ${Object.keys(outputs).join(', ')}.`, 2);
      const [{ downloadJobOutput, outputDirectory }, workspace] = await Promise.all([import('../../sdk/job-files.js'), workspaceOf(options)]);
      const downloaded: Record<string, { directory: string; files: number; bytes: number }> = {};
      for (const name of names) {
        const directory = outputDirectory(options.downloadPath, name);
        const result = await downloadJobOutput(workspace, outputs[name]!.uri!, directory, options.overwrite ?? false);
        downloaded[name] = { directory, files: result.files.length, bytes: result.bytes };
      }
      emit({ name: options.name, outputs: downloaded }, options);
    });
}
