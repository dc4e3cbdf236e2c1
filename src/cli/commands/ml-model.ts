import type { Command } from 'commander';
import type { ModelContainer, ModelVersion } from '@azure/arm-machinelearning';
import { workspacePath } from '../arm-paths.js';
import { emit } from '../output/options.js';
import { progressReporter } from '../progress.js';
import { groupOf, parseTags, TAGS_HELP, session, examples, withWorkspace, workspaceOf, type WorkspaceScoped, creationContext } from './common.js';

/** A model version as `az ml model show` prints it. */
function versionView(name: string, version: ModelVersion) {
  return {
    name,
    version: version.name,
    id: version.id,
    path: version.properties.modelUri,
    type: version.properties.modelType,
    description: version.properties.description,
    tags: version.properties.tags ?? {},
    resource_group: groupOf(version.id),
    creation_context: creationContext(version.systemData),
  };
}

/** A model (all its versions) as `az ml model list` prints it. */
function containerView(model: ModelContainer) {
  return {
    name: model.name,
    latest_version: model.properties.latestVersion,
    description: model.properties.description,
    tags: model.properties.tags ?? {},
    creation_context: creationContext(model.systemData),
  };
}

const loadModel = async () => (await import('../../sdk/model.js')).Model;

/** `-o table`: name, version and where the files are. */
const versionRow = (view: ReturnType<typeof versionView>) => ({ Name: view.name, Version: view.version, Path: view.path, Type: view.type });

/** Runs a transfer with a progress bar (on a terminal), stopped however the transfer ends. */
async function withProgress<T>(label: string, transfer: (onProgress?: ReturnType<typeof progressReporter>['onProgress']) => Promise<T>): Promise<T> {
  const progress = progressReporter(label);
  try {
    return await transfer(progress.onProgress);
  } finally {
    progress.stop();
  }
}

export function registerMlModel(ml: Command): void {
  const model = ml
    .command('model')
    .description("Manage models: files in the workspace's default datastore, registered by name and version.")
    .addHelpText('after', examples('mlspace ml model create --name classifier --version 1 --path ./model -w myworkspace -g myresourcegroup', 'mlspace ml model list -w myworkspace -g myresourcegroup -o table'));

  withWorkspace(
    model
      .command('create')
      .description("Upload a file or directory through the workspace's default datastore and register it as a model version; or register a job's output where it is.")
      .requiredOption('--name <name>', 'model name')
      .option('--version <version>', 'version (default: one past the latest)')
      .requiredOption('-p, --path <path>', 'a local file or directory, or a job output: azureml://jobs/<job>/outputs/<output>')
      .option('--type <type>', 'model type', 'custom_model')
      .option('-d, --description <text>', 'description')
      .option('--tags <tags...>', TAGS_HELP),
  )
    .addHelpText(
      'after',
      `
The files are written with the workspace's copy of its storage account key: after that key
was regenerated this fails until 'mlspace ml workspace sync-keys'. A job's output is
registered where the job wrote it; nothing is uploaded.

Examples:
  mlspace ml model create --name classifier --version 1 --path ./model -w myworkspace -g myresourcegroup
  mlspace ml model create --name classifier --path azureml://jobs/train-1/outputs/model -w myworkspace -g myresourcegroup`,
    )
    .action(async (options: WorkspaceScoped & { name: string; version?: string; path: string; type: string; description?: string; tags?: string[] }) => {
      const workspace = await workspaceOf(options);
      const Model = await loadModel();
      const registered = await withProgress('Uploading', (onProgress) =>
        Model.register({
          workspace,
          modelName: options.name,
          version: options.version,
          modelPath: options.path,
          modelType: options.type,
          description: options.description,
          tags: parseTags(options.tags),
          onProgress,
        }),
      );
      emit(versionView(options.name, registered.resource), options, versionRow);
    });

  withWorkspace(model.command('list').description('List models, or with --name the versions of one.').option('--name <name>', 'list the versions of this model'))
    .addHelpText('after', examples('mlspace ml model list -w myworkspace -g myresourcegroup -o table', 'mlspace ml model list --name classifier -w myworkspace -g myresourcegroup --query [].version -o tsv'))
    .action(async (options: WorkspaceScoped & { name?: string }) => {
      const { rest, subscriptionId } = await session();
      const models = (...inside: string[]) => workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'models', ...inside);
      const name = options.name;
      const items = name
        ? (await rest.list<ModelVersion>(models(name, 'versions'))).map((version) => versionView(name, version))
        : (await rest.list<ModelContainer>(models())).map(containerView);
      emit(items, options);
    });

  withWorkspace(model.command('show').description('Show a model version (the latest without --version).').requiredOption('--name <name>', 'model name').option('--version <version>', 'version'))
    .addHelpText('after', examples('mlspace ml model show --name classifier --version 1 -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string; version?: string }) => {
      const Model = await loadModel();
      emit(versionView(options.name, (await Model.get(await workspaceOf(options), options.name, options.version)).resource), options, versionRow);
    });

  withWorkspace(
    model
      .command('download')
      .description("Download a model version's files into DOWNLOAD_PATH/<name>/.")
      .requiredOption('--name <name>', 'model name')
      .option('--version <version>', 'version (default: the latest)')
      .option('-p, --download-path <dir>', 'where to put the files', '.')
      .option('--overwrite', 'replace local files that exist'),
  )
    .addHelpText('after', examples('mlspace ml model download --name classifier --version 1 --download-path ./downloaded -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string; version?: string; downloadPath: string; overwrite?: boolean }) => {
      const Model = await loadModel();
      const found = await Model.get(await workspaceOf(options), options.name, options.version);
      const result = await withProgress('Downloading', (onProgress) => found.download(options.downloadPath, { overwrite: options.overwrite, onProgress }));
      emit({ name: found.name, version: found.version, directory: result.directory, files: result.files, bytes: result.bytes }, options);
    });
}
