import type { ShareRecord } from '../../db/records.js';
import { readSmallBody } from '../http/body.js';
import { errors } from '../http/errors.js';
import { header, httpDate, newEtag, readMetadata, writeMetadata } from '../http/headers.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { parseSignedIdentifiers, signedIdentifiersXml } from '../http/signed-identifiers.js';
import { LIMITS, type FileRequest } from './deps.js';
import { fileErrors } from './file-errors.js';
import { requireShare } from './lookup.js';
import { defaultSmb } from './smb.js';

/** The quota a share gets when Create Share names none: Azure's 5 TiB for standard shares. */
const DEFAULT_QUOTA = 5120;
const ACCESS_TIERS = ['TransactionOptimized', 'Hot', 'Cool', 'Premium'];

function quotaHeader(ctx: FileRequest): number | undefined {
  const raw = header(ctx.req.headers, 'x-ms-share-quota');
  if (raw === undefined) return undefined;
  const quota = Number(raw);
  if (!Number.isInteger(quota) || quota < 1 || quota > LIMITS.quota) {
    throw errors.invalidHeader('x-ms-share-quota', `the quota is in GiB and must be an integer from 1 to ${LIMITS.quota}.`);
  }
  return quota;
}

function accessTierHeader(ctx: FileRequest): string | undefined {
  const raw = header(ctx.req.headers, 'x-ms-access-tier');
  if (raw === undefined) return undefined;
  const tier = ACCESS_TIERS.find((name) => name.toLowerCase() === raw.toLowerCase());
  if (!tier) throw errors.invalidHeader('x-ms-access-tier', `use one of ${ACCESS_TIERS.join(', ')}.`);
  return tier;
}

function versionHeaders(share: ShareRecord) {
  return { etag: share.etag, 'last-modified': httpDate(share.lastModified) };
}

/** A new share and its root directory, as Create Share and workspace provisioning make them. */
export function newShare(account: string, name: string, options: { metadata?: Record<string, string>; quota?: number; accessTier?: string } = {}) {
  const now = Date.now();
  const share: ShareRecord = {
    account,
    name,
    created: now,
    lastModified: now,
    etag: newEtag(now),
    metadata: options.metadata ?? {},
    quota: options.quota ?? DEFAULT_QUOTA,
    accessTier: options.accessTier ?? 'TransactionOptimized',
    accessTierChangeTime: now,
    signedIdentifiers: [],
  };
  const root = {
    account,
    share: name,
    key: '',
    parent: null,
    parentId: 0,
    name: '',
    isDirectory: true,
    size: 0,
    lastModified: now,
    etag: newEtag(now),
    metadata: {},
    smb: defaultSmb(true, now),
  };
  return { share, root };
}

export async function createShare(ctx: FileRequest): Promise<void> {
  const protocols = header(ctx.req.headers, 'x-ms-enabled-protocols');
  if (protocols !== undefined && protocols.toUpperCase() !== 'SMB') {
    throw errors.invalidHeader('x-ms-enabled-protocols', 'mlspace serves SMB-style shares only; omit the header or send SMB.');
  }
  const { share, root } = newShare(ctx.account, ctx.container, {
    metadata: readMetadata(ctx.req.headers),
    quota: quotaHeader(ctx),
    accessTier: accessTierHeader(ctx),
  });
  if (!(await ctx.deps.repo.createShare(share, root))) throw fileErrors.shareExists(ctx.container);
  respondEmpty(ctx, 201, versionHeaders(share));
}

export async function deleteShare(ctx: FileRequest): Promise<void> {
  const orphans = await ctx.deps.repo.deleteShare(ctx.account, ctx.container);
  if (orphans === undefined) throw fileErrors.shareNotFound(ctx.container);
  ctx.deps.pins.remove(orphans);
  respondEmpty(ctx, 202);
}

export async function getShareProperties(ctx: FileRequest): Promise<void> {
  const share = await requireShare(ctx);
  writeMetadata(ctx.res, share.metadata);
  respondEmpty(ctx, 200, {
    ...versionHeaders(share),
    'x-ms-share-quota': share.quota,
    'x-ms-access-tier': share.accessTier,
    'x-ms-access-tier-change-time': httpDate(share.accessTierChangeTime),
    'x-ms-enabled-protocols': 'SMB',
    'x-ms-lease-status': 'unlocked',
    'x-ms-lease-state': 'available',
  });
}

export async function setShareMetadata(ctx: FileRequest): Promise<void> {
  const metadata = readMetadata(ctx.req.headers);
  const share = await updateShare(ctx, (current) => ({ ...current, metadata }));
  respondEmpty(ctx, 200, versionHeaders(share));
}

/** Set Share Properties: the quota and access tier the request names; the rest stays. */
export async function setShareProperties(ctx: FileRequest): Promise<void> {
  const quota = quotaHeader(ctx);
  const tier = accessTierHeader(ctx);
  const share = await updateShare(ctx, (current) => ({
    ...current,
    quota: quota ?? current.quota,
    accessTier: tier ?? current.accessTier,
    accessTierChangeTime: tier !== undefined && tier !== current.accessTier ? Date.now() : current.accessTierChangeTime,
  }));
  respondEmpty(ctx, 200, versionHeaders(share));
}

export async function getShareStats(ctx: FileRequest): Promise<void> {
  const share = await requireShare(ctx);
  const usage = await ctx.deps.repo.shareUsage(ctx.account, ctx.container);
  respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?><ShareStats><ShareUsageBytes>${usage}</ShareUsageBytes></ShareStats>`, versionHeaders(share));
}

export async function getShareAcl(ctx: FileRequest): Promise<void> {
  const share = await requireShare(ctx);
  respondXml(ctx, 200, signedIdentifiersXml(share.signedIdentifiers), versionHeaders(share));
}

export async function setShareAcl(ctx: FileRequest): Promise<void> {
  const signedIdentifiers = parseSignedIdentifiers(await readSmallBody(ctx.req, LIMITS.xmlBody));
  const share = await updateShare(ctx, (current) => ({ ...current, signedIdentifiers }));
  respondEmpty(ctx, 200, versionHeaders(share));
}

function updateShare(ctx: FileRequest, change: (current: ShareRecord) => ShareRecord): Promise<ShareRecord> {
  return ctx.deps.repo.updateShare(ctx.account, ctx.container, (current) => {
    if (!current) throw fileErrors.shareNotFound(ctx.container);
    const now = Date.now();
    return { ...change(current), lastModified: now, etag: newEtag(now) };
  });
}
