import { StorageError } from '../http/errors.js';

const CONTAINER_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const SPECIAL_CONTAINERS = new Set(['$root', '$web', '$logs']);

/** 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. */
export function isValidContainerName(name: string): boolean {
  return CONTAINER_NAME.test(name);
}

export function checkContainerName(name: string): void {
  if (!isValidContainerName(name) && !SPECIAL_CONTAINERS.has(name)) {
    throw new StorageError(
      400,
      'InvalidResourceName',
      `The specified resource name contains invalid characters: container name '${name}' must be 3-63 characters of lowercase letters, digits and single hyphens, starting and ending with a letter or digit.`,
    );
  }
}

export function checkBlobName(name: string): void {
  if (name.length > 1024) {
    throw new StorageError(400, 'InvalidResourceName', 'The specified resource name length is not within the permissible limits: a blob name must be 1-1024 characters.');
  }
  // Unpaired surrogates cannot get here: the URL's percent-decoding refuses them.
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new StorageError(400, 'InvalidResourceName', 'The specified resource name contains invalid characters: blob names cannot contain control characters.');
  }
  let segments = 1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 47) segments++;
  if (segments > 254) {
    throw new StorageError(400, 'InvalidResourceName', 'The specified resource name has too many path segments: a blob name may have at most 254 segments separated by "/".');
  }
}
