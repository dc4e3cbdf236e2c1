import { Command } from 'commander';
import { registerAd } from './ad.js';
import { registerGroup } from './commands/group.js';
import { registerLogin } from './commands/login.js';
import { registerMlDatastore } from './commands/ml-datastore.js';
import { registerMlModel } from './commands/ml-model.js';
import { registerMlWorkspace } from './commands/ml-workspace.js';
import { registerStorageAccount } from './commands/storage-account.js';
import { registerStorageData } from './commands/storage-data.js';
import { describeError, isCommanderError } from './errors.js';
import { registerUp } from './up.js';

const program = new Command('mlspace')
  .description('Self-hosted, Azure-compatible ML workspace and storage service, and its az-style CLI.')
  // Usage errors throw instead of exiting, so they end like every other error: one line, az's exit code 2.
  .exitOverride();
registerUp(program);
registerLogin(program);
registerAd(program);
registerGroup(program);
const storage = program.command('storage').description('Manage storage accounts, their keys, containers and shares.');
registerStorageAccount(storage);
registerStorageData(storage);
const ml = program.command('ml').description('Manage Azure ML workspaces, datastores and models.');
registerMlWorkspace(ml);
registerMlDatastore(ml);
registerMlModel(ml);

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
