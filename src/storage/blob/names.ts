import { StorageError } from '../http/errors.js';
import { isContainerOrShareName } from '../http/resource-names.js';

const SPECIAL_CONTAINERS = new Set(['$root', '$web', '$logs']);

export function checkContainerName(name: string): void {
  if (!isContainerOrShareName(name) && !SPECIAL_CONTAINERS.has(name)) {
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
