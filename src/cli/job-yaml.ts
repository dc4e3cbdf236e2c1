import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readYamlFile, stringMapField, type YamlFields } from './yaml-file.js';

const FIELDS = [
  '$schema',
  'type',
  'name',
  'display_name',
  'experiment_name',
  'description',
  'tags',
  'code',
  'command',
  'environment',
  'compute',
  'environment_variables',
  'limits',
  'inputs',
  'outputs',
];
const INPUT_MODES: Record<string, string> = { ro_mount: 'ReadOnlyMount', mount: 'ReadOnlyMount', download: 'Download', direct: 'Direct', eval_mount: 'EvalMount', eval_download: 'EvalDownload' };
const OUTPUT_MODES: Record<string, string> = { rw_mount: 'ReadWriteMount', mount: 'ReadWriteMount', upload: 'Upload' };
const INPUT_TYPES = ['uri_file', 'uri_folder'];
const OUTPUT_TYPES = ['uri_file', 'uri_folder', 'custom_model', 'mlflow_model'];
/** What az ml passes to the service as it is; anything else is a local path, uploaded first. */
const REMOTE = /^(azureml:|https?:\/\/|wasbs?:\/\/|abfss?:\/\/|adl:\/\/|\/subscriptions\/)/i;

/** A local file or folder the job needs uploaded before it is created: its code, or an input. */
export interface LocalPath {
  /** Absolute path. */
  path: string;
}

/** A job input as the YAML gives it: a literal, a remote URI, or a local path to upload. */
export type JobYamlInput = { jobInputType: 'literal'; value: string } | { jobInputType: string; uri: string | LocalPath; mode?: string };

/** A command job from az ml v2 YAML, ready to PUT once its local paths are uploaded. */
export interface JobYaml {
  name: string;
  code?: string | LocalPath;
  properties: Record<string, unknown> & { inputs: Record<string, JobYamlInput> };
}

const ADJECTIVES = ['amber', 'brave', 'calm', 'eager', 'gentle', 'happy', 'keen', 'lucid', 'mellow', 'quiet', 'sharp', 'witty'];
const NOUNS = ['anchor', 'basket', 'candle', 'garden', 'harbor', 'lamp', 'meadow', 'pencil', 'river', 'rocket', 'tulip', 'window'];

/** A job name as az ml makes one up: adjective_noun_random. */
export function generatedJobName(): string {
  const bytes = randomBytes(6);
  return `${ADJECTIVES[bytes[0]! % ADJECTIVES.length]}_${NOUNS[bytes[1]! % NOUNS.length]}_${bytes.subarray(2).toString('hex').slice(0, 7)}`;
}

function localOrRemote(value: string, base: string): string | LocalPath {
  return REMOTE.test(value) ? value : { path: path.resolve(base, value) };
}

/** limits.timeout: seconds in the YAML, an ISO 8601 duration on the wire. */
function isoSeconds(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s || (!h && !m) ? `${s}S` : ''}`;
}

function readInputs(yaml: YamlFields, base: string): Record<string, JobYamlInput> {
  const raw = yaml.fields.inputs;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) yaml.fail("'inputs' must map input names to a literal value or {type, path, mode}.");
  const inputs: Record<string, JobYamlInput> = {};
  for (const [name, value] of Object.entries(raw as object)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      // A bool goes as Python prints it, as az ml sends it.
      inputs[name] = { jobInputType: 'literal', value: typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value) };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) yaml.fail(`'inputs.${name}' must be a literal value or a mapping with type, path and mode.`);
    const { type = 'uri_folder', path: where, mode, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest).filter((key) => key !== 'description');
    if (unknown.length > 0) yaml.fail(`unknown field 'inputs.${name}.${unknown[0]}'; use type, path, mode.`);
    if (typeof type !== 'string' || !INPUT_TYPES.includes(type)) yaml.fail(`'inputs.${name}.type' must be ${INPUT_TYPES.join(' or ')}; got '${String(type)}'.`);
    if (typeof where !== 'string' || where === '') yaml.fail(`'inputs.${name}.path' is required: azureml://datastores/<datastore>/paths/<path>, azureml:<data>:<version>, or a local path.`);
    if (mode !== undefined && (typeof mode !== 'string' || !INPUT_MODES[mode])) yaml.fail(`'inputs.${name}.mode' must be one of ${Object.keys(INPUT_MODES).join(', ')}; got '${String(mode)}'.`);
    inputs[name] = { jobInputType: type as string, uri: localOrRemote(where as string, base), ...(mode !== undefined && { mode: INPUT_MODES[mode as string] }) };
  }
  return inputs;
}

function readOutputs(yaml: YamlFields): Record<string, unknown> {
  const raw = yaml.fields.outputs;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) yaml.fail("'outputs' must map output names to {type, path, mode}.");
  const outputs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw as object)) {
    const { type = 'uri_folder', path: where, mode, ...rest } = (value ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(rest).filter((key) => key !== 'description');
    if (unknown.length > 0) yaml.fail(`unknown field 'outputs.${name}.${unknown[0]}'; use type, path, mode.`);
    if (typeof type !== 'string' || !OUTPUT_TYPES.includes(type)) yaml.fail(`'outputs.${name}.type' must be one of ${OUTPUT_TYPES.join(', ')}; got '${String(type)}'.`);
    if (where !== undefined && (typeof where !== 'string' || !where.startsWith('azureml://'))) yaml.fail(`'outputs.${name}.path' must be azureml://datastores/<datastore>/paths/<path>.`);
    if (mode !== undefined && (typeof mode !== 'string' || !OUTPUT_MODES[mode])) yaml.fail(`'outputs.${name}.mode' must be one of ${Object.keys(OUTPUT_MODES).join(', ')}; got '${String(mode)}'.`);
    outputs[name] = { jobOutputType: type, ...(where !== undefined && { uri: where }), ...(mode !== undefined && { mode: OUTPUT_MODES[mode as string] }) };
  }
  return outputs;
}

function environmentId(yaml: YamlFields): string {
  const environment = yaml.fields.environment;
  if (typeof environment === 'string' && environment !== '') return environment;
  if (typeof environment === 'object' && environment !== null && !Array.isArray(environment)) {
    // An inline environment is recorded by its image: nothing is built here.
    const image = (environment as Record<string, unknown>).image;
    if (typeof image === 'string') return `azureml:CliV2AnonymousEnvironment:${image}`;
  }
  return yaml.fail("'environment' is required: azureml:<name>:<version>, azureml:<name>@latest, or {image: ...} (it is recorded, not built: the command runs with this host's tools).");
}

/**
 * Reads an az ml v2 command job YAML (`type: command`, `command`, `code`,
 * `environment`, `inputs`, `outputs`, `environment_variables`,
 * `limits.timeout`, ...) into the body of a job PUT. Local paths (the code,
 * local inputs) are left for the caller to upload; paths are relative to the
 * YAML file, as az ml reads them.
 */
export function readJobYaml(file: string, nameOverride?: string): JobYaml {
  const yaml = readYamlFile(file, 'command job');
  yaml.only(FIELDS);
  const type = yaml.text('type') ?? 'command';
  if (type !== 'command') yaml.fail(`type '${type}' is not supported: this server runs command jobs (type: command).`);
  const base = path.dirname(path.resolve(file));
  const command = yaml.text('command', true)!;
  const compute = yaml.text('compute');
  if (compute !== undefined && !['local', 'azureml:local'].includes(compute)) {
    yaml.fail(`compute '${compute}' is not available: jobs run on the server's own host, compute 'local' (or leave compute out).`);
  }
  const limits = yaml.fields.limits as Record<string, unknown> | undefined;
  let timeout: string | undefined;
  if (limits !== undefined && limits !== null) {
    const seconds = limits.timeout;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds <= 0) yaml.fail("'limits.timeout' must be a whole number of seconds, e.g. 3600.");
    timeout = isoSeconds(seconds as number);
  }
  const code = yaml.text('code');
  return {
    name: nameOverride ?? yaml.text('name') ?? generatedJobName(),
    code: code === undefined ? undefined : localOrRemote(code, base),
    properties: {
      jobType: 'Command',
      command,
      environmentId: environmentId(yaml),
      displayName: yaml.text('display_name'),
      experimentName: yaml.text('experiment_name') ?? path.basename(process.cwd()),
      description: yaml.text('description'),
      tags: stringMapField(yaml, 'tags') ?? {},
      environmentVariables: stringMapField(yaml, 'environment_variables') ?? {},
      inputs: readInputs(yaml, base),
      outputs: readOutputs(yaml),
      ...(timeout && { limits: { jobLimitsType: 'Command', timeout } }),
    },
  };
}
