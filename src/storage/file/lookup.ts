import type { FileNodeRecord, ShareRecord } from '../../db/records.js';
import type { StorageError } from '../http/errors.js';
import type { FileRequest } from './deps.js';
import { fileErrors } from './file-errors.js';
import { leafName, parentKey, pathKey } from './names.js';

export function requireShare(ctx: FileRequest): Promise<ShareRecord> {
  return ctx.deps.repo.getShare(ctx.account, ctx.container).then((share) => share ?? Promise.reject(fileErrors.shareNotFound(ctx.container)));
}

/**
 * Why the node the request names is not there, as Azure words it: the share
 * is missing, or a directory on the way, or just the node itself.
 */
export async function notFound(ctx: FileRequest): Promise<StorageError> {
  const parent = parentKey(pathKey(ctx.path));
  if (parent === null || parent === '') {
    if (!(await ctx.deps.repo.getShare(ctx.account, ctx.container))) return fileErrors.shareNotFound(ctx.container);
    return fileErrors.resourceNotFound(ctx.path);
  }
  const parentNode = await ctx.deps.repo.getNode(ctx.account, ctx.container, parent);
  if (parentNode?.isDirectory) return fileErrors.resourceNotFound(ctx.path);
  if (!(await ctx.deps.repo.getShare(ctx.account, ctx.container))) return fileErrors.shareNotFound(ctx.container);
  return fileErrors.parentNotFound(ctx.path);
}

/**
 * Thrown by a store callback that finds no node where the request needs one.
 * The callback runs inside the store's transaction, where it cannot ask the
 * store which part of the path is missing; `orMissing` asks once it is over.
 */
export class NoNode extends Error {}

/** A store call whose callback may throw NoNode: that becomes the error notFound words. */
export async function orMissing<T>(ctx: FileRequest, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof NoNode) throw await notFound(ctx);
    throw error;
  }
}

/** Inside a store callback: refuses a missing node, or one of the other kind (NoNode, for orMissing to word). */
export function checkFound(node: FileNodeRecord | undefined, directory: boolean): FileNodeRecord {
  if (!node || node.isDirectory !== directory) throw new NoNode();
  return node;
}

/**
 * The file the request names; a directory there counts as no file. Not async
 * itself: the hot read path awaits the store's own promise and nothing more.
 */
export function requireFile(ctx: FileRequest): Promise<FileNodeRecord> {
  return ctx.deps.repo.getNode(ctx.account, ctx.container, pathKey(ctx.path)).then((node) => (node && !node.isDirectory ? node : missing(ctx)));
}

/** The directory the request names ('' is the share's root); a file there counts as no directory. */
export function requireDirectory(ctx: FileRequest): Promise<FileNodeRecord> {
  return ctx.deps.repo.getNode(ctx.account, ctx.container, pathKey(ctx.path)).then((node) => (node?.isDirectory ? node : missing(ctx)));
}

async function missing(ctx: FileRequest): Promise<never> {
  throw await notFound(ctx);
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
      if (!parent?.isDirectory) throw new NoNode();
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
