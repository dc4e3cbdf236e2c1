import type { Command } from 'commander';
import { emit, type OutputOptions } from '../../output/options.js';
import { examples } from '../common.js';
import { accountAccess, shareServiceClient, type StorageAuthOptions } from './auth.js';
import { explained } from './errors.js';
import { withFileAuth } from './file-common.js';

export function registerStorageShare(storage: Command): void {
  const share = storage.command('share').description('Manage file shares.').addHelpText('after', examples('mlspace storage share create -n shared --account-name mystorageaccount'));
  withFileAuth(share.command('create').description('Create a file share in a storage account (if it does not exist).').requiredOption('-n, --name <name>', 'name: 3-63 lowercase letters, digits and single hyphens'))
    .addHelpText('after', examples('mlspace storage share create -n shared --account-name mystorageaccount'))
    .action(async (options: StorageAuthOptions & OutputOptions & { name: string }) => {
      const access = await accountAccess(options, 'file');
      const service = await shareServiceClient(access);
      await explained(access, async () => emit({ created: (await service.getShareClient(options.name).createIfNotExists()).succeeded }, options));
    });
}
