import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import { groupOf, session, examples } from './common.js';
import { listKeys } from './storage-account.js';
import { storageAccountsPath } from '../arm-paths.js';

interface DataOptions extends OutputOptions {
  name: string;
  accountName?: string;
  accountKey?: string;
  connectionString?: string;
}

/**
 * The account's service endpoint and a key: given, or (as az does when no
 * credential is given) looked up through the management API with the login.
 */
async function accountAccess(options: DataOptions, service: 'blob' | 'file'): Promise<{ url: string; account: string; key: string }> {
  if (!options.accountName) throw new CliError('Give --account-name (or --connection-string).', 2);
  const current = await session();
  const accounts = await current.rest.list<{ id?: string; name?: string; properties?: { primaryEndpoints?: Record<string, string> } }>(storageAccountsPath(current.subscriptionId));
  const found = accounts.find((account) => account.name === options.accountName);
  if (!found) throw new CliError(`Storage account '${options.accountName}' was not found in subscription ${current.subscriptionId}.`, 3);
  const url = found.properties?.primaryEndpoints?.[service];
  if (!url) throw new CliError(`Storage account '${options.accountName}' has no ${service} endpoint on this server.`);
  const key = options.accountKey ?? (await listKeys(current, groupOf(found.id)!, found.name!))[0]?.value;
  if (!key) throw new CliError(`Could not get a key of storage account '${options.accountName}'; give --account-key.`);
  return { url, account: found.name!, key };
}

function withDataOptions(command: Command): Command {
  return withOutput(
    command
      .requiredOption('-n, --name <name>', 'name: 3-63 lowercase letters, digits and single hyphens')
      .option('--account-name <name>', 'storage account name')
      .option('--account-key <key>', "storage account key (default: looked up with the login's rights)")
      .option('--connection-string <string>', 'storage account connection string, instead of --account-name and --account-key'),
  );
}

export function registerStorageData(storage: Command): void {
  const container = storage.command('container').description('Manage blob containers.').addHelpText('after', examples('mlspace storage container create -n training --account-name mystorageaccount'));
  withDataOptions(container.command('create').description('Create a blob container in a storage account (if it does not exist).'))
    .addHelpText('after', examples('mlspace storage container create -n training --account-name mystorageaccount'))
    .action(async (options: DataOptions) => {
      // Loaded when the command runs, as the session is (see session()).
      const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
      let service;
      if (options.connectionString) service = BlobServiceClient.fromConnectionString(options.connectionString);
      else {
        const { url, account, key } = await accountAccess(options, 'blob');
        service = new BlobServiceClient(url, new StorageSharedKeyCredential(account, key));
      }
      emit({ created: (await service.getContainerClient(options.name).createIfNotExists()).succeeded }, options);
    });

  const share = storage.command('share').description('Manage file shares.').addHelpText('after', examples('mlspace storage share create -n shared --account-name mystorageaccount'));
  withDataOptions(share.command('create').description('Create a file share in a storage account (if it does not exist).'))
    .addHelpText('after', examples('mlspace storage share create -n shared --account-name mystorageaccount'))
    .action(async (options: DataOptions) => {
      const { ShareServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-file-share');
      let service;
      if (options.connectionString) service = ShareServiceClient.fromConnectionString(options.connectionString);
      else {
        const { url, account, key } = await accountAccess(options, 'file');
        service = new ShareServiceClient(url, new StorageSharedKeyCredential(account, key));
      }
      emit({ created: (await service.getShareClient(options.name).createIfNotExists()).succeeded }, options);
    });
}
