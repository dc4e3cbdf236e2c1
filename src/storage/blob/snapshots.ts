import { timeId } from '../../db/blob-history.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors } from '../http/errors.js';
import { httpDate, readMetadata } from '../http/headers.js';
import { respondEmpty } from '../http/respond.js';
import { blobNotFound } from './blobs.js';
import type { BlobRequest } from './deps.js';
import { checkLeaseIdIfGiven } from './leases.js';
import { checkOnline } from './tiers.js';

/**
 * The `snapshot` a request names, or undefined for the blob itself. It must be
 * a time; it is matched exactly as Snapshot Blob answered it.
 */
export function snapshotParam(ctx: BlobRequest): string | undefined {
  const snapshot = ctx.query.get('snapshot');
  if (snapshot === null) return undefined;
  if (Number.isNaN(Date.parse(snapshot))) {
    throw errors.invalidQuery('snapshot', 'it must be the x-ms-snapshot time Snapshot Blob answered, such as 2026-12-02T10:00:00.1234567Z.');
  }
  return snapshot;
}

export const snapshotErrors = {
  snapshotsPresent: () =>
    new StorageError(409, 'SnapshotsPresent', 'This operation is not permitted because the blob has snapshots. Send x-ms-delete-snapshots: include to delete them with it, or only to delete just them.'),
  notOnSnapshot: () =>
    new StorageError(400, 'InvalidQueryParameterValue', 'This operation cannot target a snapshot or a previous version: they are read-only. Leave out the snapshot and versionid query parameters.', {
      QueryParameterName: 'snapshot',
    }),
};

/** The first time id (timeId) of the millisecond `now` that `taken` says is free: a new snapshot's or version's. */
export function snapshotTime(now: number, taken: (time: string) => boolean): string {
  for (let tick = 0; tick < 10_000; tick++) {
    const time = timeId(now, tick);
    if (!taken(time)) return time;
  }
  throw new StorageError(503, 'ServerBusy', 'Too many snapshots of this blob in one millisecond; retry.');
}

/** Snapshot Blob: a read-only copy of the blob as it is now, sharing its content. */
export async function snapshotBlob(ctx: BlobRequest): Promise<void> {
  const metadata = readMetadata(ctx.req.headers);
  const now = Date.now();
  const snapshot = await ctx.deps.repo.snapshotBlob(
    ctx.account,
    ctx.container,
    ctx.path,
    (taken) => snapshotTime(now, taken),
    Object.keys(metadata).length > 0 ? metadata : undefined,
    (current) => {
      if (!current) return;
      checkOnline(current, now);
      // A snapshot needs no lease id, but one it names must be the blob's.
      checkLeaseIdIfGiven(current.lease, ctx.req.headers, now, 'blob');
      checkConditions(ctx.req.headers, current, 'write');
    },
  );
  if (!snapshot) return blobNotFound(ctx);
  respondEmpty(ctx, 201, {
    'x-ms-snapshot': snapshot.snapshot!,
    etag: snapshot.etag,
    'last-modified': httpDate(snapshot.lastModified),
    'x-ms-request-server-encrypted': 'true',
  });
}
