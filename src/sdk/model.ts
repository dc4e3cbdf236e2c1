import fs from 'node:fs';
import path from 'node:path';
import type { ModelVersion } from '@azure/arm-machinelearning';
import { Datastore, type StorageAccess } from './datastore.js';
import type { TransferOptions, TransferResult } from './datastore-types.js';
import { MlspaceError } from './errors.js';
import { outputLocation } from './job-files.js';
import { downloadPlanned, filesUnder, joinRemote, localPathUnder, uploadPlanned } from './transfer.js';
import type { Workspace } from './workspace.js';

/** `azureml://jobs/{job}/outputs/{output}[/paths/{path}]`: a job's output, `artifacts` being its default one. */
const JOB_OUTPUT = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.*))?$/;

export interface RegisterModelOptions extends TransferOptions {
  workspace: Workspace;
  /** A file or a directory to upload; or a job's output, `azureml://jobs/{job}/outputs/{output}`, registered where it is. */
  modelPath: string;
  modelName: string;
  /** Defaults to one past the highest numeric version. An existing version is refused. */
  version?: string;
  description?: string;
  tags?: Record<string, string>;
  /** Defaults to `custom_model`. */
  modelType?: string;
}

export interface ModelDownloadResult extends TransferResult {
  /** Where the model's files were written: `targetDir/{model name}`. */
  directory: string;
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/**
 * A registered model version (azureml's `Model`). Its files live in the
 * workspace's default datastore; they are written and read with the
 * workspace's own copy of its storage account's key, so after a key
 * regeneration they fail until `sync-keys`, as in Azure ML.
 */
export class Model {
  private constructor(
    readonly workspace: Workspace,
    /** The model version as the service returned it. */
    readonly resource: ModelVersion,
    readonly name: string,
  ) {}

  get version(): string {
    return this.resource.name!;
  }

  /** Where the files are: `azureml://datastores/{datastore}/paths/{path}`. */
  get path(): string {
    return this.resource.properties.modelUri!;
  }

  get id(): string {
    return this.resource.id!;
  }

  get description(): string | undefined {
    return this.resource.properties.description;
  }

  get tags(): Record<string, string | null> {
    return this.resource.properties.tags ?? {};
  }

  get modelType(): string | undefined {
    return this.resource.properties.modelType;
  }

  get createdAt(): Date | undefined {
    return this.resource.systemData?.createdAt;
  }

  /** Uploads `modelPath` through the workspace's default datastore and registers it as a new version. */
  static async register(options: RegisterModelOptions): Promise<Model> {
    const { workspace, modelName } = options;
    if (JOB_OUTPUT.test(options.modelPath)) return Model.fromJobOutput(options);
    const stat = fs.statSync(options.modelPath, { throwIfNoEntry: false });
    if (!stat) throw new MlspaceError(`${options.modelPath} does not exist.`, 'NotFound');
    const version = options.version ?? (await nextVersion(workspace, modelName));
    if (await versionExists(workspace, modelName, version)) {
      throw new MlspaceError(`Version ${version} of model '${modelName}' already exists in workspace '${workspace.name}'; give another --version.`, 'ModelVersionExists');
    }
    const datastore = await workspace.getDefaultDatastore();
    const prefix = joinRemote('models', modelName, version);
    const files = stat.isDirectory()
      ? filesUnder(options.modelPath).map((file) => ({ localPath: file.localPath, remotePath: joinRemote(prefix, file.relative), size: file.size }))
      : [{ localPath: options.modelPath, remotePath: joinRemote(prefix, path.basename(options.modelPath)), size: stat.size }];
    // A fresh version's path can only hold what an interrupted attempt left: replace it.
    await datastore.withStorage(await workspaceAccess(workspace, datastore), (target) => uploadPlanned(target, files, { ...options, overwrite: true }));
    const modelUri = `azureml://datastores/${datastore.name}/paths/${stat.isDirectory() ? `${prefix}/` : files[0]!.remotePath}`;
    const resource = await workspace.arm.ml.modelVersions.createOrUpdate(workspace.resourceGroup, workspace.name, modelName, version, {
      properties: { modelUri, modelType: options.modelType ?? 'custom_model', description: options.description, tags: options.tags },
    });
    return new Model(workspace, resource, modelName);
  }

  /** Registers a job's output where the job wrote it: nothing is uploaded. */
  private static async fromJobOutput(options: RegisterModelOptions): Promise<Model> {
    const { workspace, modelName } = options;
    const [, jobName, outputName, sub] = JOB_OUTPUT.exec(options.modelPath)!;
    const job = await workspace.arm.ml.jobs.get(workspace.resourceGroup, workspace.name, jobName!);
    const outputs = (job.properties as { outputs?: Record<string, { uri?: string } | null> }).outputs ?? {};
    const output = outputs[outputName === 'artifacts' ? 'default' : outputName!];
    if (!output?.uri) {
      throw new MlspaceError(`Job '${jobName}' has no output '${outputName}'; it has ${Object.keys(outputs).map((name) => (name === 'default' ? 'artifacts' : name)).join(', ')}.`, 'NotFound');
    }
    if (job.properties.status !== 'Completed') throw new MlspaceError(`Job '${jobName}' is ${job.properties.status}: register its output once it has completed.`, 'InvalidArgument');
    const version = options.version ?? (await nextVersion(workspace, modelName));
    const modelUri = sub ? `${output.uri.replace(/\/+$/, '')}/${sub}` : output.uri;
    const resource = await workspace.arm.ml.modelVersions.createOrUpdate(workspace.resourceGroup, workspace.name, modelName, version, {
      properties: { modelUri, jobName, modelType: options.modelType ?? 'custom_model', description: options.description, tags: options.tags },
    });
    return new Model(workspace, resource, modelName);
  }

  /** A registered version; the latest when `version` is left out. */
  static async get(workspace: Workspace, name: string, version?: string): Promise<Model> {
    const wanted = version ?? (await workspace.arm.ml.modelContainers.get(workspace.resourceGroup, workspace.name, name)).properties.latestVersion;
    if (!wanted) throw new MlspaceError(`Model '${name}' has no versions in workspace '${workspace.name}'.`, 'NotFound');
    return new Model(workspace, await workspace.arm.ml.modelVersions.get(workspace.resourceGroup, workspace.name, name, wanted), name);
  }

  /** Downloads the model's files into `targetDir/{model name}/`. Existing local files are refused unless `overwrite`. */
  async download(targetDir: string, options: TransferOptions = {}): Promise<ModelDownloadResult> {
    const { datastore: datastoreName, path: remotePath } = outputLocation(this.path);
    const datastore = await Datastore.get(this.workspace, datastoreName);
    const directory = path.join(targetDir, this.name);
    const access = datastore.isDefault ? await workspaceAccess(this.workspace, datastore) : await datastore.ownAccess();
    const result = await datastore.withStorage(access, async (target) => {
      const planned = [];
      // A path without a trailing '/' is a file, or (a job's output named without one) a folder.
      for await (const file of target.list(remotePath)) {
        if (file.path === remotePath) planned.push({ remotePath: file.path, size: file.size, localPath: localPathUnder(directory, path.posix.basename(file.path)) });
      }
      const folder = remotePath.endsWith('/') ? remotePath : `${remotePath}/`;
      if (planned.length === 0) {
        for await (const file of target.list(folder)) planned.push({ remotePath: file.path, size: file.size, localPath: localPathUnder(directory, file.path.slice(folder.length)) });
      }
      if (planned.length === 0) throw new MlspaceError(`No files were found at ${this.path} for model '${this.name}' version ${this.version}.`, 'NotFound');
      return downloadPlanned(target, planned, options);
    });
    return { ...result, directory };
  }
}

/**
 * What Azure ML writes its own artifacts with: the workspace's copy of its
 * account key (workspace listKeys); or, when the workspace is on identity
 * access (its default datastore holds no credential), the caller's identity.
 */
async function workspaceAccess(workspace: Workspace, datastore: Datastore): Promise<StorageAccess> {
  if (datastore.credentialsType === 'None') return datastore.ownAccess();
  const { userStorageKey } = await workspace.listKeys();
  return {
    credential: { type: 'AccountKey', key: userStorageKey },
    holder: { workspace: workspace.name, resourceGroup: workspace.resourceGroup, renewedBySyncKeys: true },
  };
}

async function nextVersion(workspace: Workspace, name: string): Promise<string> {
  try {
    return (await workspace.arm.ml.modelContainers.get(workspace.resourceGroup, workspace.name, name)).properties.nextVersion ?? '1';
  } catch (error) {
    if (isNotFound(error)) return '1';
    throw error;
  }
}

async function versionExists(workspace: Workspace, name: string, version: string): Promise<boolean> {
  try {
    await workspace.arm.ml.modelVersions.get(workspace.resourceGroup, workspace.name, name, version);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
