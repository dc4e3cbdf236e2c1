import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { examples, session } from './common.js';

/** Opens a URL in the desktop's browser, when there is a desktop; a failure to do so leaves the printed link. */
function openInBrowser(url: string): void {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY && process.platform === 'linux') return;
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description('Print (and on a desktop, open) a one-time link that signs you in to the web console as the logged-in identity.')
    .option('--no-browser', 'only print the link')
    .addHelpText(
      'after',
      `
The link works once, within two minutes; the session it starts lasts eight hours.
The console acts with your role: a Reader sees no key values and no buttons that would fail.
Trust the server's CA in the browser (caFile in endpoints.json), or accept its certificate once
(its storage browser also calls the Blob and File TLS ports, which serve the same certificate).
${examples('mlspace console', 'mlspace console --no-browser')}`,
    )
    .action(async (options: { browser: boolean }) => {
      const { rest } = await session();
      const { code } = await rest.post<{ code: string }>('/console/api/sign-in-codes');
      const url = `${new URL('/console/', rest.endpoint).href}#code=${code}`;
      process.stdout.write(`Open the mlspace console (the link works once, for two minutes):\n\n  ${url}\n\n`);
      if (options.browser) openInBrowser(url);
    });
}
