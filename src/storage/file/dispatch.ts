import type { KeyRing } from '../auth/keyring.js';
import { StorageError, errors } from '../http/errors.js';
import type { StorageOperation } from '../http/listener.js';
import * as A from './access.js';
import { abortCopy, makeCopyFile } from './copy.js';
import type { FileRequest } from './deps.js';
import { createDirectory, deleteDirectory, getDirectoryProperties, setDirectoryMetadata, setDirectoryProperties } from './directories.js';
import { fileErrors } from './file-errors.js';
import { createFile, deleteFile, getFile, getFileMetadata, getFileProperties, setFileMetadata, setFileProperties } from './files.js';
import { listFilesAndDirectories } from './listing.js';
import { createPermission, getPermission } from './permissions.js';
import { listRanges, putRange } from './ranges.js';
import { getServiceProperties, listShares, setServiceProperties } from './service.js';
import { createShare, deleteShare, getShareAcl, getShareProperties, getShareStats, setShareAcl, setShareMetadata, setShareProperties } from './shares.js';

export type FileOperation = StorageOperation<FileRequest>;

type Level = 'service' | 'share' | 'directory' | 'file';
const op = (name: string, access: FileOperation['access'], handler: FileOperation['handler']): FileOperation => ({ name, access, handler });

/**
 * The File service's operations, keyed by `level method comp` as Azure selects
 * them (the level comes from restype and the path). HEAD is looked up as itself
 * first, then as GET.
 */
export function fileOperations(keyring: KeyRing): Map<string, FileOperation> {
  return new Map<string, FileOperation>([
    ['service GET list', op('ListShares', A.LIST_SHARES, listShares)],
    ['service GET properties', op('GetFileServiceProperties', A.READ_SERVICE, getServiceProperties)],
    ['service PUT properties', op('SetFileServiceProperties', A.WRITE_SERVICE, setServiceProperties)],
    ['share PUT ', op('CreateShare', A.CREATE_SHARE, createShare)],
    ['share DELETE ', op('DeleteShare', A.DELETE_SHARE, deleteShare)],
    ['share GET ', op('GetShareProperties', A.READ_SHARE, getShareProperties)],
    ['share GET metadata', op('GetShareMetadata', A.READ_SHARE, getShareProperties)],
    ['share PUT metadata', op('SetShareMetadata', A.WRITE_SHARE, setShareMetadata)],
    ['share PUT properties', op('SetShareProperties', A.WRITE_SHARE, setShareProperties)],
    ['share GET stats', op('GetShareStats', A.READ_SHARE, getShareStats)],
    ['share GET acl', op('GetShareACL', A.READ_SHARE, getShareAcl)],
    ['share PUT acl', op('SetShareACL', A.WRITE_SHARE, setShareAcl)],
    ['share PUT filepermission', op('CreatePermission', A.WRITE_SHARE, createPermission)],
    ['share GET filepermission', op('GetPermission', A.READ_SHARE, getPermission)],
    ['directory PUT ', op('CreateDirectory', A.CREATE_DIRECTORY, createDirectory)],
    ['directory DELETE ', op('DeleteDirectory', A.DELETE_DIRECTORY, deleteDirectory)],
    ['directory GET ', op('GetDirectoryProperties', A.READ_DIRECTORY, getDirectoryProperties)],
    ['directory GET metadata', op('GetDirectoryMetadata', A.READ_DIRECTORY, getDirectoryProperties)],
    ['directory PUT metadata', op('SetDirectoryMetadata', A.WRITE_DIRECTORY, setDirectoryMetadata)],
    ['directory PUT properties', op('SetDirectoryProperties', A.WRITE_DIRECTORY, setDirectoryProperties)],
    ['directory GET list', op('ListDirectoriesAndFiles', A.LIST_DIRECTORY, listFilesAndDirectories)],
    ['file PUT ', op('CreateFile', A.CREATE_FILE, createFile)],
    ['file PUT copy-source', op('CopyFile', A.CREATE_FILE, makeCopyFile(keyring))],
    ['file PUT copy', op('AbortCopyFile', A.WRITE_FILE, abortCopy)],
    ['file GET ', op('GetFile', A.READ_FILE, getFile)],
    ['file HEAD ', op('GetFileProperties', A.READ_FILE, getFileProperties)],
    ['file DELETE ', op('DeleteFile', A.DELETE_FILE, deleteFile)],
    ['file PUT properties', op('SetFileProperties', A.WRITE_FILE, setFileProperties)],
    ['file GET metadata', op('GetFileMetadata', A.READ_FILE, getFileMetadata)],
    ['file PUT metadata', op('SetFileMetadata', A.WRITE_FILE, setFileMetadata)],
    ['file PUT range', op('PutRange', A.WRITE_FILE, putRange)],
    ['file GET rangelist', op('ListRanges', A.READ_FILE, listRanges)],
  ]);
}

function levelOf(ctx: FileRequest): Level | undefined {
  const restype = ctx.query.get('restype') ?? '';
  if (ctx.container === '') return restype === '' || restype === 'service' ? 'service' : undefined;
  if (restype === 'share') return ctx.path === '' ? 'share' : undefined;
  if (restype === 'directory') return 'directory';
  return restype === '' && ctx.path !== '' ? 'file' : undefined;
}

export function selectOperation(operations: Map<string, FileOperation>, ctx: FileRequest): FileOperation {
  refuseUnsupportedFeatures(ctx);
  const comp = ctx.query.get('comp') ?? '';
  const method = ctx.req.method ?? 'GET';
  const level = levelOf(ctx);
  // Copy File is a Create File distinguished only by its header.
  const selector = level === 'file' && method === 'PUT' && comp === '' && ctx.req.headers['x-ms-copy-source'] !== undefined ? 'copy-source' : comp;
  const found =
    level &&
    (operations.get(`${level} ${method} ${selector}`) ?? (method === 'HEAD' ? operations.get(`${level} GET ${selector}`) : undefined));
  if (found) return found;
  const restype = ctx.query.get('restype');
  throw new StorageError(
    400,
    'UnsupportedOperation',
    `mlspace does not support ${method} on ${ctx.container ? (ctx.path ? `'${ctx.path}'` : `share '${ctx.container}'`) : 'the service'}` +
      `${restype ? ` with restype=${restype}` : ''}${comp ? ` and comp=${comp}` : ''}. ` +
      'Check the method and the restype/comp query parameters (restype=share for shares, restype=directory for directories, none for files).',
  );
}

/** Features this server does not have, refused up front with a message rather than half-served. */
function refuseUnsupportedFeatures(ctx: FileRequest): void {
  if (ctx.query.has('sharesnapshot')) throw errors.invalidQuery('sharesnapshot', 'share snapshots are not supported by this server.');
  if (ctx.req.headers['x-ms-structured-body'] !== undefined) {
    throw errors.invalidHeader('x-ms-structured-body', 'structured message (CRC64) transfers are not supported by this server; leave contentChecksumAlgorithm unset.');
  }
  // There are never leases here, so a lease id names one that is not present, as Azure answers.
  if (ctx.req.headers['x-ms-lease-id'] !== undefined) throw fileErrors.leaseNotPresent();
}
