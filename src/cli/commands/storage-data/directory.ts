import type { Command } from 'commander';
import { CliError } from '../../errors.js';
import { emit } from '../../output/options.js';
import { examples } from '../common.js';
import { METADATA_HELP, numResults, parseMetadata } from './arguments.js';
import { explained, isNotFound } from './errors.js';
import { shareClient, sharePath, withShare, type ShareOptions } from './file-common.js';
import { listedRow, listedView } from './file-views.js';
import { listUpTo, withNextMarker } from './paging.js';

interface DirectoryOptions extends ShareOptions {
  name: string;
}

/** A directory's name in a share: its parent must exist, as in Azure Files. */
function withDirectory(command: Command): Command {
  return withShare(command.requiredOption('-n, --name <path>', "the directory's path in the share (its parent must exist)"));
}

export function registerStorageDirectory(storage: Command): void {
  const directory = storage
    .command('directory')
    .description('Manage the directories of file shares.')
    .addHelpText('after', examples('mlspace storage directory create -s shared -n reports --account-name mystorageaccount'));

  withDirectory(directory.command('create').description('Create a directory in a share (if it does not exist).'))
    .option('--metadata <pairs...>', METADATA_HELP)
    .option('--fail-on-exist', 'fail if the directory exists (by default {"created": false} is printed)')
    .addHelpText('after', examples('mlspace storage directory create -s shared -n reports --account-name mystorageaccount', 'mlspace storage directory create -s shared -n reports/2024 --connection-string "$CS"'))
    .action(async (options: DirectoryOptions & { metadata?: string[]; failOnExist?: boolean }) => {
      const { access, share } = await shareClient(options);
      const name = sharePath(options.name);
      await explained(access, async () => {
        const created = (await share.getDirectoryClient(name).createIfNotExists({ metadata: parseMetadata(options.metadata) })).succeeded;
        if (!created && options.failOnExist) throw new CliError(`The directory '${name}' already exists in share '${options.shareName}'.`, 1);
        emit({ created }, options);
      });
    });

  withShare(directory.command('list').description('List the directories in a directory of a share (the root by default).'))
    .option('-n, --name <path>', 'the directory whose directories to list')
    .option('--num-results <n>', "the most directories to list; '*' for all", numResults, 5000)
    .addHelpText('after', examples('mlspace storage directory list -s shared --account-name mystorageaccount -o table'))
    .action(async (options: ShareOptions & { name?: string; numResults: number }) => {
      const { access, share } = await shareClient(options);
      await explained(access, async () => {
        const parent = share.getDirectoryClient(sharePath(options.name ?? ''));
        const { items, nextMarker } = await listUpTo(
          (continuationToken, maxPageSize) => parent.listFilesAndDirectories({ includeTimestamps: true, includeEtag: true }).byPage({ continuationToken, maxPageSize }),
          (page) => page.segment.directoryItems.map((item) => listedView(item, 'dir')),
          options.numResults,
          undefined,
        );
        emit(withNextMarker(items, nextMarker, false), options, listedRow);
      });
    });

  withDirectory(directory.command('delete').description('Delete an empty directory from a share.'))
    .option('--fail-not-exist', 'fail if the directory does not exist (by default {"deleted": false} is printed)')
    .addHelpText('after', examples('mlspace storage directory delete -s shared -n reports/2024 --account-name mystorageaccount'))
    .action(async (options: DirectoryOptions & { failNotExist?: boolean }) => {
      const { access, share } = await shareClient(options);
      const name = sharePath(options.name);
      await explained(access, async () => {
        let deleted = true;
        try {
          await share.getDirectoryClient(name).delete();
        } catch (error) {
          if (!isNotFound(error) || (error as { code?: string }).code === 'ShareNotFound') throw error;
          if (options.failNotExist) throw new CliError(`The directory '${name}' does not exist in share '${options.shareName}'.`, 3);
          deleted = false;
        }
        emit({ deleted }, options);
      });
    });
}
