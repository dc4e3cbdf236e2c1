import { CommanderError } from 'commander';
import { MlspaceError } from '../sdk/errors.js';

/** A failure the CLI reports as one line, with az's exit codes: 1 an error, 2 bad usage, 3 a resource not found. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
  }
}

interface RestLike {
  statusCode?: number;
  code?: string;
  message: string;
  details?: { errorCode?: string };
}

/** One line, whatever the error: the CLI never prints a stack trace. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The message and exit code to end a command with. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: oneLine(error.message), exitCode: error.exitCode };
  if (error instanceof MlspaceError) return { message: oneLine(error.message), exitCode: error.code === 'NotFound' ? 3 : 1 };
  const candidate = error as RestLike | undefined;
  if (candidate && typeof candidate.statusCode === 'number') {
    const code = candidate.code ?? candidate.details?.errorCode;
    const text = candidate.message ? oneLine(candidate.message) : `the service answered ${candidate.statusCode}`;
    return { message: code ? `(${code}) ${text}` : text, exitCode: candidate.statusCode === 404 ? 3 : 1 };
  }
  if (candidate?.code === 'ECONNREFUSED' || candidate?.code === 'ENOTFOUND') {
    return { message: `Cannot reach the server: ${oneLine(candidate.message)}. Is it running (mlspace up)?`, exitCode: 1 };
  }
  return { message: oneLine(error instanceof Error ? error.message : String(error)), exitCode: 1 };
}

export function isCommanderError(error: unknown): error is CommanderError {
  return error instanceof CommanderError;
}
