import type { Command } from 'commander';
import { workspacePath } from '../arm-paths.js';
import { ArmRequestError } from '../arm-rest.js';
import { emit } from '../output/options.js';
import { readYamlFile, stringMapField } from '../yaml-file.js';
import { examples, groupOf, orUndefined, session, withWorkspace, type WorkspaceScoped, creationContext } from './common.js';

interface DataVersion {
  id: string;
  name: string;
  systemData?: { createdAt?: string; lastModifiedAt?: string };
  properties: { dataType: string; dataUri: string; description?: string; tags?: Record<string, string>; isArchived?: boolean };
}

interface DataContainer {
  id: string;
  name: string;
  systemData?: { createdAt?: string; lastModifiedAt?: string };
  properties: { description?: string; tags?: Record<string, string>; isArchived?: boolean; latestVersion?: string | null; nextVersion?: string };
}

/** A data asset version as `az ml data show` prints it. */
function versionView(name: string, version: DataVersion) {
  return {
    name,
    version: version.name,
    id: version.id,
    type: version.properties.dataType,
    path: version.properties.dataUri,
    description: version.properties.description,
    tags: version.properties.tags ?? {},
    is_archived: version.properties.isArchived ?? false,
    resource_group: groupOf(version.id),
    creation_context: creationContext(version.systemData),
  };
}

function containerView(container: DataContainer) {
  return {
    name: container.name,
    latest_version: container.properties.latestVersion,
    description: container.properties.description,
    tags: container.properties.tags ?? {},
    is_archived: container.properties.isArchived ?? false,
    creation_context: creationContext(container.systemData),
  };
}

const versionRow = (view: ReturnType<typeof versionView>) => ({ Name: view.name, Version: view.version, Type: view.type, Path: view.path });

const TYPES = ['uri_file', 'uri_folder'];

/** An az ml v2 data YAML: `name`, `type` (uri_file, uri_folder), `path`, optional `version`, `description`, `tags`. */
function readDataYaml(file: string) {
  const yaml = readYamlFile(file, 'data asset');
  yaml.only(['$schema', 'name', 'version', 'type', 'path', 'description', 'tags']);
  const type = yaml.text('type') ?? 'uri_folder';
  if (!TYPES.includes(type)) yaml.fail(`type '${type}' is not supported: use uri_file or uri_folder (mltable is not supported by this server).`);
  const version = yaml.fields.version;
  if (version !== undefined && typeof version !== 'string' && typeof version !== 'number') yaml.fail("'version' must be a string such as \"1\".");
  return {
    name: yaml.text('name', true)!,
    version: version === undefined ? undefined : String(version),
    type,
    path: yaml.text('path', true)!,
    description: yaml.text('description'),
    tags: stringMapField(yaml, 'tags') ?? {},
    dir: file,
  };
}

export function registerMlData(ml: Command): void {
  const data = ml
    .command('data')
    .description('Manage data assets: named, versioned files or folders in a datastore, which jobs take as inputs (azureml:<name>:<version>).')
    .addHelpText('after', examples('mlspace ml data create --file data.yml -w myworkspace -g myresourcegroup', 'mlspace ml data list -w myworkspace -g myresourcegroup -o table'));

  withWorkspace(
    data
      .command('create')
      .description('Register a data asset version from an az ml v2 YAML file; a local path is uploaded to the default datastore first.')
      .requiredOption('-f, --file <file>', 'the data YAML: name, type (uri_file, uri_folder), path, optional version, description, tags')
      .option('-n, --name <name>', "the asset's name, instead of the file's")
      .option('-v, --version <version>', "the version, instead of the file's (default: one past the latest)"),
  )
    .addHelpText(
      'after',
      `
A data.yml:
  $schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
  name: training-data
  type: uri_folder
  path: azureml://datastores/trainingdata/paths/images/
${examples('mlspace ml data create --file data.yml -w myworkspace -g myresourcegroup')}`,
    )
    .action(async (options: WorkspaceScoped & { file: string; name?: string; version?: string }) => {
      const spec = readDataYaml(options.file);
      const name = options.name ?? spec.name;
      const { rest, subscriptionId, clients } = await session();
      const paths = (...inside: string[]) => workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'data', ...inside);
      let uri = spec.path;
      if (!/^(azureml:|https?:\/\/)/i.test(uri)) {
        const [{ Workspace }, { uploadLocalPath }, path] = await Promise.all([import('../../sdk/workspace.js'), import('../../sdk/local-upload.js'), import('node:path')]);
        const workspace = await Workspace.fromClients(await clients(), options.resourceGroup, options.workspaceName);
        uri = (await uploadLocalPath(workspace, path.resolve(path.dirname(options.file), uri))).uri;
      }
      const version = options.version ?? spec.version ?? (await orUndefined(rest.get<DataContainer>(paths(name))))?.properties.nextVersion ?? '1';
      const created = await rest.put<DataVersion>(paths(name, 'versions', version), {
        properties: { dataType: spec.type, dataUri: uri, description: spec.description, tags: spec.tags },
      });
      emit(versionView(name, created), options, versionRow);
    });

  withWorkspace(data.command('list').description('List data assets, or with --name the versions of one.').option('-n, --name <name>', 'list the versions of this asset'))
    .addHelpText('after', examples('mlspace ml data list -w myworkspace -g myresourcegroup -o table', 'mlspace ml data list -n training-data -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name?: string }) => {
      const { rest, subscriptionId } = await session();
      const paths = (...inside: string[]) => workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'data', ...inside);
      const name = options.name;
      if (name) emit((await rest.list<DataVersion>(paths(name, 'versions'))).map((version) => versionView(name, version)), options, versionRow);
      else emit((await rest.list<DataContainer>(paths())).filter((container) => !container.properties.isArchived).map(containerView), options);
    });

  withWorkspace(data.command('show').description('Show a data asset version (the latest without --version).').requiredOption('-n, --name <name>', 'asset name').option('-v, --version <version>', 'version'))
    .addHelpText('after', examples('mlspace ml data show -n training-data -v 1 -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string; version?: string }) => {
      const { rest, subscriptionId } = await session();
      const paths = (...inside: string[]) => workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'data', ...inside);
      const version = options.version ?? (await rest.get<DataContainer>(paths(options.name))).properties.latestVersion;
      if (!version) throw new ArmRequestError(404, 'ResourceNotFound', `Data asset '${options.name}' has no versions.`);
      emit(versionView(options.name, await rest.get<DataVersion>(paths(options.name, 'versions', version))), options, versionRow);
    });

  withWorkspace(
    data
      .command('archive')
      .description('Archive a data asset (every version), or one version with --version: hidden from lists, still readable by name and version.')
      .requiredOption('-n, --name <name>', 'asset name')
      .option('-v, --version <version>', 'archive only this version'),
  )
    .addHelpText('after', examples('mlspace ml data archive -n training-data -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string; version?: string }) => {
      const { rest, subscriptionId } = await session();
      const target = workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'data', options.name, ...(options.version ? ['versions', options.version] : []));
      const current = await rest.get<{ properties: Record<string, unknown> }>(target);
      await rest.put(target, { properties: { ...current.properties, isArchived: true } });
      emit(undefined, { ...options, output: options.output === 'json' ? 'none' : options.output });
    });
}
