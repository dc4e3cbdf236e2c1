import type { Command } from 'commander';
import { Option } from 'commander';
import { CliError } from '../../errors.js';
import { emit, type OutputOptions } from '../../output/options.js';
import { examples } from '../common.js';
import { CONTAINER_PERMISSIONS, METADATA_HELP, numResults, parseMetadata } from './arguments.js';
import { accountAccess, blobServiceClient, type Need, type StorageAuthOptions } from './auth.js';
import { withBlobAuth } from './blob-common.js';
import { containerRow, containerView } from './blob-views.js';
import { explained, isNotFound } from './errors.js';
import { listUpTo, withNextMarker } from './paging.js';
import { blobSas, withSasOptions, type SasOptions } from './sas.js';

interface NamedOptions extends StorageAuthOptions, OutputOptions {
  name: string;
}

function withName(command: Command): Command {
  return withBlobAuth(command.requiredOption('-n, --name <name>', 'the container: 3-63 lowercase letters, digits and single hyphens'));
}

async function clients(options: StorageAuthOptions, need?: Need) {
  const access = await accountAccess(options, 'blob', need);
  return { access, service: await blobServiceClient(access) };
}

export function registerStorageContainer(storage: Command): void {
  const container = storage
    .command('container')
    .description('Manage blob containers.')
    .addHelpText('after', examples('mlspace storage container create -n training --account-name mystorageaccount', 'mlspace storage container list --account-name mystorageaccount -o table'));

  withName(container.command('create').description('Create a blob container in a storage account (if it does not exist).'))
    .option('--metadata <pairs...>', METADATA_HELP)
    .addOption(new Option('--public-access <level>', 'anonymous read access: off, blob or container').choices(['off', 'blob', 'container']))
    .option('--fail-on-exist', 'fail if the container exists (by default {"created": false} is printed)')
    .addHelpText('after', examples('mlspace storage container create -n training --account-name mystorageaccount'))
    .action(async (options: NamedOptions & { metadata?: string[]; publicAccess?: 'off' | 'blob' | 'container'; failOnExist?: boolean }) => {
      const { access, service } = await clients(options);
      await explained(access, async () => {
        const publicAccess = options.publicAccess === 'off' ? undefined : options.publicAccess;
        const created = (await service.getContainerClient(options.name).createIfNotExists({ metadata: parseMetadata(options.metadata), access: publicAccess })).succeeded;
        if (!created && options.failOnExist) throw new CliError(`The container '${options.name}' already exists.`, 1);
        emit({ created }, options);
      });
    });

  withBlobAuth(container.command('list').description('List the containers of a storage account.'))
    .option('--prefix <prefix>', 'only containers whose names start with this')
    .option('--num-results <n>', "the most containers to list; '*' for all", numResults, 5000)
    .option('--marker <token>', 'go on from where a listing stopped (its next marker)')
    .option('--show-next-marker', 'end the list with {"nextMarker": ...}')
    .option('--include-metadata', "list each container's metadata too")
    .addHelpText('after', examples('mlspace storage container list --account-name mystorageaccount -o table', 'mlspace storage container list --connection-string "$CS" --query "[].name" -o tsv'))
    .action(async (options: StorageAuthOptions & OutputOptions & { prefix?: string; numResults: number; marker?: string; showNextMarker?: boolean; includeMetadata?: boolean }) => {
      const { access, service } = await clients(options);
      await explained(access, async () => {
        const { items, nextMarker } = await listUpTo(
          (continuationToken, maxPageSize) => service.listContainers({ prefix: options.prefix, includeMetadata: options.includeMetadata }).byPage({ continuationToken, maxPageSize }),
          (page) => (page.containerItems ?? []).map((item) => containerView({ ...item, ...item.properties })),
          options.numResults,
          options.marker,
        );
        emit(withNextMarker(items, nextMarker, options.showNextMarker), options, (row) => ('properties' in row ? containerRow(row) : row));
      });
    });

  withName(container.command('show').description("Show a container's properties and metadata."))
    .addHelpText('after', examples('mlspace storage container show -n training --account-name mystorageaccount'))
    .action(async (options: NamedOptions) => {
      const { access, service } = await clients(options);
      await explained(access, async () => {
        try {
          const properties = await service.getContainerClient(options.name).getProperties();
          emit(containerView({ name: options.name, ...properties }), options, containerRow);
        } catch (error) {
          if (isNotFound(error)) throw new CliError(`The container '${options.name}' does not exist.`, 3);
          throw error;
        }
      });
    });

  withName(container.command('exists').description('Check whether a container exists.'))
    .addHelpText('after', examples('mlspace storage container exists -n training --account-name mystorageaccount --query exists'))
    .action(async (options: NamedOptions) => {
      const { access, service } = await clients(options);
      await explained(access, async () => emit({ exists: await service.getContainerClient(options.name).exists() }, options));
    });

  withName(container.command('delete').description('Delete a container and every blob in it.'))
    .option('--fail-not-exist', 'fail if the container does not exist (by default {"deleted": false} is printed)')
    .addHelpText('after', examples('mlspace storage container delete -n scratch --account-name mystorageaccount'))
    .action(async (options: NamedOptions & { failNotExist?: boolean }) => {
      const { access, service } = await clients(options);
      await explained(access, async () => {
        const deleted = (await service.getContainerClient(options.name).deleteIfExists()).succeeded;
        if (!deleted && options.failNotExist) throw new CliError(`The container '${options.name}' does not exist.`, 3);
        emit({ deleted }, options);
      });
    });

  withSasOptions(withName(container.command('generate-sas').description('Make a SAS token for a container, signed with the account key (printed as a JSON string).')), CONTAINER_PERMISSIONS)
    .addHelpText(
      'after',
      examples(
        'mlspace storage container generate-sas -n training --permissions rl --expiry 2030-01-01T00:00Z --account-name mystorageaccount -o tsv',
        'SAS=$(mlspace storage container generate-sas -n training --permissions racwdl --expiry 2030-01-01T00:00Z --account-name mystorageaccount -o tsv)',
        'mlspace storage blob list -c training --account-name mystorageaccount --sas-token "$SAS"',
      ),
    )
    .action(async (options: NamedOptions & SasOptions) => {
      const { access } = await clients(options, 'key');
      emit(await blobSas(access, options.name, undefined, options), options);
    });
}
