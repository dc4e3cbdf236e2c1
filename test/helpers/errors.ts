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
