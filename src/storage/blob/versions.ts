import type { DeletePolicy, NewVersionId } from '../../db/blobs.js';
import type { BlobRecord } from '../../db/records.js';
import { errors } from '../http/errors.js';
import { respondEmpty } from '../http/respond.js';
import { blobNotFound } from './blobs.js';
import type { BlobRequest } from './deps.js';
import { snapshotTime } from './snapshots.js';

/**
 * Versioning and soft delete, as the account's `blobServices/default` sets
 * them. With versioning, every write that replaces a blob's content or
 * metadata keeps what it replaced as a previous version (x-ms-version-id), and
 * a delete keeps the blob as one. With a delete retention policy, deletes keep
 * the blob and its snapshots for the policy's days, restorable by Undelete Blob.
 */

export const DAY = 24 * 60 * 60 * 1000;

/** The `versionid` a request names, or undefined for the current blob. */
export function versionParam(ctx: BlobRequest): string | undefined {
  const id = ctx.query.get('versionid');
  if (id === null) return undefined;
  if (Number.isNaN(Date.parse(id))) throw errors.invalidQuery('versionid', 'it must be an x-ms-version-id this server answered, such as 2026-12-02T10:00:00.1234567Z.');
  if (ctx.query.has('snapshot')) throw errors.invalidQuery('versionid', 'a request names a snapshot or a version, not both.');
  return id;
}

/** Whether a record is a previous version (read from history, which says where its pages are), not the current blob. */
export function isPreviousVersion(blob: BlobRecord): boolean {
  return blob.pagesKey !== undefined;
}

/**
 * How the store picks the version id of the blob a write commits, when the
 * account keeps versions: in the commit's transaction, among the ids not taken.
 */
export function newVersionId(ctx: BlobRequest, now: number): NewVersionId | undefined {
  if (!ctx.deps.blobPolicy(ctx.account).versioning) return undefined;
  return (taken) => snapshotTime(now, taken);
}

/** What a delete keeps under the account's policy: nothing, when the account keeps neither versions nor deleted blobs. */
export function deletePolicy(ctx: BlobRequest, now: number): DeletePolicy {
  const { versioning, deleteRetentionDays } = ctx.deps.blobPolicy(ctx.account);
  const soft = deleteRetentionDays === undefined ? undefined : { deletedTime: now, expires: now + deleteRetentionDays * DAY };
  return { retire: versioning ? { kind: 'version' } : soft ? { kind: 'deleted', ...soft } : undefined, soft };
}

/** Days left before a soft-deleted blob, version, snapshot or container goes for good, as listings show them. */
export function remainingRetentionDays(record: { retentionExpires?: number }, now: number): number {
  return Math.max(0, Math.ceil((record.retentionExpires! - now) / DAY));
}

/** Undelete Blob: its soft-deleted snapshots and versions come back, and the blob itself when no blob has its name now. */
export async function undeleteBlob(ctx: BlobRequest): Promise<void> {
  if (!(await ctx.deps.repo.undeleteBlob({ account: ctx.account, container: ctx.container, name: ctx.path }))) return blobNotFound(ctx);
  respondEmpty(ctx, 200);
}
