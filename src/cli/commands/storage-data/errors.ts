import { CliError, describeError } from '../../errors.js';
import type { StorageAccess } from './auth.js';

interface RestLike {
  statusCode?: number;
  code?: string;
  message?: string;
  details?: { errorCode?: string };
}

/** Words for an answer without a body (a HEAD request's), whose error code is only in a header. */
const BODYLESS: Record<number, string> = {
  403: 'The service refused the request.',
  404: 'The specified resource does not exist.',
  409: 'The request conflicts with the resource as it is.',
};

/**
 * The service's own words: its error code and the first line of its message
 * (the lines after it are the request id and the time). Other errors (a file
 * that cannot be read) are described as everywhere else in the CLI.
 */
export function serviceAnswer(error: unknown): string {
  const rest = error as RestLike | undefined;
  if (typeof rest?.statusCode !== 'number') return describeError(error).message;
  const code = rest.code ?? rest.details?.errorCode;
  const first = (rest.message ?? '').split('\n')[0]!.trim();
  const text = first || BODYLESS[rest.statusCode] || `The service answered ${rest.statusCode}.`;
  return code && code !== 'RestError' ? `(${code}) ${text}` : text;
}

/** What a refused credential may mean, and what to do; '' for any other error. */
export function refusalHint(error: unknown, access: StorageAccess): string {
  const rest = error as RestLike | undefined;
  if (rest?.statusCode !== 403 || (rest.code ?? rest.details?.errorCode) !== 'AuthenticationFailed') return '';
  if (access.credential.type === 'Sas') return ' The SAS token was refused: it may have expired, or been signed with a key that was regenerated since.';
  if (access.credential.type !== 'AccountKey') return '';
  if (access.source === 'login') return " The account key was refused: it may have been regenerated while the command ran; run it again to look up the current key.";
  return ` The account key was refused: it may have been regenerated; 'mlspace storage account keys list -n ${access.account} -g <group>' shows the current keys.`;
}

/** An error of a storage request as one line with az's exit code, and the hint when the credential was refused. */
export function storageFailure(error: unknown, access: StorageAccess): CliError {
  if (error instanceof CliError) return error;
  return new CliError(`${serviceAnswer(error)}${refusalHint(error, access)}`, describeError(error).exitCode as 1 | 2 | 3);
}

/** Runs a command's storage requests, turning a failure into its one-line error. */
export async function explained<T>(access: StorageAccess, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storageFailure(error, access);
  }
}

/** Whether the service answered 404 (a missing blob, file, container or share). */
export function isNotFound(error: unknown): boolean {
  return (error as RestLike | undefined)?.statusCode === 404;
}
