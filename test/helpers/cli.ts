import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlspace.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the mlspace CLI as a user would; resolves with its exit code and output. `env` adds to the test's environment. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The CLI bound to one MLSPACE_HOME (where its login and the local server's data directory are). */
export function cliIn(home: string): (...args: string[]) => Promise<CliResult> {
  return (...args) => runCli(args, { env: { MLSPACE_HOME: home } });
}
