import readline from 'node:readline/promises';
import { CliError } from './errors.js';

/** az's confirmation for destructive commands: --yes skips it, and without a terminal to ask on it is required. */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new CliError(`${question} Unable to prompt for confirmation as no tty is available: add --yes.`, 2);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} (y/n): `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Operation cancelled.');
  } finally {
    rl.close();
  }
}
