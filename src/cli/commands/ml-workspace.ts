import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { Workspace as ArmWorkspace } from '@azure/arm-machinelearning';
import { CliError } from '../errors.js';
import { confirm } from '../confirm.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import type { Session } from '../session.js';
import { groupsPath, storageAccountPath, workspacePath } from '../arm-paths.js';
import { liftProperties } from '../arm-rest.js';
import { groupOf, orUndefined, parseTags, TAGS_HELP, withGroup, session, examples } from './common.js';

interface WorkspaceOptions extends OutputOptions {
  name?: string;
  workspaceName?: string;
  resourceGroup: string;
}

/** A workspace as the management API sends it: its settings under `properties`. */
type WireWorkspace = Pick<ArmWorkspace, 'id' | 'name' | 'location' | 'tags' | 'identity'> & {
  properties?: Omit<ArmWorkspace, 'id' | 'name' | 'location' | 'tags' | 'identity'> & { systemDatastoresAuthMode?: string };
};

/** A workspace as `az ml workspace show` prints it (the v2 CLI's snake_case fields). */
export function workspaceView(wire: WireWorkspace) {
  const workspace = liftProperties(wire);
  return {
    name: workspace.name,
    id: workspace.id,
    location: workspace.location,
    resource_group: groupOf(workspace.id),
    display_name: workspace.friendlyName,
    description: workspace.description,
    storage_account: workspace.storageAccount,
    hbi_workspace: workspace.hbiWorkspace,
    public_network_access: workspace.publicNetworkAccess,
    provisioning_state: workspace.provisioningState,
    identity: wire.identity && { type: wire.identity.type, principal_id: wire.identity.principalId, tenant_id: wire.identity.tenantId },
    system_datastores_auth_mode: workspace.systemDatastoresAuthMode,
    tags: workspace.tags ?? {},
  };
}

/** `-o table`: the columns az ml shows. */
const workspaceRow = (view: ReturnType<typeof workspaceView>) => ({
  Name: view.name,
  Location: view.location,
  ResourceGroup: view.resource_group,
  StorageAccount: view.storage_account?.split('/').pop(),
});

/**
 * The workspace options, spelled both ways: `-w/--workspace-name`, as the
 * documents (CLI v1) write it, and `-n/--name`, as the current CLI does.
 */
function withWorkspaceName(command: Command): Command {
  return withGroup(command.option('-n, --name <name>', 'name of the workspace').option('-w, --workspace-name <name>', 'name of the workspace (same as --name)'));
}

function workspaceName(options: WorkspaceOptions): string {
  if (options.name && options.workspaceName && options.name !== options.workspaceName) {
    throw new CliError(`--name '${options.name}' and --workspace-name '${options.workspaceName}' disagree; give the workspace once.`, 2);
  }
  const name = options.name ?? options.workspaceName;
  if (!name) throw new CliError("required option '-n, --name <name>' (or '-w, --workspace-name <name>') not specified", 2);
  return name;
}

/** `--storage-account` takes an ARM id or the name of an account in the workspace's resource group. */
async function storageAccountId(current: Session, group: string, value: string): Promise<string> {
  if (value.startsWith('/')) return value;
  const account = await orUndefined(current.rest.get<{ id: string }>(storageAccountPath(current.subscriptionId, group, value)));
  if (!account) throw new CliError(`Storage account '${value}' was not found in resource group '${group}'; give its name there, or its ARM id.`, 3);
  return account.id;
}

/** Without --storage-account, az creates one for the workspace; its name is derived from the workspace's, made unique. */
async function createStorageAccount(current: Session, group: string, workspace: string, location: string): Promise<string> {
  const base = workspace.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 16);
  const name = `${base}${randomBytes(4).toString('hex')}`;
  process.stderr.write(`Creating storage account '${name}' for workspace '${workspace}'.\n`);
  const account = await current.rest.put<{ id: string }>(storageAccountPath(current.subscriptionId, group, name), { location, sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
  return account.id;
}

export function registerMlWorkspace(ml: Command): void {
  const workspace = ml
    .command('workspace')
    .description('Manage Azure ML workspaces.')
    .addHelpText('after', examples('mlspace ml workspace create -n myworkspace -g myresourcegroup --storage-account mystorageaccount', 'mlspace ml workspace sync-keys -w myworkspace -g myresourcegroup'));

  withOutput(
    withWorkspaceName(workspace.command('create').description('Create a workspace linked to a storage account.'))
      .option('-l, --location <location>', "location (default: the resource group's)")
      .option('--storage-account <idOrName>', 'the storage account (ARM id, or name in the resource group); a new one is created when left out')
      .option('--display-name <name>', 'display name')
      .option('--description <text>', 'description')
      .option('--tags <tags...>', TAGS_HELP),
  )
    .addHelpText('after', examples('mlspace ml workspace create -n myworkspace -g myresourcegroup --storage-account mystorageaccount'))
    .action(async (options: WorkspaceOptions & { location?: string; storageAccount?: string; displayName?: string; description?: string; tags?: string[] }) => {
      const current = await session();
      const name = workspaceName(options);
      const location = options.location ?? (await current.rest.get<{ location: string }>(groupsPath(current.subscriptionId, options.resourceGroup))).location;
      const storageAccount = options.storageAccount
        ? await storageAccountId(current, options.resourceGroup, options.storageAccount)
        : await createStorageAccount(current, options.resourceGroup, name, location);
      const created = await current.rest.put<WireWorkspace>(workspacePath(current.subscriptionId, options.resourceGroup, name), {
        location,
        tags: parseTags(options.tags),
        properties: { storageAccount, friendlyName: options.displayName, description: options.description },
      });
      emit(workspaceView(created), options, workspaceRow);
    });

  withOutput(withWorkspaceName(workspace.command('show').description('Show a workspace.')))
    .addHelpText('after', examples('mlspace ml workspace show -n myworkspace -g myresourcegroup --query storage_account -o tsv'))
    .action(async (options: WorkspaceOptions) => {
      const { rest, subscriptionId } = await session();
      emit(workspaceView(await rest.get(workspacePath(subscriptionId, options.resourceGroup, workspaceName(options)))), options, workspaceRow);
    });

  withOutput(
    withWorkspaceName(workspace.command('update').description("Change a workspace: how it and its system datastores reach its storage account.")).addOption(
      new Option('--system-datastores-auth-mode <mode>', "accessKey (its key copy), or identity (its system identity's roles; no key held)").choices(['accessKey', 'identity']),
    ),
  )
    .addHelpText(
      'after',
      `
Switching to identity needs the workspace's identity (ml workspace show --query identity) to hold
Storage Blob Data Contributor and Storage File Data Privileged Contributor on the account: the
server checks it on the data plane first, and changes nothing when it cannot.
${examples('mlspace ml workspace update -n myworkspace -g myresourcegroup --system-datastores-auth-mode identity')}`,
    )
    .action(async (options: WorkspaceOptions & { systemDatastoresAuthMode?: string }) => {
      const { rest, subscriptionId } = await session();
      const properties = options.systemDatastoresAuthMode === undefined ? {} : { systemDatastoresAuthMode: options.systemDatastoresAuthMode };
      emit(workspaceView(await rest.patch(workspacePath(subscriptionId, options.resourceGroup, workspaceName(options)), { properties })), options, workspaceRow);
    });

  withOutput(workspace.command('list').description('List workspaces, in one resource group or all.').option('-g, --resource-group <name>', 'only this resource group'))
    .addHelpText('after', examples('mlspace ml workspace list -g myresourcegroup -o table'))
    .action(async (options: OutputOptions & { resourceGroup?: string }) => {
      const { rest, subscriptionId } = await session();
      emit((await rest.list<WireWorkspace>(workspacePath(subscriptionId, options.resourceGroup))).map(workspaceView), options, workspaceRow);
    });

  withWorkspaceName(workspace.command('delete').description('Delete a workspace with its datastores and models; the data in its storage account stays.'))
    .option('-y, --yes', 'do not prompt for confirmation')
    .addHelpText('after', examples('mlspace ml workspace delete -n myworkspace -g myresourcegroup --yes'))
    .action(async (options: WorkspaceOptions & { yes?: boolean }) => {
      const { rest, subscriptionId } = await session();
      const name = workspaceName(options);
      await confirm(`Are you sure you want to delete workspace '${name}'?`, options.yes);
      await rest.delete(workspacePath(subscriptionId, options.resourceGroup, name));
    });

  withWorkspaceName(
    workspace.command('sync-keys').description("Re-read the linked storage account's keys into the workspace and its system datastores, after a key was regenerated."),
  )
    .addHelpText(
      'after',
      `
Datastores you registered yourself are not updated: re-register each one that uses the
account with its new key ('mlspace ml datastore create --file ...', or the SDK with overwrite).

Examples:
  mlspace ml workspace sync-keys -w myworkspace -g myresourcegroup
  mlspace ml workspace sync-keys -n myworkspace -g myresourcegroup`,
    )
    .action(async (options: WorkspaceOptions) => {
      const { rest, subscriptionId } = await session();
      const name = workspaceName(options);
      const answer = await rest.post<{ message?: string } | undefined>(workspacePath(subscriptionId, options.resourceGroup, name, 'resyncKeys'));
      // A workspace on identity access holds no key: the server says so, and nothing changed.
      if (answer?.message) {
        process.stderr.write(`${answer.message}\n`);
        return;
      }
      const account = workspaceView(await rest.get(workspacePath(subscriptionId, options.resourceGroup, name))).storage_account;
      process.stderr.write(`Synchronized the keys of storage account '${account?.split('/').pop()}' into workspace '${name}'.\n`);
    });
}
