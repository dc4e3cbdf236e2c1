import type { OperationAccess } from '../auth/types.js';

/** SAS requirements of Blob operations, named once so the table below reads at a glance. */
const access = (permissions: string, resourceType: OperationAccess['resourceType'], scope: OperationAccess['scope']): OperationAccess => ({
  permissions,
  resourceType,
  scope,
});

export const LIST_CONTAINERS = access('l', 's', 'service');
export const READ_SERVICE = access('r', 's', 'service');
export const WRITE_SERVICE = access('w', 's', 'service');
export const ACCOUNT_INFO = access('racwdl', 's', 'object');
export const CREATE_CONTAINER = access('cw', 'c', 'service');
export const DELETE_CONTAINER = access('d', 'c', 'service');
export const READ_CONTAINER = access('r', 'c', 'container');
export const WRITE_CONTAINER = access('w', 'c', 'service');
export const LIST_BLOBS = access('l', 'c', 'container');
export const READ_BLOB = access('r', 'o', 'object');
export const CREATE_BLOB = access('cw', 'o', 'object');
export const WRITE_BLOB = access('w', 'o', 'object');
export const DELETE_BLOB = access('d', 'o', 'object');
/** Delete Blob of a previous version (?versionid=): delete version (x), which d does not grant, as in Azure. */
export const DELETE_VERSION = access('x', 'o', 'object');
/** Append Block: add (a), or write (w). */
export const APPEND = access('aw', 'o', 'object');
export const TAGS = access('t', 'o', 'object');
export const FIND_IN_ACCOUNT = access('f', 's', 'service');
export const FIND_IN_CONTAINER = access('f', 'c', 'container');
/** A batch itself; each of its sub-requests is authorized on its own. */
export const BATCH_IN_ACCOUNT = access('dw', 's', 'service');
export const BATCH_IN_CONTAINER = access('dw', 'c', 'container');
