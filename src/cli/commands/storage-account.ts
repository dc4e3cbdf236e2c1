import type { Command } from 'commander';
import { Option } from 'commander';
import type { StorageAccount } from '@azure/arm-storage';
import { CliError } from '../errors.js';
import { confirm } from '../confirm.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import { groupsPath, shortScope, storageAccountPath, storageAccountsPath } from '../arm-paths.js';
import { liftProperties } from '../arm-rest.js';
import type { Session } from '../session.js';
import { registerKeyRotation } from './storage-rotation.js';
import { groupOf, parseTags, TAGS_HELP, withGroup, session, examples } from './common.js';

const SKUS = ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_ZRS', 'Premium_LRS', 'Premium_ZRS', 'Standard_GZRS', 'Standard_RAGZRS'];
const KINDS = ['StorageV2', 'Storage', 'BlobStorage', 'FileStorage', 'BlockBlobStorage'];
/** az names the keys primary and secondary; the service names them key1 and key2. */
const KEY_NAMES = { primary: 'key1', secondary: 'key2' } as const;

interface AccountOptions extends OutputOptions {
  name: string;
  resourceGroup: string;
}

/** An account as the management API sends it: its settings under `properties`. */
type WireAccount = Omit<StorageAccount, 'primaryEndpoints' | 'provisioningState'> & { properties?: Partial<StorageAccount> };

/** As az prints an account: its properties lifted to the top, and its resource group added. */
function accountView(account: WireAccount) {
  return { ...liftProperties(account), resourceGroup: groupOf(account.id) };
}

/** `-o table`: the columns az shows for accounts. */
const accountRow = (view: ReturnType<typeof accountView>) => ({
  Name: view.name,
  ResourceGroup: view.resourceGroup,
  Location: view.location,
  Kind: view.kind,
  Sku: view.sku?.name,
  ProvisioningState: view.provisioningState,
});

export async function listKeys({ rest, subscriptionId }: Session, group: string, name: string) {
  return (await rest.post<{ keys?: { keyName: string; value: string; permissions?: string; creationTime?: string }[] }>(storageAccountPath(subscriptionId, group, name, 'listKeys'))).keys ?? [];
}

/** The connection string az prints: explicit endpoints, which work for path-style (this server) and Azure alike. */
async function connectionString(current: Session, group: string, name: string, key: 'primary' | 'secondary'): Promise<string> {
  const account = accountView(await current.rest.get(storageAccountPath(current.subscriptionId, group, name)));
  const value = (await listKeys(current, group, name)).find((entry) => entry.keyName === KEY_NAMES[key])?.value;
  if (!value) throw new CliError(`Storage account '${name}' returned no ${KEY_NAMES[key]}.`);
  const endpoints = account.primaryEndpoints ?? {};
  const protocol = endpoints.blob ? new URL(endpoints.blob).protocol.replace(':', '') : 'https';
  const parts = [`DefaultEndpointsProtocol=${protocol}`, `AccountName=${name}`, `AccountKey=${value}`];
  if (endpoints.blob) parts.push(`BlobEndpoint=${endpoints.blob}`);
  if (endpoints.file) parts.push(`FileEndpoint=${endpoints.file}`);
  return parts.join(';') + ';';
}

export function registerStorageAccount(storage: Command): void {
  const account = storage
    .command('account')
    .description('Manage storage accounts.')
    .addHelpText('after', examples('mlspace storage account create -n mystorageaccount -g myresourcegroup', 'mlspace storage account keys renew -g myresourcegroup -n mystorageaccount --key primary'));

  withOutput(
    withGroup(account.command('create').description('Create a storage account.').requiredOption('-n, --name <name>', 'account name: 3-24 lowercase letters and digits'))
      .option('-l, --location <location>', "location (default: the resource group's)")
      .addOption(new Option('--sku <sku>', 'storage SKU').choices(SKUS).default('Standard_RAGRS'))
      .addOption(new Option('--kind <kind>', 'kind of account').choices(KINDS).default('StorageV2'))
      .option('--tags <tags...>', TAGS_HELP),
  )
    .addHelpText('after', examples('mlspace storage account create -n mystorageaccount -g myresourcegroup -l eastus --sku Standard_LRS'))
    .action(async (options: AccountOptions & { location?: string; sku: string; kind: string; tags?: string[] }) => {
      const { rest, subscriptionId } = await session();
      const location = options.location ?? (await rest.get<{ location: string }>(groupsPath(subscriptionId, options.resourceGroup))).location;
      const created = await rest.put<WireAccount>(storageAccountPath(subscriptionId, options.resourceGroup, options.name), {
        location,
        sku: { name: options.sku },
        kind: options.kind,
        tags: parseTags(options.tags),
      });
      emit(accountView(created), options, accountRow);
    });

  withOutput(
    withGroup(account.command('update').description("Change a storage account's settings.").requiredOption('-n, --name <name>', 'account name')).addOption(
      new Option('--allow-shared-key-access <bool>', 'false refuses Shared Key and key-signed SAS; tokens and user delegation SAS keep working').choices(['true', 'false']),
    ).option('--force', 'turn Shared Key off even though workspaces or datastores still use the keys (they break)'),
  )
    .addHelpText(
      'after',
      `
Turning Shared Key off is refused while a workspace or datastore still uses the account's keys;
'mlspace storage account keys consumers --keyless-readiness' lists them and what to do.
${examples('mlspace storage account update -n mystorageaccount -g myresourcegroup --allow-shared-key-access false')}`,
    )
    .action(async (options: AccountOptions & { allowSharedKeyAccess?: 'true' | 'false'; force?: boolean }) => {
      const { rest, subscriptionId } = await session();
      const properties = options.allowSharedKeyAccess === undefined ? {} : { allowSharedKeyAccess: options.allowSharedKeyAccess === 'true' };
      const path = storageAccountPath(subscriptionId, options.resourceGroup, options.name) + (options.force ? '&force=true' : '');
      emit(accountView(await rest.patch(path, { properties })), options, accountRow);
    });

  withOutput(withGroup(account.command('show').description('Show a storage account.').requiredOption('-n, --name <name>', 'account name')))
    .addHelpText('after', examples('mlspace storage account show -n mystorageaccount -g myresourcegroup --query primaryEndpoints'))
    .action(async (options: AccountOptions) => {
      const { rest, subscriptionId } = await session();
      emit(accountView(await rest.get(storageAccountPath(subscriptionId, options.resourceGroup, options.name))), options, accountRow);
    });

  withOutput(account.command('list').description('List storage accounts, in one resource group or all.').option('-g, --resource-group <name>', 'only this resource group'))
    .addHelpText('after', examples('mlspace storage account list -o table', 'mlspace storage account list -g myresourcegroup --query [].name -o tsv'))
    .action(async (options: OutputOptions & { resourceGroup?: string }) => {
      const { rest, subscriptionId } = await session();
      emit((await rest.list<WireAccount>(storageAccountsPath(subscriptionId, options.resourceGroup))).map(accountView), options, accountRow);
    });

  withGroup(account.command('delete').description('Delete a storage account and all its data.').requiredOption('-n, --name <name>', 'account name'))
    .option('-y, --yes', 'do not prompt for confirmation')
    .addHelpText('after', examples('mlspace storage account delete -n mystorageaccount -g myresourcegroup --yes'))
    .action(async (options: AccountOptions & { yes?: boolean }) => {
      const { rest, subscriptionId } = await session();
      await confirm(`Are you sure you want to delete storage account '${options.name}' and all its data?`, options.yes);
      await rest.delete(storageAccountPath(subscriptionId, options.resourceGroup, options.name));
    });

  withOutput(
    withGroup(account.command('show-connection-string').description("Print a connection string with one of the account's keys (it contains the key).").requiredOption('-n, --name <name>', 'account name')).addOption(
      new Option('--key <key>', 'which key to put in it').choices(Object.keys(KEY_NAMES)).default('primary'),
    ),
  )
    .addHelpText('after', examples('mlspace storage account show-connection-string -n mystorageaccount -g myresourcegroup --query connectionString -o tsv'))
    .action(async (options: AccountOptions & { key: 'primary' | 'secondary' }) => {
      emit({ connectionString: await connectionString(await session(), options.resourceGroup, options.name, options.key) }, options);
    });

  const keyless = account.command('keyless').description('Move consumers of the account off its keys, to identity access (docs/keyless.md).');
  withOutput(
    withGroup(
      keyless
        .command('migrate')
        .description(
          "Move the account's key-based datastores, and workspaces with their system datastores, to identity access: assign each identity a data role at " +
            'the narrowest scope, verify it on the data plane, and only then drop the key. Journaled: a failure or a crash rolls it back.',
        )
        .requiredOption('-n, --account-name <name>', 'account name'),
    )
      .option('-w, --workspace <name>', 'only this workspace (and, with --datastore, one of its datastores)')
      .option('--workspace-resource-group <name>', "the workspace's resource group, when its name is not unique")
      .option('--datastore <name>', 'only this datastore of --workspace')
      .option('--dry-run', 'show what would move, and the roles it would assign, without changing anything'),
  )
    .addHelpText(
      'after',
      examples(
        'mlspace storage account keyless migrate -g myresourcegroup -n mystorageaccount --dry-run -o table',
        'mlspace storage account keyless migrate -g myresourcegroup -n mystorageaccount -w myworkspace --datastore training-data',
      ),
    )
    .action(async (options: OutputOptions & { accountName: string; resourceGroup: string; workspace?: string; workspaceResourceGroup?: string; datastore?: string; dryRun?: boolean }) => {
      const { rest, subscriptionId } = await session();
      const body = { workspace: options.workspace, resourceGroup: options.workspaceResourceGroup, datastore: options.datastore, dryRun: options.dryRun ?? false };
      const result = await rest.post<{ status: string; targets: { id: string; kind: string; roles: { roleDefinitionName: string; scope: string }[] }[] }>(
        storageAccountPath(subscriptionId, options.resourceGroup, options.accountName, 'migrateToKeyless'),
        body,
      );
      // A table has a row per role assigned: a workspace's identity gets one per system container and share.
      const rows = result.targets.flatMap((target) =>
        target.roles.map((role) => ({ Consumer: target.id.replace(/^.*\/workspaces\//, ''), Role: role.roleDefinitionName, Scope: shortScope(role.scope), Status: result.status })),
      );
      emit(options.output === 'table' && options.query === undefined ? rows : result, options, (row: (typeof rows)[number]) => row);
    });

  const keys = account
    .command('keys')
    .description("List, renew or rotate a storage account's access keys, and see who holds them.")
    .addHelpText('after', examples('mlspace storage account keys list -g myresourcegroup -n mystorageaccount -o table'));
  withOutput(withGroup(keys.command('list').description("List the account's two keys (their values are secrets).").requiredOption('-n, --account-name <name>', 'account name')))
    .addHelpText('after', examples("mlspace storage account keys list -g myresourcegroup -n mystorageaccount", "mlspace storage account keys list -g myresourcegroup -n mystorageaccount --query \"[?keyName=='key1'].value\" -o tsv"))
    .action(async (options: OutputOptions & { accountName: string; resourceGroup: string }) => {
      emit(await listKeys(await session(), options.resourceGroup, options.accountName), options);
    });

  withOutput(
    withGroup(
      keys
        .command('renew')
        .description('Regenerate one of the two keys; the other keeps working. Whatever holds the old value fails from the next request on.')
        .requiredOption('-n, --account-name <name>', 'account name'),
    ).addOption(new Option('--key <key>', 'the key to regenerate: primary (key1) or secondary (key2)').choices(Object.keys(KEY_NAMES)).makeOptionMandatory()),
  )
    .addHelpText(
      'after',
      `
After renewing a key a workspace uses, run 'mlspace ml workspace sync-keys', and re-register
every datastore that held it ('mlspace ml datastore create --file ...', or the SDK with overwrite).

Examples:
  mlspace storage account keys renew -g myresourcegroup -n mystorageaccount --key primary`,
    )
    .action(async (options: OutputOptions & { accountName: string; resourceGroup: string; key: 'primary' | 'secondary' }) => {
      const keyName = KEY_NAMES[options.key];
      const { rest, subscriptionId } = await session();
      const result = await rest.post<{ keys?: unknown[] }>(storageAccountPath(subscriptionId, options.resourceGroup, options.accountName, 'regenerateKey'), { keyName });
      const other = options.key === 'primary' ? 'secondary key (key2)' : 'primary key (key1)';
      process.stderr.write(`Renewed the ${options.key} key (${keyName}) of storage account '${options.accountName}'; the ${other} is unchanged.\n`);
      emit(result.keys ?? [], options);
    });
  registerKeyRotation(keys);
}
