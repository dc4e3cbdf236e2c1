import type { Command } from 'commander';
import { confirm } from '../confirm.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import { groupsPath } from '../arm-paths.js';
import { parseTags, TAGS_HELP, session, examples } from './common.js';

export function registerGroup(program: Command): void {
  const group = program.command('group').description('Manage resource groups.').addHelpText('after', examples('mlspace group create -n myresourcegroup -l eastus', 'mlspace group list -o table'));

  withOutput(
    group
      .command('create')
      .description('Create a resource group, or update its tags.')
      .requiredOption('-n, --name <name>', 'name of the new resource group')
      .requiredOption('-l, --location <location>', 'location, e.g. eastus')
      .option('--tags <tags...>', TAGS_HELP),
  )
    .addHelpText('after', examples('mlspace group create -n myresourcegroup -l eastus'))
    .action(async (options: OutputOptions & { name: string; location: string; tags?: string[] }) => {
      const { rest, subscriptionId } = await session();
      emit(await rest.put(groupsPath(subscriptionId, options.name), { location: options.location, tags: parseTags(options.tags) }), options);
    });

  withOutput(group.command('show').description('Show a resource group.').requiredOption('-n, --name <name>', 'name of the resource group'))
    .addHelpText('after', examples('mlspace group show -n myresourcegroup --query location -o tsv'))
    .action(async (options: OutputOptions & { name: string }) => {
      const { rest, subscriptionId } = await session();
      emit(await rest.get(groupsPath(subscriptionId, options.name)), options);
    });

  withOutput(group.command('list').description('List resource groups.'))
    .addHelpText('after', examples('mlspace group list -o table'))
    .action(async (options: OutputOptions) => {
      const { rest, subscriptionId } = await session();
      emit(await rest.list(groupsPath(subscriptionId)), options);
    });

  group
    .command('delete')
    .description('Delete a resource group and everything in it (workspaces, storage accounts and their data).')
    .requiredOption('-n, --name <name>', 'name of the resource group')
    .option('-y, --yes', 'do not prompt for confirmation')
    .addHelpText('after', examples('mlspace group delete -n myresourcegroup --yes'))
    .action(async (options: { name: string; yes?: boolean }) => {
      const { rest, subscriptionId } = await session();
      await confirm(`Are you sure you want to delete resource group '${options.name}' and all its resources?`, options.yes);
      await rest.delete(groupsPath(subscriptionId, options.name));
    });
}
