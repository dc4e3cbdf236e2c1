import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { examples } from './commands/common.js';
import { describeError, isCommanderError } from './errors.js';
import { withOutput } from './output/options.js';

type Register = (parent: Command) => void;

/**
 * The command trees and the modules that register them. Only the tree a
 * command line names is loaded: a command should not pay for loading every
 * other one. Help, and a name no tree has, load them all, so that commander
 * lists every command and suggests the nearest.
 */
const TREES: { parent?: 'storage' | 'ml'; names: string[]; load: () => Promise<Register> }[] = [
  { names: ['up'], load: async () => (await import('./up.js')).registerUp },
  { names: ['login', 'logout', 'account'], load: async () => (await import('./commands/login.js')).registerLogin },
  { names: ['ad'], load: async () => (await import('./ad.js')).registerAd },
  { names: ['role'], load: async () => (await import('./commands/role.js')).registerRole },
  { names: ['group'], load: async () => (await import('./commands/group.js')).registerGroup },
  { parent: 'storage', names: ['account'], load: async () => (await import('./commands/storage-account.js')).registerStorageAccount },
  { parent: 'storage', names: ['container', 'share', 'blob', 'file', 'directory'], load: async () => (await import('./commands/storage-data/index.js')).registerStorageData },
  { parent: 'ml', names: ['workspace'], load: async () => (await import('./commands/ml-workspace.js')).registerMlWorkspace },
  { parent: 'ml', names: ['datastore'], load: async () => (await import('./commands/ml-datastore.js')).registerMlDatastore },
  { parent: 'ml', names: ['model'], load: async () => (await import('./commands/ml-model.js')).registerMlModel },
  { parent: 'ml', names: ['data'], load: async () => (await import('./commands/ml-data.js')).registerMlData },
  { parent: 'ml', names: ['job'], load: async () => (await import('./commands/ml-job.js')).registerMlJob },
  { names: ['monitor'], load: async () => (await import('./commands/monitor.js')).registerMonitor },
  { names: ['console'], load: async () => (await import('./commands/console.js')).registerConsole },
  { names: ['az-setup', 'az-teardown'], load: async () => (await import('./commands/az-setup.js')).registerAzSetup },
];

/** The trees the command line names (by its first words), or all of them. */
function treesFor(argv: string[]): typeof TREES {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const named = TREES.filter((tree) => (tree.parent ? words[0] === tree.parent && tree.names.includes(words[1]!) : tree.names.includes(words[0]!)));
  return named.length > 0 ? named : TREES;
}

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
/** The command groups that hold trees, made when a tree in them is registered. */
const GROUPS = {
  storage: ['Manage storage accounts and their keys, and the data in them: containers, blobs, shares, files.', 'mlspace storage account list -o table'],
  ml: ['Manage Azure ML workspaces, datastores, models, data assets and jobs.', 'mlspace ml workspace list -o table'],
} as const;
const groups: Partial<Record<keyof typeof GROUPS, Command>> = {};
const wanted = treesFor(process.argv.slice(2));
// Loaded at once, registered in TREES's order: help lists commands in the order they were added.
const registers = await Promise.all(wanted.map((tree) => tree.load()));
for (const [index, register] of registers.entries()) {
  const parent = wanted[index]!.parent;
  if (parent) groups[parent] ??= program.command(parent).description(GROUPS[parent][0]).addHelpText('after', examples(GROUPS[parent][1]));
  register(parent ? groups[parent]! : program);
}
program
  .command('version')
  .description("Print mlspace's version.")
  .action(() => {
    process.stdout.write(`${VERSION}\n`);
  });

// az accepts its global arguments on every command, including those that print nothing.
for (const command of leafCommands(program)) {
  if (!['up', 'az-setup', 'az-teardown', 'version', 'console'].includes(command.name()) && !command.options.some((option) => option.long === '--output')) withOutput(command);
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
