import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerAd } from './ad.js';
import { registerAzSetup } from './commands/az-setup.js';
import { examples } from './commands/common.js';
import { registerGroup } from './commands/group.js';
import { registerLogin } from './commands/login.js';
import { registerMlDatastore } from './commands/ml-datastore.js';
import { registerMlModel } from './commands/ml-model.js';
import { registerMlWorkspace } from './commands/ml-workspace.js';
import { registerMonitor } from './commands/monitor.js';
import { registerStorageAccount } from './commands/storage-account.js';
import { registerStorageData } from './commands/storage-data.js';
import { describeError, isCommanderError } from './errors.js';
import { withOutput } from './output/options.js';
import { registerUp } from './up.js';

// `mlspace ... | head` closes stdout early; that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** The package's version, from the package.json beside dist/. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command('mlspace')
  .description('Self-hosted, Azure-compatible ML workspace and storage service, and its az-style CLI.')
  // Usage errors throw instead of exiting, so they end like every other error: one line, az's exit code 2.
  .exitOverride()
  .addHelpText(
    'after',
    examples(
      'mlspace up',
      'mlspace login',
      'mlspace storage account keys renew -g myresourcegroup -n mystorageaccount --key primary',
      'mlspace ml workspace sync-keys -w myworkspace -g myresourcegroup',
      'mlspace ml datastore create --file datastore.yml -w myworkspace -g myresourcegroup',
    ) +
      '\n\nEvery command takes --output json|jsonc|table|tsv|yaml|none and --query JMESPATH, and --help.' +
      "\n'mlspace --version' (or 'mlspace version') prints the version.",
  );
registerUp(program);
registerLogin(program);
registerAd(program);
registerGroup(program);
const storage = program
  .command('storage')
  .description('Manage storage accounts, their keys, containers and shares.')
  .addHelpText('after', examples('mlspace storage account list -o table'));
registerStorageAccount(storage);
registerStorageData(storage);
const ml = program
  .command('ml')
  .description('Manage Azure ML workspaces, datastores and models.')
  .addHelpText('after', examples('mlspace ml workspace list -o table'));
registerMlWorkspace(ml);
registerMlDatastore(ml);
registerMlModel(ml);
registerMonitor(program);
registerAzSetup(program);
program
  .command('version')
  .description("Print mlspace's version.")
  .action(() => {
    process.stdout.write(`${VERSION}\n`);
  });

// az accepts its global arguments on every command, including those that print nothing.
for (const command of leafCommands(program)) {
  if (!['up', 'az-setup', 'az-teardown', 'version'].includes(command.name()) && !command.options.some((option) => option.long === '--output')) withOutput(command);
}

function leafCommands(command: Command): Command[] {
  return command.commands.length === 0 ? [command] : command.commands.flatMap(leafCommands);
}

// Not commander's .version(): a program-level --version would take subcommands' own (ml model create --version 2).
if (process.argv.length === 3 && process.argv[2] === '--version') {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (isCommanderError(error)) {
    // Commander has printed its message (or the help) already.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  const { message, exitCode } = describeError(error);
  process.stderr.write(`ERROR: ${message}\n`);
  // Exit now: a refused upload can leave a half-sent request whose socket would keep the process alive.
  process.exit(exitCode);
});
