import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OperationAccess } from '../auth/types.js';
import type { KeyRing } from '../auth/keyring.js';
import { StorageError } from '../http/errors.js';
import * as A from './access.js';
import { appendBlock, createAppendBlob, makeAppendBlockFromUrl, sealBlob } from './append.js';
import { makeBlobBatch } from './batch.js';
import { getBlob, getBlobMetadata, getBlobProperties, deleteBlob, leaseBlob, putBlob, setBlobMetadata, setBlobProperties } from './blobs.js';
import { getBlockList, makePutBlockFromUrl, putBlock, putBlockList } from './blocks.js';
import { createContainer, deleteContainer, getContainerAcl, getContainerProperties, leaseContainer, setContainerAcl, setContainerMetadata } from './containers.js';
import { renameContainer, restoreContainer } from './container-moves.js';
import { abortCopyBlob, makeCopyBlob, makePutBlobFromUrl } from './copy.js';
import type { BlobHandler, BlobRequest } from './deps.js';
import { listBlobs } from './listing.js';
import { createPageBlob, getPageRanges, makeIncrementalCopy, makePutPage, setPageBlobProperties, setsPageProperties } from './pages.js';
import { snapshotBlob, snapshotErrors } from './snapshots.js';
import { queryBlob } from './query/query-blob.js';
import { setBlobTier } from './tiers.js';
import { undeleteBlob } from './versions.js';
import { findBlobsByTags, getBlobTags, setBlobTags } from './tags.js';
import { getAccountInfo, getServiceProperties, getServiceStats, listContainers, setServiceProperties } from './service.js';
import { makeGetUserDelegationKey } from './user-delegation-key.js';

export interface BlobOperation {
  name: string;
  access: OperationAccess;
  handler: BlobHandler;
  /** Anonymous callers may run it when the container's public access level is at least this. */
  publicRead?: 'blob' | 'container';
  /** It may name a snapshot (`?snapshot=`) or a previous version (`?versionid=`); every other blob operation refuses to. */
  onSnapshot?: boolean;
}

type Level = 'service' | 'container' | 'blob';
const op = (name: string, access: OperationAccess, handler: BlobHandler, options: Pick<BlobOperation, 'publicRead' | 'onSnapshot'> = {}): BlobOperation => ({
  name,
  access,
  handler,
  ...options,
});

/**
 * The Blob service's operations, keyed by `level method restype comp` as Azure
 * selects them. HEAD is looked up as itself first, then as GET. A batch runs its
 * sub-requests through `serviceListener`, the service's whole pipeline.
 */
export function blobOperations(keyring: KeyRing, serviceListener: () => (req: IncomingMessage, res: ServerResponse) => void): Map<string, BlobOperation> {
  const batch = makeBlobBatch(serviceListener);
  return new Map<string, BlobOperation>([
    ['service GET  list', op('ListContainers', A.LIST_CONTAINERS, listContainers)],
    ['service GET service properties', op('GetServiceProperties', A.READ_SERVICE, getServiceProperties)],
    ['service PUT service properties', op('SetServiceProperties', A.WRITE_SERVICE, setServiceProperties)],
    ['service GET service stats', op('GetServiceStats', A.READ_SERVICE, getServiceStats)],
    ['service POST service userdelegationkey', op('GetUserDelegationKey', A.USER_DELEGATION_KEY, makeGetUserDelegationKey(keyring))],
    ['service GET  blobs', op('FindBlobsByTags', A.FIND_IN_ACCOUNT, findBlobsByTags)],
    ['service POST  batch', op('BlobBatch', A.BATCH_IN_ACCOUNT, batch)],
    // The SDK takes a path-style service URL (/account) for a container's and sends restype=container.
    ['service POST container batch', op('BlobBatch', A.BATCH_IN_ACCOUNT, batch)],
    ['container PUT container ', op('CreateContainer', A.CREATE_CONTAINER, createContainer)],
    ['container DELETE container ', op('DeleteContainer', A.DELETE_CONTAINER, deleteContainer)],
    ['container GET container ', op('GetContainerProperties', A.READ_CONTAINER, getContainerProperties, { publicRead: 'container' })],
    ['container GET container metadata', op('GetContainerMetadata', A.READ_CONTAINER, getContainerProperties, { publicRead: 'container' })],
    ['container PUT container metadata', op('SetContainerMetadata', A.WRITE_CONTAINER, setContainerMetadata)],
    ['container GET container acl', op('GetContainerACL', A.READ_CONTAINER_ACL, getContainerAcl)],
    ['container PUT container acl', op('SetContainerACL', A.WRITE_CONTAINER_ACL, setContainerAcl)],
    ['container GET container list', op('ListBlobs', A.LIST_BLOBS, listBlobs, { publicRead: 'container' })],
    ['container PUT container lease', op('LeaseContainer', A.WRITE_CONTAINER, leaseContainer)],
    ['container PUT container undelete', op('RestoreContainer', A.CREATE_CONTAINER, restoreContainer)],
    ['container PUT container rename', op('RenameContainer', A.CREATE_CONTAINER, renameContainer)],
    ['container GET container blobs', op('FindBlobsByTagsInContainer', A.FIND_IN_CONTAINER, findBlobsByTags)],
    ['container POST container batch', op('ContainerBatch', A.BATCH_IN_CONTAINER, batch)],
    ['blob PUT  ', op('PutBlob', A.CREATE_BLOB, putBlob)],
    ['blob PUT  append-blob', op('CreateAppendBlob', A.CREATE_BLOB, createAppendBlob)],
    ['blob PUT  appendblock', op('AppendBlock', A.APPEND, appendBlock)],
    ['blob PUT  appendblock-from-url', op('AppendBlockFromUrl', A.APPEND, makeAppendBlockFromUrl(keyring))],
    ['blob PUT  seal', op('SealBlob', A.WRITE_BLOB, sealBlob)],
    ['blob PUT  page-blob', op('CreatePageBlob', A.CREATE_BLOB, createPageBlob)],
    ['blob PUT  page', op('PutPage', A.WRITE_BLOB, makePutPage(keyring))],
    ['blob GET  pagelist', op('GetPageRanges', A.READ_BLOB, getPageRanges, { onSnapshot: true })],
    ['blob PUT  page-properties', op('SetBlobProperties', A.WRITE_BLOB, setPageBlobProperties)],
    ['blob PUT  incrementalcopy', op('IncrementalCopyBlob', A.CREATE_BLOB, makeIncrementalCopy(keyring))],
    ['blob PUT  copy-source', op('CopyBlob', A.CREATE_BLOB, makeCopyBlob(keyring))],
    ['blob PUT  copy', op('AbortCopyBlob', A.WRITE_BLOB, abortCopyBlob)],
    ['blob PUT  put-from-url', op('PutBlobFromUrl', A.CREATE_BLOB, makePutBlobFromUrl(keyring))],
    ['blob PUT  block-from-url', op('PutBlockFromUrl', A.CREATE_BLOB, makePutBlockFromUrl(keyring))],
    ['blob PUT  block', op('PutBlock', A.CREATE_BLOB, putBlock)],
    ['blob PUT  blocklist', op('PutBlockList', A.CREATE_BLOB, putBlockList)],
    ['blob GET  blocklist', op('GetBlockList', A.READ_BLOB, getBlockList, { publicRead: 'blob', onSnapshot: true })],
    ['blob GET  ', op('GetBlob', A.READ_BLOB, getBlob, { publicRead: 'blob', onSnapshot: true })],
    ['blob HEAD  ', op('GetBlobProperties', A.READ_BLOB, getBlobProperties, { publicRead: 'blob', onSnapshot: true })],
    ['blob PUT  properties', op('SetBlobProperties', A.WRITE_BLOB, setBlobProperties)],
    ['blob GET  metadata', op('GetBlobMetadata', A.READ_BLOB, getBlobMetadata, { publicRead: 'blob', onSnapshot: true })],
    ['blob PUT  metadata', op('SetBlobMetadata', A.WRITE_BLOB, setBlobMetadata)],
    ['blob DELETE  ', op('DeleteBlob', A.DELETE_BLOB, deleteBlob, { onSnapshot: true })],
    ['blob DELETE  version', op('DeleteBlobVersion', A.DELETE_VERSION, deleteBlob, { onSnapshot: true })],
    ['blob PUT  snapshot', op('SnapshotBlob', A.CREATE_BLOB, snapshotBlob)],
    ['blob PUT  undelete', op('UndeleteBlob', A.UNDELETE_BLOB, undeleteBlob)],
    ['blob PUT  lease', op('LeaseBlob', A.WRITE_BLOB, leaseBlob)],
    ['blob PUT  tier', op('SetBlobTier', A.WRITE_BLOB, setBlobTier)],
    ['blob PUT  tags', op('SetBlobTags', A.WRITE_TAGS, setBlobTags)],
    ['blob GET  tags', op('GetBlobTags', A.READ_TAGS, getBlobTags, { onSnapshot: true })],
    ['blob POST  query', op('QueryBlobContents', A.READ_BLOB, queryBlob, { onSnapshot: true })],
  ]);
}

const accountInfo = op('GetAccountInfo', A.ACCOUNT_INFO, getAccountInfo);

/** Features mlspace leaves out on purpose, each refused with a message that names it rather than as an unknown operation. */
const OMITTED_FEATURES: Record<string, string> = {
  immutabilitypolicies: 'Immutability policies (WORM retention) are not supported by mlspace',
  legalhold: 'Legal holds are not supported by mlspace',
};

/** Put Blob's selectors for the blob types created empty. */
const CREATED_TYPES = new Map([
  ['AppendBlob', 'append-blob'],
  ['PageBlob', 'page-blob'],
]);
/** Operations that take their content from x-ms-copy-source, by comp. */
const FROM_URL = new Map([
  ['block', 'block-from-url'],
  ['appendblock', 'appendblock-from-url'],
]);

/**
 * What tells PUT operations on a blob apart where comp alone does not: Put Blob
 * creates by x-ms-blob-type; Copy Blob, Put Blob From URL and the From-URL
 * block operations carry x-ms-copy-source; Set Blob Properties that resizes or
 * renumbers is a page blob's own.
 */
function putSelector(ctx: BlobRequest, comp: string): string {
  const headers = ctx.req.headers;
  if (headers['x-ms-copy-source'] !== undefined) {
    if (comp === '') return headers['x-ms-blob-type'] !== undefined ? 'put-from-url' : 'copy-source';
    return FROM_URL.get(comp) ?? comp;
  }
  if (comp === '') return CREATED_TYPES.get(headers['x-ms-blob-type'] as string) ?? comp;
  if (comp === 'properties' && setsPageProperties(headers)) return 'page-properties';
  return comp;
}

export function selectOperation(operations: Map<string, BlobOperation>, ctx: BlobRequest): BlobOperation {
  const restype = ctx.query.get('restype') ?? '';
  const comp = ctx.query.get('comp') ?? '';
  if (restype === 'account' && comp === 'properties') return accountInfo;
  const omitted = OMITTED_FEATURES[comp.toLowerCase()];
  if (omitted) throw new StorageError(400, 'UnsupportedOperation', `${omitted}; this server keeps no ${comp} state, so nothing was changed.`);
  // Set Blob Expiry exists for hierarchical-namespace (Data Lake) accounts only, and this server's accounts are flat, as Get Account Info says.
  if (comp === 'expiry') {
    throw new StorageError(409, 'HierarchicalNamespaceNotEnabled', 'This operation is only supported on a hierarchical namespace account; delete the blob when it is due instead.');
  }
  const level: Level = ctx.container === '' ? 'service' : ctx.path === '' ? 'container' : 'blob';
  const method = ctx.req.method ?? 'GET';
  const selector =
    level === 'blob' && method === 'PUT' ? putSelector(ctx, comp) : level === 'blob' && method === 'DELETE' && comp === '' && ctx.query.has('versionid') ? 'version' : comp;
  const found =
    operations.get(`${level} ${method} ${restype} ${selector}`) ??
    (method === 'HEAD' ? operations.get(`${level} GET ${restype} ${selector}`) : undefined);
  if (found) {
    if (level === 'blob' && !found.onSnapshot && (ctx.query.has('snapshot') || ctx.query.has('versionid'))) throw snapshotErrors.notOnSnapshot();
    return found;
  }
  throw new StorageError(
    400,
    'UnsupportedOperation',
    `mlspace does not support ${method} on a ${level}${restype ? ` with restype=${restype}` : ''}${comp ? ` and comp=${comp}` : ''}. ` +
      'Check the method and the restype/comp query parameters.',
  );
}
