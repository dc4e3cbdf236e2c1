import type { OperationAccess } from '../auth/types.js';

/**
 * SAS requirements of File operations. A share SAS (sr=s) grants within its
 * share, a file SAS (sr=f) only the file it names; directories need a share
 * SAS. For an account SAS, listing is container-level (srt=c) and directories
 * and files are objects (srt=o), as Azure documents.
 */
const access = (permissions: string, resourceType: OperationAccess['resourceType'], scope: OperationAccess['scope']): OperationAccess => ({
  permissions,
  resourceType,
  scope,
});

export const LIST_SHARES = access('l', 's', 'service');
export const READ_SERVICE = access('r', 's', 'service');
export const WRITE_SERVICE = access('w', 's', 'service');
export const CREATE_SHARE = access('cw', 'c', 'service');
export const DELETE_SHARE = access('d', 'c', 'service');
export const READ_SHARE = access('r', 'c', 'container');
export const WRITE_SHARE = access('w', 'c', 'service');
export const READ_DIRECTORY = access('r', 'o', 'container');
export const CREATE_DIRECTORY = access('cw', 'o', 'container');
export const WRITE_DIRECTORY = access('w', 'o', 'container');
export const DELETE_DIRECTORY = access('d', 'o', 'container');
export const LIST_DIRECTORY = access('l', 'c', 'container');
export const READ_FILE = access('r', 'o', 'object');
export const CREATE_FILE = access('cw', 'o', 'object');
export const WRITE_FILE = access('w', 'o', 'object');
export const DELETE_FILE = access('d', 'o', 'object');
