import type { FileNodeRecord, ShareRecord } from '../../db/records.js';
import type { StorageError } from '../http/errors.js';
import type { FileRequest } from './deps.js';
import { fileErrors } from './file-errors.js';
import { parentKey, pathKey } from './names.js';

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

/** The file the request names; a directory there counts as no file. */
export function requireFile(ctx: FileRequest): FileNodeRecord {
  const key = pathKey(ctx.path);
  const node = ctx.deps.repo.getNode(ctx.account, ctx.container, key);
  if (!node || node.isDirectory) throw notFound(ctx, key);
  return node;
}

/** The directory the request names ('' is the share's root); a file there counts as no directory. */
export function requireDirectory(ctx: FileRequest): FileNodeRecord {
  const key = pathKey(ctx.path);
  const node = ctx.deps.repo.getNode(ctx.account, ctx.container, key);
  if (!node || !node.isDirectory) throw notFound(ctx, key);
  return node;
}

/** Inside a transaction: refuse a missing or wrong-typed node with the error Azure gives. */
export function checkFound(ctx: FileRequest, node: FileNodeRecord | undefined, directory: boolean): FileNodeRecord {
  if (!node || node.isDirectory !== directory) throw notFound(ctx, pathKey(ctx.path));
  return node;
}
