import { StorageError } from '../http/errors.js';
import { isContainerOrShareName } from '../http/resource-names.js';

const SPECIAL_CONTAINERS = new Set(['$root', '$web', '$logs']);

const RULE = 'a container name is 3-63 characters of lowercase letters, digits and single hyphens, starting and ending with a letter or digit.';

/** Azure answers a container name of the wrong length with OutOfRangeInput, and one of the wrong characters with InvalidResourceName. */
export function checkContainerName(name: string): void {
  if (isContainerOrShareName(name) || SPECIAL_CONTAINERS.has(name)) return;
  if (name.length < 3 || name.length > 63) {
    throw new StorageError(400, 'OutOfRangeInput', `The specified resource name length is not within the permissible limits: '${name.slice(0, 70)}' has ${name.length} characters; ${RULE}`);
  }
  // "specifed" is Azure's own spelling of this message.
  throw new StorageError(400, 'InvalidResourceName', `The specifed resource name contains invalid characters: '${name}'; ${RULE}`);
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
