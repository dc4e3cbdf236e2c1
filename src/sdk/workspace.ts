import type { Workspace as ArmWorkspace } from '@azure/arm-machinelearning';
import { armClients, parseResourceId, type ArmClients } from './arm-clients.js';
import { resolveConnection, type ConnectionOptions } from './connection.js';
import { Datastore } from './datastore.js';
import { MlspaceError } from './errors.js';
import { readWorkspaceConfig } from './workspace-config.js';

export interface WorkspaceGetOptions extends ConnectionOptions {
  resourceGroup: string;
  /** Defaults to the local server's subscription; required with a `credential`. */
  subscriptionId?: string;
}

/** The workspace's copy of its storage account's key, as workspace listKeys returns it. */
export interface WorkspaceKeys {
  userStorageKey: string;
  /** ARM id of the storage account the key is for. */
  userStorageResourceId: string;
}

/**
 * An Azure ML workspace: the TypeScript counterpart of azureml's `Workspace`.
 * Everything that reads the service is async; where Python has the
 * `ws.datastores` property, this has `await ws.datastores()`.
 *
 * @example
 * ```ts
 * const ws = await Workspace.fromConfig();
 * const blobstore = await ws.getDefaultDatastore();
 * for (const [name, ds] of await ws.datastores()) console.log(name, ds.accountName, ds.containerName);
 * ```
 */
export class Workspace {
  private constructor(
    /** The official ARM clients this workspace was read with, for what the SDK does not wrap. */
    readonly arm: ArmClients,
    readonly resourceGroup: string,
    private readonly resource: ArmWorkspace,
  ) {}

  get name(): string {
    return this.resource.name!;
  }

  get subscriptionId(): string {
    return this.arm.subscriptionId;
  }

  /** The workspace's ARM id. */
  get id(): string {
    return this.resource.id!;
  }

  get location(): string | undefined {
    return this.resource.location;
  }

  /** ARM id of the storage account the workspace keeps its files in (and holds a key of). */
  get storageAccountId(): string {
    return this.resource.storageAccount!;
  }

  /** The name of that storage account. */
  get storageAccountName(): string {
    return parseResourceId(this.storageAccountId)?.name ?? this.storageAccountId;
  }

  /**
   * The workspace a config.json names, as azureml's `Workspace.from_config`:
   * `path` is the file or the directory to start from (default: the current
   * directory), searching `.azureml/config.json` and `config.json` upward.
   * The file gives `subscription_id`, `resource_group` and `workspace_name`;
   * `options` say how to reach the server (default: the local one).
   */
  static async fromConfig(path?: string, options: ConnectionOptions = {}): Promise<Workspace> {
    const config = readWorkspaceConfig(path);
    return Workspace.get(config.workspaceName, { ...options, resourceGroup: config.resourceGroup, subscriptionId: config.subscriptionId });
  }

  /** An existing workspace by name, as azureml's `Workspace.get`; fails with the service's 404 when there is none. */
  static async get(name: string, options: WorkspaceGetOptions): Promise<Workspace> {
    const connection = resolveConnection(options);
    const subscriptionId = options.subscriptionId ?? connection.defaultSubscriptionId;
    if (!subscriptionId) throw new MlspaceError('Workspace.get needs a subscriptionId when a credential is given.', 'InvalidArgument');
    return Workspace.fromClients(armClients(connection, subscriptionId), options.resourceGroup, name);
  }

  /** An existing workspace, read with ARM clients the caller already has (the CLI's). */
  static async fromClients(arm: ArmClients, resourceGroup: string, name: string): Promise<Workspace> {
    return new Workspace(arm, resourceGroup, await arm.ml.workspaces.get(resourceGroup, name));
  }

  /** Every datastore registered in the workspace, by name (azureml's `ws.datastores`). */
  async datastores(): Promise<Map<string, Datastore>> {
    const found = new Map<string, Datastore>();
    for await (const resource of this.arm.ml.datastores.list(this.resourceGroup, this.name)) found.set(resource.name!, Datastore.fromResource(this, resource));
    return found;
  }

  /** The workspace's default datastore (`workspaceblobstore` unless changed). */
  async getDefaultDatastore(): Promise<Datastore> {
    for await (const resource of this.arm.ml.datastores.list(this.resourceGroup, this.name, { isDefault: true })) return Datastore.fromResource(this, resource);
    throw new MlspaceError(`Workspace '${this.name}' has no default datastore.`, 'NotFound');
  }

  /**
   * Re-reads the linked storage account's keys into the workspace's copy and
   * its system datastores (`az ml workspace sync-keys`). Datastores you
   * registered yourself keep the key they were registered with: re-register
   * them with `overwrite: true`.
   */
  async syncKeys(): Promise<void> {
    await this.arm.ml.workspaces.beginResyncKeysAndWait(this.resourceGroup, this.name);
  }

  /** The workspace's copy of its storage account's key. It is a secret: do not log it. */
  async listKeys(): Promise<WorkspaceKeys> {
    const keys = await this.arm.ml.workspaces.listKeys(this.resourceGroup, this.name);
    if (!keys.userStorageKey) throw new MlspaceError(`Workspace '${this.name}' holds no storage key.`, 'NotFound');
    return { userStorageKey: keys.userStorageKey, userStorageResourceId: keys.userStorageResourceId ?? this.storageAccountId };
  }
}
