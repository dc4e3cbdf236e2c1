import type { JobInputRecord, JobOutputRecord, JobRecord } from '../../db/jobs.js';
import type { WorkspaceRecord } from '../../db/workspaces.js';
import type { ManagementDeps } from '../deps.js';
import { armErrors } from '../http/errors.js';
import type { Fields } from '../http/fields.js';
import { sameName } from '../http/names.js';
import { checkDatastoreUri, resolveStorageUri } from './assets.js';

/** What a job's PUT body defines, checked; the rest of the record (status, times) is the server's. */
export type JobDefinition = Pick<
  JobRecord,
  | 'displayName'
  | 'experimentName'
  | 'description'
  | 'tags'
  | 'properties'
  | 'command'
  | 'codeId'
  | 'environmentId'
  | 'environmentVariables'
  | 'inputs'
  | 'outputs'
  | 'computeId'
  | 'timeoutSeconds'
>;

const INPUT_TYPES = ['uri_file', 'uri_folder', 'literal'] as const;
const OUTPUT_TYPES = ['uri_file', 'uri_folder', 'custom_model', 'mlflow_model'] as const;
const BINDING_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,254}$/;
/** `${{inputs.x}}`, `${{outputs.y}}`, with the spaces az ml allows inside the braces. */
const PLACEHOLDER = /\$\{\{\s*([^}]*?)\s*\}\}/g;
/** `azureml:{name}:{version}` or `azureml:{name}@latest`: a data asset. */
const DATA_ASSET = /^azureml:([a-zA-Z0-9][a-zA-Z0-9\-_.]*)(?::([a-zA-Z0-9][a-zA-Z0-9\-_.]*)|@latest)$/;
/** An ISO 8601 duration of days, hours, minutes and seconds, as limits.timeout is sent. */
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** The longest limits.timeout a local job may ask for: a week. */
const MAX_TIMEOUT_SECONDS = 7 * 86_400;

function seconds(timeout: string): number {
  const match = DURATION.exec(timeout);
  const [, days, hours, minutes, secs] = match ?? [];
  const total = Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(secs ?? 0);
  if (!match || timeout === 'P' || timeout.endsWith('T') || total <= 0 || total > MAX_TIMEOUT_SECONDS) {
    throw armErrors.invalidContent(`'properties.limits.timeout' must be an ISO 8601 duration from PT1S to P7D, such as 'PT30M'; got '${timeout}'.`);
  }
  return Math.ceil(total);
}

/** A data asset an input names, resolved when the job is created: the input keeps the URI it reads. */
async function dataAssetUri(deps: ManagementDeps, workspace: WorkspaceRecord, field: string, reference: string): Promise<{ uri: string; type: 'uri_file' | 'uri_folder' }> {
  const [, name, version] = DATA_ASSET.exec(reference)!;
  const numbered = (await deps.data.versionNames(workspace.id, name!)).filter((v) => /^\d+$/.test(v)).map(Number);
  const wanted = version ?? (numbered.length > 0 ? String(Math.max(...numbered)) : undefined);
  const found = wanted === undefined ? undefined : await deps.data.getVersion(workspace.id, name!, wanted);
  if (!found) {
    throw armErrors.invalidContent(`'${field}' names data asset '${name}'${version ? ` version ${version}` : ''}, which workspace '${workspace.name}' does not have. Create it first (mlspace ml data create).`);
  }
  return { uri: found.dataUri, type: found.dataType };
}

async function readInput(deps: ManagementDeps, workspace: WorkspaceRecord, name: string, input: Fields): Promise<JobInputRecord> {
  const field = `properties.inputs.${name}`;
  const type = input.oneOf('jobInputType', INPUT_TYPES, true);
  if (!type) {
    throw armErrors.invalidContent(`'${field}.jobInputType' must be one of ${INPUT_TYPES.join(', ')} (mltable and model inputs are not supported by local jobs); got '${String(input.raw.jobInputType)}'.`);
  }
  const description = input.string('description');
  if (type === 'literal') return { type, value: input.requiredString('value'), ...(description && { description }) };
  let uri = input.requiredString('uri');
  if (DATA_ASSET.test(uri)) {
    const asset = await dataAssetUri(deps, workspace, `${field}.uri`, uri);
    if (asset.type !== type) throw armErrors.invalidContent(`'${field}' is a ${type} input, but data asset '${uri}' is a ${asset.type}.`);
    uri = asset.uri;
  }
  await resolveStorageUri(deps, workspace, `${field}.uri`, uri);
  return { type, uri, ...(input.string('mode') && { mode: input.string('mode') }), ...(description && { description }) };
}

async function readOutput(deps: ManagementDeps, workspace: WorkspaceRecord, jobName: string, name: string, output: Fields, defaultDatastore: string): Promise<JobOutputRecord> {
  const field = `properties.outputs.${name}`;
  const type = output.oneOf('jobOutputType', OUTPUT_TYPES, true);
  if (!type) throw armErrors.invalidContent(`'${field}.jobOutputType' must be one of ${OUTPUT_TYPES.join(', ')}; got '${String(output.raw.jobOutputType)}'.`);
  // Where Azure ML puts an output that names no place: the default datastore, under azureml/{job}/{output}/.
  const uri = output.string('uri') ?? `azureml://datastores/${defaultDatastore}/paths/azureml/${jobName}/${name}/`;
  await checkDatastoreUri(deps, workspace, `${field}.uri`, uri);
  const description = output.string('description');
  return { type, uri, ...(output.string('mode') && { mode: output.string('mode') }), ...(description && { description }) };
}

/** Every `${{…}}` of the command names a declared input or output. */
function checkPlaceholders(command: string, inputs: Record<string, unknown>, outputs: Record<string, unknown>): void {
  for (const [, expression] of command.matchAll(PLACEHOLDER)) {
    const [scope, name, ...rest] = expression!.split('.');
    const declared = scope === 'inputs' ? inputs : scope === 'outputs' ? outputs : undefined;
    if (!declared || name === undefined || rest.length > 0 || !(name in declared)) {
      const known = [...Object.keys(inputs).map((n) => `inputs.${n}`), ...Object.keys(outputs).map((n) => `outputs.${n}`)];
      throw armErrors.invalidContent(
        `'properties.command' refers to \${{${expression}}}, which is not an input or output of the job${known.length > 0 ? ` (it has ${known.join(', ')})` : ' (it declares none)'}.`,
      );
    }
  }
}

/** A code version of this workspace, by ARM id or `azureml:{name}:{version}`. */
async function checkCode(deps: ManagementDeps, workspace: WorkspaceRecord, codeId: string): Promise<void> {
  const match =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/codes\/([^/]+)\/versions\/([^/]+)$/i.exec(codeId) ??
    /^azureml:()()()([^:@]+):([^:@]+)$/.exec(codeId);
  if (!match) throw armErrors.invalidContent(`'properties.codeId' must be the ARM id of a code version (…/workspaces/{ws}/codes/{name}/versions/{version}); got '${codeId}'.`);
  const [, subscription, group, workspaceName, name, version] = match;
  if (workspaceName && !(sameName(subscription!, deps.subscriptionId) && sameName(group!, workspace.resourceGroup) && sameName(workspaceName, workspace.name))) {
    throw armErrors.invalidContent(`'properties.codeId' names a code version of another workspace ('${workspaceName}'); upload the code to '${workspace.name}'.`);
  }
  if (!(await deps.codes.getVersion(workspace.id, name!, version!))) {
    throw armErrors.invalidContent(`'properties.codeId' names code '${name}' version ${version}, which workspace '${workspace.name}' does not have.`);
  }
}

/** `computeId` may only name the server's own host: absent, `local`, or an ARM id ending in `/computes/local`. */
function checkCompute(computeId: string | undefined): void {
  if (computeId === undefined || computeId === 'local' || computeId === 'azureml:local' || /\/computes\/local$/i.test(computeId)) return;
  throw armErrors.invalidContent(`'properties.computeId' '${computeId}' is not a compute of this server: jobs run on its own host, the compute 'local' (leave computeId out, or name 'local').`);
}

function stringMap(fields: Fields | undefined, field: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields?.raw ?? {})) {
    if (value === null) continue;
    if (typeof value !== 'string') throw armErrors.invalidContent(`'${field}.${key}' must be a string.`);
    result[key] = value;
  }
  return result;
}

/**
 * Reads and checks a Command job's PUT body, as `@azure/arm-machinelearning`
 * sends it: every reference (datastores, data assets, code) must exist and
 * every placeholder of the command must name a declared input or output, so a
 * bad job is refused before anything runs.
 */
export async function readJobDefinition(deps: ManagementDeps, workspace: WorkspaceRecord, jobName: string, properties: Fields, defaultDatastore: string): Promise<JobDefinition> {
  const jobType = properties.string('jobType');
  if (jobType !== 'Command') {
    throw armErrors.invalidContent(`'properties.jobType' must be 'Command': this server runs command jobs only${jobType ? `, not ${jobType} jobs` : ''}.`);
  }
  const command = properties.requiredString('command');
  if (command.trim() === '') throw armErrors.invalidContent("'properties.command' is empty: give the command to run, e.g. 'python train.py'.");
  const environmentId = properties.requiredString('environmentId');
  const computeId = properties.string('computeId');
  checkCompute(computeId);
  const codeId = properties.string('codeId');
  if (codeId !== undefined) await checkCode(deps, workspace, codeId);

  const inputs: Record<string, JobInputRecord> = {};
  const outputs: Record<string, JobOutputRecord> = {};
  for (const kind of ['inputs', 'outputs'] as const) {
    const bindings = properties.object(kind);
    for (const name of Object.keys(bindings?.raw ?? {})) {
      if (!BINDING_NAME.test(name)) throw armErrors.invalidContent(`'properties.${kind}.${name}': names must start with a letter or _ and hold only letters, digits and _.`);
      const binding = bindings!.object(name);
      if (!binding) continue;
      if (kind === 'inputs') inputs[name] = await readInput(deps, workspace, name, binding);
      else outputs[name] = await readOutput(deps, workspace, jobName, name, binding, defaultDatastore);
    }
  }
  checkPlaceholders(command, inputs, outputs);
  const limits = properties.object('limits');
  const timeout = limits?.string('timeout');
  return {
    displayName: properties.string('displayName'),
    experimentName: properties.string('experimentName') ?? 'Default',
    description: properties.string('description'),
    tags: properties.stringMap('tags') ?? {},
    properties: properties.stringMap('properties') ?? {},
    command,
    codeId,
    environmentId,
    environmentVariables: stringMap(properties.object('environmentVariables'), 'properties.environmentVariables'),
    inputs,
    outputs,
    computeId,
    timeoutSeconds: timeout === undefined ? undefined : seconds(timeout),
  };
}
