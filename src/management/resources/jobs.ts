import { UNFINISHED, type JobRecord } from '../../db/jobs.js';
import type { WorkspaceRecord } from '../../db/workspaces.js';
import { ARTIFACT_STORE, artifactsPath } from '../../jobs/job-run.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import { requestOrigin } from '../http/origin.js';
import type { ArmRoute } from '../http/route.js';
import { page } from './assets.js';
import { systemData } from './common.js';
import { readJobDefinition } from './job-definition.js';
import { requireWorkspace, WORKSPACE_PATH, workspaceId } from './workspaces.js';

const JOBS = `${WORKSPACE_PATH}/jobs`;
const TYPE = 'Microsoft.MachineLearningServices/workspaces/jobs';
const JOB_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
/** Input modes that mount on Azure: here the input is downloaded instead, and the job says so. */
const MOUNTS = new Set(['readonlymount', 'readwritemount', 'evalmount', 'direct']);

/** "2026-12-03 14:20:08", as Azure ML writes StartTimeUtc and EndTimeUtc. */
function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function iso8601Duration(seconds: number): string {
  const parts = [[Math.floor(seconds / 86_400), 'D'], [Math.floor((seconds % 86_400) / 3600), 'H'], [Math.floor((seconds % 3600) / 60), 'M'], [seconds % 60, 'S']] as const;
  const [days, ...time] = parts;
  const clock = time.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`).join('');
  return `P${days[0] > 0 ? `${days[0]}D` : ''}${clock ? `T${clock}` : ''}`;
}

/** A job as ARM shows it, with mlspace's `error` on a failed job (Azure keeps it in run history). */
export function jobJson(deps: ManagementDeps, workspace: WorkspaceRecord, job: JobRecord) {
  const inputs = Object.fromEntries(
    Object.entries(job.inputs).map(([name, input]) => [
      name,
      input.type === 'literal'
        ? { jobInputType: 'literal', value: input.value, description: input.description }
        : { jobInputType: input.type, uri: input.uri, mode: input.mode ?? 'ReadOnlyMount', description: input.description },
    ]),
  );
  const outputs = {
    // Where the job's logs and artifacts are, as Azure ML names it.
    default: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount', uri: `azureml://datastores/${ARTIFACT_STORE}/${artifactsPath(job.name)}` },
    ...Object.fromEntries(Object.entries(job.outputs).map(([name, output]) => [name, { jobOutputType: output.type, uri: output.uri, mode: output.mode ?? 'ReadWriteMount', description: output.description }])),
  };
  return {
    id: `${workspaceId(deps, workspace)}/jobs/${job.name}`,
    name: job.name,
    type: TYPE,
    systemData: { ...systemData(job.created, job.modified), createdBy: job.createdBy.displayName },
    properties: {
      jobType: 'Command',
      displayName: job.displayName ?? job.name,
      experimentName: job.experimentName,
      description: job.description,
      tags: job.tags,
      properties: {
        ...job.properties,
        ...(job.startTime && { StartTimeUtc: utc(job.startTime) }),
        ...(job.endTime && { EndTimeUtc: utc(job.endTime) }),
      },
      command: job.command,
      codeId: job.codeId,
      environmentId: job.environmentId,
      environmentVariables: job.environmentVariables,
      inputs,
      outputs,
      computeId: job.computeId ?? null,
      limits: { jobLimitsType: 'Command', ...(job.timeoutSeconds && { timeout: iso8601Duration(job.timeoutSeconds) }) },
      isArchived: job.isArchived,
      status: job.status,
      ...(job.error && { error: job.error }),
      notes: job.notes,
    },
  };
}

function notFound(workspace: WorkspaceRecord, name: string): ArmError {
  return new ArmError(404, 'ResourceNotFound', `Job '${name}' was not found in workspace '${workspace.name}'.`);
}

async function requireJob(deps: ManagementDeps, ctx: ArmRequest): Promise<{ workspace: WorkspaceRecord; job: JobRecord }> {
  const workspace = await requireWorkspace(deps, ctx);
  const job = await deps.jobs.get(workspace.id, ctx.params.name!);
  if (!job) throw notFound(workspace, ctx.params.name!);
  return { workspace, job };
}

/** What the job should know about how it runs here, told in `show` and the docs. */
function notesOf(job: Pick<JobRecord, 'inputs' | 'environmentId'>): string[] {
  const notes = [`The environment '${job.environmentId}' is recorded but not built: the command runs with this host's tools.`];
  for (const [name, input] of Object.entries(job.inputs)) {
    if (input.type !== 'literal' && (input.mode === undefined || MOUNTS.has(input.mode.toLowerCase()))) {
      notes.push(`Input '${name}' asks for ${input.mode ?? 'ReadOnlyMount'}; it is downloaded instead (mounts are not available on the local compute).`);
    }
  }
  return notes;
}

/**
 * PUT …/jobs/{name}: creates a Command job, checked whole first, and hands it
 * to this node's runner. A job that exists takes only changes to its tags,
 * display name, description and archive flag, as Azure ML allows.
 */
async function putJob(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const workspace = await requireWorkspace(deps, ctx);
  const name = ctx.params.name!;
  if (!JOB_NAME.test(name)) throw new ArmError(400, 'InvalidResourceName', `'${name}' is not a valid job name: it must match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$.`);
  const properties = new Fields(await readJsonObject(ctx.req)).requiredObject('properties');
  const existing = await deps.jobs.get(workspace.id, name);
  if (existing) {
    const updated = await deps.jobs.update(workspace.id, name, {
      tags: properties.stringMap('tags') ?? existing.tags,
      displayName: properties.string('displayName') ?? existing.displayName,
      description: properties.string('description') ?? existing.description,
      isArchived: properties.boolean('isArchived') ?? existing.isArchived,
    });
    return { status: 200, body: jobJson(deps, workspace, updated ?? existing) };
  }
  if (!deps.jobRunner) {
    throw new ArmError(
      400,
      'LocalJobsDisabled',
      "This server does not run jobs: running a job's command means running code on the server's host, which is off by default. Start the server with 'mlspace up --enable-local-jobs' to allow it.",
    );
  }
  const defaultDatastore = (await deps.datastores.query(workspace.id, { after: '', limit: 1, isDefault: true })).items[0]?.name ?? 'workspaceblobstore';
  const definition = await readJobDefinition(deps, workspace, name, properties, defaultDatastore);
  const now = Date.now();
  const job: JobRecord = {
    ...definition,
    workspaceId: workspace.id,
    resourceGroup: workspace.resourceGroup,
    workspaceName: workspace.name,
    name,
    isArchived: false,
    status: 'NotStarted',
    notes: notesOf(definition),
    createdBy: { clientId: ctx.principal!.clientId, displayName: ctx.principal!.displayName },
    created: now,
    modified: now,
  };
  if (!(await deps.jobs.create(job))) throw new ArmError(409, 'Conflict', `Job '${name}' was created at the same time by another request; choose another name.`);
  await deps.jobRunner.submit(job, workspace);
  return { status: 201, body: jobJson(deps, workspace, (await deps.jobs.get(workspace.id, name)) ?? job) };
}

/** The Location a cancel answers with: 202 while the job still runs, then 200. */
function cancelLocation(deps: ManagementDeps, ctx: ArmRequest, workspace: WorkspaceRecord, name: string): string {
  return `${requestOrigin(ctx.req, deps.armEndpoint)}${workspaceId(deps, workspace)}/jobs/${name}/cancelResult?api-version=${encodeURIComponent(ctx.query.get('api-version')!)}`;
}

async function cancelJob(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const { workspace, job } = await requireJob(deps, ctx);
  const requested = await deps.jobs.update(workspace.id, job.name, { status: 'CancelRequested' }, ['NotStarted', 'Queued', 'Running']);
  if (!requested) return { status: 200 };
  deps.jobRunner?.cancelHere(job);
  return { status: 202, headers: { location: cancelLocation(deps, ctx, workspace, job.name), 'retry-after': '1' } };
}

export function jobRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    {
      method: 'GET',
      pattern: JOBS,
      action: `${TYPE}/read`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        const view = (ctx.query.get('listViewType') ?? 'ActiveOnly').toLowerCase();
        const shown = (job: JobRecord) => view === 'all' || (view === 'archivedonly') === job.isArchived;
        return page(
          ctx,
          deps,
          '$top',
          async (after, limit) => {
            const found: JobRecord[] = [];
            for (let cursor = after; found.length < limit; ) {
              const batch = await deps.jobs.list(workspace.id, cursor, limit);
              found.push(...batch.filter(shown));
              if (batch.length < limit) break;
              cursor = batch.at(-1)!.name;
            }
            return found.slice(0, limit);
          },
          (job) => job.name,
          (job) => jobJson(deps, workspace, job),
        );
      },
    },
    { method: 'PUT', pattern: `${JOBS}/{name}`, action: `${TYPE}/write`, handler: (ctx) => putJob(deps, ctx) },
    {
      method: 'GET',
      pattern: `${JOBS}/{name}`,
      action: `${TYPE}/read`,
      handler: async (ctx) => {
        const { workspace, job } = await requireJob(deps, ctx);
        return { status: 200, body: jobJson(deps, workspace, job) };
      },
    },
    { method: 'POST', pattern: `${JOBS}/{name}/cancel`, action: `${TYPE}/cancel/action`, activity: `${TYPE}/cancel/action`, handler: (ctx) => cancelJob(deps, ctx) },
    {
      method: 'GET',
      pattern: `${JOBS}/{name}/cancelResult`,
      action: `${TYPE}/read`,
      handler: async (ctx) => {
        const { workspace, job } = await requireJob(deps, ctx);
        if (UNFINISHED.includes(job.status)) return { status: 202, headers: { location: cancelLocation(deps, ctx, workspace, job.name), 'retry-after': '1' } };
        return { status: 200 };
      },
    },
    {
      method: 'DELETE',
      pattern: `${JOBS}/{name}`,
      action: `${TYPE}/delete`,
      handler: async (ctx) => {
        const workspace = await requireWorkspace(deps, ctx);
        const job = await deps.jobs.get(workspace.id, ctx.params.name!);
        if (!job) return { status: 204 };
        if (UNFINISHED.includes(job.status)) {
          throw new ArmError(409, 'JobRunning', `Job '${job.name}' is ${job.status}; cancel it first (mlspace ml job cancel -n ${job.name}), then delete it.`);
        }
        await deps.jobs.delete(workspace.id, job.name);
        return { status: 200 };
      },
    },
  ];
}
