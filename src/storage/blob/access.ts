import type { OperationAccess, RbacNeed } from '../auth/types.js';

const BLOB_SERVICE = 'Microsoft.Storage/storageAccounts/blobServices';
const CONTAINERS = `${BLOB_SERVICE}/containers`;
const action = (name: string): RbacNeed => ({ action: name, data: false });
const dataAction = (name: string): RbacNeed => ({ action: `${CONTAINERS}/blobs/${name}`, data: true });

/**
 * What Blob operations need, named once so the table below reads at a glance:
 * from a SAS, its permission letters, resource type and scope; from a bearer
 * token, the RBAC permission (Azure's "permissions for calling data operations").
 */
const access = (permissions: string, resourceType: OperationAccess['resourceType'], scope: OperationAccess['scope'], ...rbac: RbacNeed[]): OperationAccess => ({
  permissions,
  resourceType,
  scope,
  rbac,
});

export const LIST_CONTAINERS = access('l', 's', 'service', action(`${CONTAINERS}/read`));
export const READ_SERVICE = access('r', 's', 'service', action(`${BLOB_SERVICE}/read`));
export const WRITE_SERVICE = access('w', 's', 'service', action(`${BLOB_SERVICE}/write`));
export const ACCOUNT_INFO = access('racwdl', 's', 'object', action(`${BLOB_SERVICE}/getInfo/action`));
export const CREATE_CONTAINER = access('cw', 'c', 'service', action(`${CONTAINERS}/write`));
export const DELETE_CONTAINER = access('d', 'c', 'service', action(`${CONTAINERS}/delete`));
export const READ_CONTAINER = access('r', 'c', 'container', action(`${CONTAINERS}/read`));
export const WRITE_CONTAINER = access('w', 'c', 'service', action(`${CONTAINERS}/write`));
export const READ_CONTAINER_ACL = access('w', 'c', 'service', action(`${CONTAINERS}/getAcl/action`));
export const WRITE_CONTAINER_ACL = access('w', 'c', 'service', action(`${CONTAINERS}/setAcl/action`));
export const LIST_BLOBS = access('l', 'c', 'container', dataAction('read'));
export const READ_BLOB = access('r', 'o', 'object', dataAction('read'));
export const CREATE_BLOB = access('cw', 'o', 'object', dataAction('write'));
export const WRITE_BLOB = access('w', 'o', 'object', dataAction('write'));
export const DELETE_BLOB = access('d', 'o', 'object', dataAction('delete'));
/** Delete Blob of a previous version (?versionid=): delete version (x), which d does not grant, as in Azure. */
export const DELETE_VERSION = access('x', 'o', 'object', dataAction('deleteBlobVersion/action'));
/** Undelete Blob: a container-level permission, as Azure's table has it. */
export const UNDELETE_BLOB = access('w', 'o', 'object', action(`${CONTAINERS}/write`));
/** Append Block: add (a), or write (w). */
export const APPEND = access('aw', 'o', 'object', dataAction('add/action'));
export const READ_TAGS = access('t', 'o', 'object', dataAction('tags/read'));
export const WRITE_TAGS = access('t', 'o', 'object', dataAction('tags/write'));
export const FIND_IN_ACCOUNT = access('f', 's', 'service', dataAction('filter/action'));
export const FIND_IN_CONTAINER = access('f', 'c', 'container', dataAction('filter/action'));
/** Get User Delegation Key: bearer tokens only (a SAS or key never reaches it). */
export const USER_DELEGATION_KEY = access('', 's', 'service', action(`${BLOB_SERVICE}/generateUserDelegationKey/action`));
/** A batch itself; each of its sub-requests is authorized on its own. */
export const BATCH_IN_ACCOUNT = access('dw', 's', 'service', action(`${CONTAINERS}/write`));
export const BATCH_IN_CONTAINER = access('dw', 'c', 'container', action(`${CONTAINERS}/write`));
