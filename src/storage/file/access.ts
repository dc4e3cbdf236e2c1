import type { OperationAccess, RbacNeed } from '../auth/types.js';

const FILE_SERVICE = 'Microsoft.Storage/storageAccounts/fileServices';
/** Shares themselves are `fileServices/shares/*` actions; their files `fileServices/fileshares/files/*` data actions, as Azure spells them. */
const SHARES = `${FILE_SERVICE}/shares`;
const FILES = `${FILE_SERVICE}/fileshares/files`;
const action = (name: string): RbacNeed => ({ action: name, data: false });
/** With a token, Azure Files takes only backup intent (x-ms-file-request-intent: backup): every file operation needs its backup semantics too. */
const READ_DATA = [`${FILES}/read`, `${FILE_SERVICE}/readFileBackupSemantics/action`].map((name) => ({ action: name, data: true }));
/** Writes and deletes alike: Azure's table asks files/write for Delete File and Delete Directory. */
const WRITE_DATA = [`${FILES}/write`, `${FILE_SERVICE}/writeFileBackupSemantics/action`].map((name) => ({ action: name, data: true }));

/**
 * What File operations need. From a SAS: a share SAS (sr=s) grants within its
 * share, a file SAS (sr=f) only the file it names; directories need a share
 * SAS. For an account SAS, listing is container-level (srt=c) and directories
 * and files are objects (srt=o), as Azure documents. From a bearer token: the
 * RBAC permission (shares themselves are actions, their content data actions).
 */
const access = (permissions: string, resourceType: OperationAccess['resourceType'], scope: OperationAccess['scope'], rbac: RbacNeed[]): OperationAccess => ({
  permissions,
  resourceType,
  scope,
  rbac,
});

export const LIST_SHARES = access('l', 's', 'service', [action(`${SHARES}/read`)]);
export const READ_SERVICE = access('r', 's', 'service', [action(`${FILE_SERVICE}/read`)]);
export const WRITE_SERVICE = access('w', 's', 'service', [action(`${FILE_SERVICE}/write`)]);
export const CREATE_SHARE = access('cw', 'c', 'service', [action(`${SHARES}/write`)]);
export const DELETE_SHARE = access('d', 'c', 'service', [action(`${SHARES}/delete`)]);
export const READ_SHARE = access('r', 'c', 'container', [action(`${SHARES}/read`)]);
export const WRITE_SHARE = access('w', 'c', 'service', [action(`${SHARES}/write`)]);
export const READ_DIRECTORY = access('r', 'o', 'container', READ_DATA);
export const CREATE_DIRECTORY = access('cw', 'o', 'container', WRITE_DATA);
export const WRITE_DIRECTORY = access('w', 'o', 'container', WRITE_DATA);
export const DELETE_DIRECTORY = access('d', 'o', 'container', WRITE_DATA);
export const LIST_DIRECTORY = access('l', 'c', 'container', READ_DATA);
export const READ_FILE = access('r', 'o', 'object', READ_DATA);
export const CREATE_FILE = access('cw', 'o', 'object', WRITE_DATA);
export const WRITE_FILE = access('w', 'o', 'object', WRITE_DATA);
export const DELETE_FILE = access('d', 'o', 'object', WRITE_DATA);
