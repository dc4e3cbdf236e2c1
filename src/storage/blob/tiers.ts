import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { AccessTier, BlobRecord } from '../../db/records.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors } from '../http/errors.js';
import { header, httpDate } from '../http/headers.js';
import { respondEmpty } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { NoBlob, orMissing } from './blobs.js';
import type { BlobRequest } from './deps.js';
import { leaseAfterWrite } from './leases.js';

/**
 * Access tiers of block blobs. A blob without a tier of its own has the
 * account's default, "inferred". Archive keeps the bytes but refuses to serve
 * them until the blob is rehydrated to an online tier; rehydration completes at
 * a time set when it starts (the server's --rehydrate-delay), and, like a lease,
 * its progress is computed from the clock rather than by a timer.
 */

const TIERS: readonly AccessTier[] = ['Hot', 'Cool', 'Cold', 'Archive'];
const PRIORITIES = ['High', 'Standard'] as const;
type RehydratePriority = (typeof PRIORITIES)[number];

export const tierErrors = {
  archived: () =>
    new StorageError(409, 'BlobArchived', 'This operation is not permitted on an archived blob. Rehydrate it first: Set Blob Tier to Hot, Cool or Cold.'),
  beingRehydrated: () =>
    new StorageError(409, 'BlobBeingRehydrated', 'This operation is not permitted because the blob is being rehydrated. Wait for x-ms-archive-status to clear.'),
};

/** The tier x-ms-access-tier names, spelled as Azure spells it; undefined when the header is absent. */
function tierHeader(headers: IncomingHttpHeaders): AccessTier | undefined {
  const value = header(headers, 'x-ms-access-tier');
  if (value === undefined) return undefined;
  const tier = TIERS.find((candidate) => candidate.toLowerCase() === value.trim().toLowerCase());
  if (!tier) throw errors.invalidHeader('x-ms-access-tier', `use one of ${TIERS.join(', ')} (block blobs).`);
  return tier;
}

export interface TierView {
  tier: AccessTier;
  inferred: boolean;
  changeTime?: number;
  /** `rehydrate-pending-to-hot` and the like, while rehydrating. */
  archiveStatus?: string;
  rehydratePriority?: RehydratePriority;
}

/** The blob's tier as of `now`, its own or the account's default. */
export function tierOf(blob: BlobRecord, now: number, defaultTier: AccessTier): TierView {
  const rehydrate = blob.rehydrate;
  if (rehydrate) {
    if (now >= rehydrate.at) return { tier: rehydrate.tier, inferred: false, changeTime: rehydrate.at };
    return { tier: 'Archive', inferred: false, changeTime: blob.accessTierChangeTime, archiveStatus: `rehydrate-pending-to-${rehydrate.tier.toLowerCase()}`, rehydratePriority: rehydrate.priority };
  }
  if (blob.accessTier) return { tier: blob.accessTier, inferred: false, changeTime: blob.accessTierChangeTime };
  return { tier: defaultTier, inferred: true };
}

/** Refuses to serve or change the content of a blob that is in Archive, or on its way out of it. */
export function checkOnline(blob: BlobRecord, now: number): void {
  if (blob.rehydrate && now < blob.rehydrate.at) throw tierErrors.archived();
  if (!blob.rehydrate && blob.accessTier === 'Archive') throw tierErrors.archived();
}

/** The tier fields of a new blob version: the tier an upload asks for, else none (inferred). */
export function uploadTier(headers: IncomingHttpHeaders, now: number): Pick<BlobRecord, 'accessTier' | 'accessTierChangeTime'> {
  const tier = tierHeader(headers);
  return tier === undefined ? {} : { accessTier: tier, accessTierChangeTime: now };
}

export function addTierHeaders(headers: OutgoingHttpHeaders, view: TierView): void {
  headers['x-ms-access-tier'] = view.tier;
  if (view.inferred) headers['x-ms-access-tier-inferred'] = 'true';
  if (view.changeTime !== undefined) headers['x-ms-access-tier-change-time'] = httpDate(view.changeTime);
  if (view.archiveStatus) headers['x-ms-archive-status'] = view.archiveStatus;
  if (view.rehydratePriority) headers['x-ms-rehydrate-priority'] = view.rehydratePriority;
}

export function tierXml(view: TierView): string {
  return (
    `<AccessTier>${view.tier}</AccessTier>` +
    (view.inferred ? '<AccessTierInferred>true</AccessTierInferred>' : '') +
    (view.archiveStatus ? `<ArchiveStatus>${view.archiveStatus}</ArchiveStatus>` : '') +
    (view.rehydratePriority ? `<RehydratePriority>${view.rehydratePriority}</RehydratePriority>` : '') +
    (view.changeTime !== undefined ? `<AccessTierChangeTime>${httpDate(view.changeTime)}</AccessTierChangeTime>` : '')
  );
}

/**
 * Set Blob Tier. Between online tiers the change is immediate (200). Out of
 * Archive it starts a rehydration (202) that completes after the server's
 * rehydrate delay, a tenth of it at High priority; while it runs, only raising
 * its priority is allowed. Like a lease, a tier leaves ETag and Last-Modified alone.
 */
export async function setBlobTier(ctx: BlobRequest): Promise<void> {
  const target = tierHeader(ctx.req.headers);
  if (target === undefined) throw errors.missingHeader('x-ms-access-tier', `Name the tier: ${TIERS.join(', ')}.`);
  const priorityValue = header(ctx.req.headers, 'x-ms-rehydrate-priority');
  const priority = priorityValue === undefined ? 'Standard' : PRIORITIES.find((p) => p.toLowerCase() === priorityValue.trim().toLowerCase());
  if (!priority) throw errors.invalidHeader('x-ms-rehydrate-priority', 'use High or Standard.');
  const now = Date.now();
  const delay = ctx.deps.rehydrateDelayMs / (priority === 'High' ? 10 : 1);
  let status = 200;
  await orMissing(ctx, ctx.deps.repo.changeBlob(ctx.account, ctx.container, ctx.path, (current) => {
    if (!current) throw new NoBlob();
    if (current.blobType !== undefined) throw blobErrors.onlyBlockBlobs(current.blobType);
    checkConditions(ctx.req.headers, current, 'write');
    const lease = leaseAfterWrite(current.lease, ctx.req.headers, now, 'blob');
    const view = tierOf(current, now, ctx.deps.defaultAccessTier(ctx.account));
    const settled: BlobRecord = { ...current, lease, accessTier: view.inferred ? undefined : view.tier, accessTierChangeTime: view.changeTime, rehydrate: undefined };
    if (view.archiveStatus !== undefined) {
      // Rehydrating: the only change allowed is to hurry it.
      if (target !== current.rehydrate!.tier || priority !== 'High' || current.rehydrate!.priority === 'High') throw tierErrors.beingRehydrated();
      status = 202;
      return { ...current, lease, rehydrate: { ...current.rehydrate!, priority, at: Math.min(current.rehydrate!.at, now + delay) } };
    }
    if (view.tier === 'Archive' && target !== 'Archive') {
      status = 202;
      return { ...settled, accessTier: 'Archive', rehydrate: { tier: target, at: now + delay, priority } };
    }
    if (view.tier === target && !view.inferred) return settled;
    return { ...settled, accessTier: target, accessTierChangeTime: now };
  }));
  respondEmpty(ctx, status);
}
