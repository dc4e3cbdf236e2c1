import { Command } from 'commander';
import { registerAd } from './ad.js';
import { registerUp } from './up.js';

const program = new Command('mlspace')
  .description('Self-hosted, Azure-compatible ML workspace and storage service.')
  .showHelpAfterError();
registerUp(program);
registerAd(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`mlspace: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
