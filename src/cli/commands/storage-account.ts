import type { Command } from 'commander';
import { Option } from 'commander';
import type { StorageAccount } from '@azure/arm-storage';
import { CliError } from '../errors.js';
import { confirm } from '../confirm.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import type { ArmClients } from '../../sdk/arm-clients.js';
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

/** az adds the resource group to the service's account. */
function accountView(account: StorageAccount) {
  return { ...account, resourceGroup: groupOf(account.id) };
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

export async function listKeys(arm: ArmClients, group: string, name: string) {
  return (await arm.storage.storageAccounts.listKeys(group, name)).keys ?? [];
}

/** The connection string az prints: explicit endpoints, which work for path-style (this server) and Azure alike. */
async function connectionString(arm: ArmClients, group: string, name: string, key: 'primary' | 'secondary'): Promise<string> {
  const account = await arm.storage.storageAccounts.getProperties(group, name);
  const value = (await listKeys(arm, group, name)).find((entry) => entry.keyName === KEY_NAMES[key])?.value;
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
      const current = await session();
      const location = options.location ?? (await current.arm.resources.resourceGroups.get(options.resourceGroup)).location;
      const created = await current.arm.storage.storageAccounts.beginCreateAndWait(options.resourceGroup, options.name, {
        location,
        sku: { name: options.sku },
        kind: options.kind,
        tags: parseTags(options.tags),
      });
      emit(accountView(created), options, accountRow);
    });

  withOutput(withGroup(account.command('show').description('Show a storage account.').requiredOption('-n, --name <name>', 'account name')))
    .addHelpText('after', examples('mlspace storage account show -n mystorageaccount -g myresourcegroup --query primaryEndpoints'))
    .action(async (options: AccountOptions) => {
      emit(accountView(await (await session()).arm.storage.storageAccounts.getProperties(options.resourceGroup, options.name)), options, accountRow);
    });

  withOutput(account.command('list').description('List storage accounts, in one resource group or all.').option('-g, --resource-group <name>', 'only this resource group'))
    .addHelpText('after', examples('mlspace storage account list -o table', 'mlspace storage account list -g myresourcegroup --query [].name -o tsv'))
    .action(async (options: OutputOptions & { resourceGroup?: string }) => {
      const { arm } = (await session());
      const accounts = [];
      const pages = options.resourceGroup ? arm.storage.storageAccounts.listByResourceGroup(options.resourceGroup) : arm.storage.storageAccounts.list();
      for await (const item of pages) accounts.push(accountView(item));
      emit(accounts, options, accountRow);
    });

  withGroup(account.command('delete').description('Delete a storage account and all its data.').requiredOption('-n, --name <name>', 'account name'))
    .option('-y, --yes', 'do not prompt for confirmation')
    .addHelpText('after', examples('mlspace storage account delete -n mystorageaccount -g myresourcegroup --yes'))
    .action(async (options: AccountOptions & { yes?: boolean }) => {
      const { arm } = (await session());
      await confirm(`Are you sure you want to delete storage account '${options.name}' and all its data?`, options.yes);
      await arm.storage.storageAccounts.delete(options.resourceGroup, options.name);
    });

  withOutput(
    withGroup(account.command('show-connection-string').description("Print a connection string with one of the account's keys (it contains the key).").requiredOption('-n, --name <name>', 'account name')).addOption(
      new Option('--key <key>', 'which key to put in it').choices(Object.keys(KEY_NAMES)).default('primary'),
    ),
  )
    .addHelpText('after', examples('mlspace storage account show-connection-string -n mystorageaccount -g myresourcegroup --query connectionString -o tsv'))
    .action(async (options: AccountOptions & { key: 'primary' | 'secondary' }) => {
      emit({ connectionString: await connectionString((await session()).arm, options.resourceGroup, options.name, options.key) }, options);
    });

  const keys = account
    .command('keys')
    .description("List, renew or rotate a storage account's access keys, and see who holds them.")
    .addHelpText('after', examples('mlspace storage account keys list -g myresourcegroup -n mystorageaccount -o table'));
  withOutput(withGroup(keys.command('list').description("List the account's two keys (their values are secrets).").requiredOption('-n, --account-name <name>', 'account name')))
    .addHelpText('after', examples("mlspace storage account keys list -g myresourcegroup -n mystorageaccount", "mlspace storage account keys list -g myresourcegroup -n mystorageaccount --query \"[?keyName=='key1'].value\" -o tsv"))
    .action(async (options: OutputOptions & { accountName: string; resourceGroup: string }) => {
      emit(await listKeys((await session()).arm, options.resourceGroup, options.accountName), options);
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
      const result = await (await session()).arm.storage.storageAccounts.regenerateKey(options.resourceGroup, options.accountName, { keyName });
      const other = options.key === 'primary' ? 'secondary key (key2)' : 'primary key (key1)';
      process.stderr.write(`Renewed the ${options.key} key (${keyName}) of storage account '${options.accountName}'; the ${other} is unchanged.\n`);
      emit(result.keys ?? [], options);
    });
  registerKeyRotation(keys);
}
