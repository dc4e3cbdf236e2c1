import type { FileNodeRecord, ShareRecord } from '../../db/records.js';
import type { StorageError } from '../http/errors.js';
import type { FileRequest } from './deps.js';
import { fileErrors } from './file-errors.js';
import { leafName, parentKey, pathKey } from './names.js';

export function requireShare(ctx: FileRequest): ShareRecord {
  const share = ctx.deps.repo.getShare(ctx.account, ctx.container);
  if (!share) throw fileErrors.shareNotFound(ctx.container);
  return share;
}

/**
 * Why the node at `key` is not there, as Azure words it: the share is missing,
 * or a directory on the way, or just the node itself.
 */
export function notFound(ctx: FileRequest, key: string): StorageError {
  const parent = parentKey(key);
  if (parent === null || parent === '') {
    if (!ctx.deps.repo.getShare(ctx.account, ctx.container)) return fileErrors.shareNotFound(ctx.container);
    return fileErrors.resourceNotFound(ctx.path);
  }
  const parentNode = ctx.deps.repo.getNode(ctx.account, ctx.container, parent);
  if (parentNode?.isDirectory) return fileErrors.resourceNotFound(ctx.path);
  if (!ctx.deps.repo.getShare(ctx.account, ctx.container)) return fileErrors.shareNotFound(ctx.container);
  return fileErrors.parentNotFound(ctx.path);
}

/** Refuses a missing node, or one of the other kind, with the error Azure gives; also used inside transactions. */
export function checkFound(ctx: FileRequest, node: FileNodeRecord | undefined, directory: boolean): FileNodeRecord {
  if (!node || node.isDirectory !== directory) throw notFound(ctx, pathKey(ctx.path));
  return node;
}

/** The file the request names; a directory there counts as no file. */
export function requireFile(ctx: FileRequest): FileNodeRecord {
  return checkFound(ctx, ctx.deps.repo.getNode(ctx.account, ctx.container, pathKey(ctx.path)), false);
}

/** The directory the request names ('' is the share's root); a file there counts as no directory. */
export function requireDirectory(ctx: FileRequest): FileNodeRecord {
  return checkFound(ctx, ctx.deps.repo.getNode(ctx.account, ctx.container, pathKey(ctx.path)), true);
}

/**
 * Where the new directory or file the request names goes, and the checks Azure
 * makes inside the transaction: the parent must be a directory, and the name
 * free, or (for a file, which is then replaced) a file.
 */
export function newNodeLocation(ctx: FileRequest, isDirectory: boolean) {
  const key = pathKey(ctx.path);
  return {
    at: { account: ctx.account, share: ctx.container, key, parent: parentKey(key)! },
    check(parent: FileNodeRecord | undefined, existing: FileNodeRecord | undefined): FileNodeRecord {
      if (!parent?.isDirectory) throw notFound(ctx, key);
      if (existing && existing.isDirectory !== isDirectory) throw fileErrors.typeMismatch(ctx.path, existing.isDirectory ? 'directory' : 'file');
      if (existing && isDirectory) throw fileErrors.resourceExists(ctx.path);
      return parent;
    },
    /** The new node's place in the tree, under the parent `check` returned. */
    identity(parent: FileNodeRecord) {
      return { account: ctx.account, share: ctx.container, key, parent: parentKey(key)!, parentId: parent.id, name: leafName(ctx.path) };
    },
  };
}
