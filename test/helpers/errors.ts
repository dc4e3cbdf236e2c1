import type { RestError } from '@azure/storage-blob';

/** The error a request fails with; fails the test if the request succeeds. */
export async function errorOf(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (error) {
    return error as RestError;
  }
  throw new Error('expected the request to fail');
}

/** A storage error's status and x-ms-error-code, side by side, for one readable assertion. */
export function statusAndCode(error: { details?: unknown; statusCode?: number }): [number | undefined, string | undefined] {
  return [error.statusCode, (error.details as { errorCode?: string } | undefined)?.errorCode];
}
