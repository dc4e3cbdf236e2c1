import { prefixEnd } from '../../db/blobs.js';
import type { AccessTier, BlobRecord } from '../../db/records.js';
import { errors, escapeXml } from '../http/errors.js';
import { httpDate, listedEtag } from '../http/headers.js';
import { includes, maxResults, parseNamePair } from '../http/listing-params.js';
import { respondXml } from '../http/respond.js';
import { requireContainer } from './containers.js';
import { leaseXml } from './leases.js';
import { tierOf, tierXml } from './tiers.js';
import { tagCount, tagSetXml } from './tag-set.js';
import type { BlobRequest } from './deps.js';
import { metadataXml } from '../http/metadata-xml.js';
import { isPreviousVersion, remainingRetentionDays } from './versions.js';

/** A blob (the `index`th entry listed for its name), or a prefix that rolls names up. */
type Entry = { blob: BlobRecord; index: number; prefix?: undefined } | { prefix: string; blob?: undefined };

const INCLUDE_VALUES = ['metadata', 'snapshots', 'uncommittedblobs', 'copy', 'deleted', 'tags', 'versions', 'deletedwithversions', 'immutabilitypolicy', 'legalhold', 'permissions'];

/** Where a page starts: at the first name at or after `from` (past `after`), skipping that name's first `skip` entries. */
interface Start {
  after: string;
  from: string;
  skip?: number;
}

/**
 * Markers are opaque to clients and name where the next page starts: `n:` +
 * a name and how many of its entries (snapshots, versions, deleted copies, the
 * blob) were already listed, or `p:` + the prefix that comes next.
 */
function encodeMarker(next: Entry): string {
  const text = next.prefix !== undefined ? `p:${next.prefix}` : `n:${JSON.stringify([next.blob.name, String(next.index)])}`;
  return Buffer.from(text).toString('base64url');
}

function decodeMarker(marker: string): Start {
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (text.startsWith('p:') && text.length > 2) return { after: '', from: text.slice(2) };
  const position = text.startsWith('n:') ? parseNamePair(text.slice(2)) : undefined;
  if (position && /^\d+$/.test(position[1])) return { after: '', from: position[0], skip: Number(position[1]) };
  throw errors.invalidQuery('marker', 'pass back the NextMarker of the previous page unchanged.');
}

/** What a listing shows besides each name's current blob. */
interface Shown {
  snapshots: boolean;
  versions: boolean;
  deleted: boolean;
  uncommitted: boolean;
}

/**
 * A name's entries, in the order listed: its snapshots, its previous versions
 * and soft-deleted copies (when asked for), then the blob itself, or, asked
 * for uncommitted blobs, the blob its staged blocks will make.
 */
async function nameEntries(ctx: BlobRequest, name: string, current: BlobRecord | undefined, shown: Shown): Promise<BlobRecord[]> {
  const key = { account: ctx.account, container: ctx.container, name };
  const list: BlobRecord[] = [];
  if (shown.snapshots) list.push(...(await ctx.deps.repo.snapshotsOf(ctx.account, ctx.container, name, shown.deleted)));
  if (shown.versions) list.push(...(await ctx.deps.repo.versionsOf(key, shown.deleted)));
  if (shown.deleted) list.push(...(await ctx.deps.repo.deletedOf(key)));
  if (current) list.push(current);
  else if (shown.uncommitted) {
    const staged = await uncommittedBlob(ctx, name);
    if (staged) list.push(staged);
  }
  return list;
}

/** A name with staged blocks and no blob yet, listed as an empty block blob (include=uncommittedblobs). */
async function uncommittedBlob(ctx: BlobRequest, name: string): Promise<BlobRecord | undefined> {
  const blocks = await ctx.deps.repo.uncommittedBlocks({ account: ctx.account, container: ctx.container, name });
  if (blocks.length === 0) return undefined;
  return { account: ctx.account, container: ctx.container, name, created: 0, lastModified: 0, etag: '', size: 0, metadata: {}, extents: [] };
}

/**
 * Blobs and, with a delimiter, the prefixes that roll them up, in name order.
 * A plain listing scans the blobs; one that shows versions, deleted blobs or
 * uncommitted ones scans every name that has any of them.
 */
async function* entries(ctx: BlobRequest, prefix: string, delimiter: string, start: Start, batch: number, shown: Shown): AsyncGenerator<Entry> {
  let { after, from } = start;
  let skip = start.skip ?? 0;
  const everyName = shown.versions || shown.deleted || shown.uncommitted;
  for (;;) {
    const names = everyName
      ? await ctx.deps.repo.historyNames(ctx.account, ctx.container, prefix, after, from, batch, shown.uncommitted)
      : await ctx.deps.repo.scanBlobs(ctx.account, ctx.container, prefix, after, from, batch);
    let restart = false;
    for (const item of names) {
      const name = typeof item === 'string' ? item : item.name;
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      if (cut === -1) {
        const current = typeof item === 'string' ? await ctx.deps.repo.getBlob(ctx.account, ctx.container, name) : item;
        const list = await nameEntries(ctx, name, current, shown);
        for (let index = skip; index < list.length; index++) yield { blob: list[index]!, index };
        skip = 0;
        after = name;
        continue;
      }
      const rollup = name.slice(0, cut + delimiter.length);
      yield { prefix: rollup };
      // Skip every other name under this prefix: restart the scan past it.
      from = prefixEnd(rollup);
      after = '';
      skip = 0;
      restart = true;
      break;
    }
    if (!restart && names.length < batch) return;
  }
}

export async function listBlobs(ctx: BlobRequest): Promise<void> {
  await requireContainer(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const limit = maxResults(ctx.query);
  const include = includes(ctx.query, INCLUDE_VALUES);
  const start = marker ? decodeMarker(marker) : { after: '', from: '' };

  const shown: Shown = {
    snapshots: include.has('snapshots'),
    versions: include.has('versions'),
    deleted: include.has('deleted') || include.has('deletedwithversions'),
    uncommitted: include.has('uncommittedblobs'),
  };
  const page: Entry[] = [];
  let next: string | undefined;
  for await (const entry of entries(ctx, prefix, delimiter, start, Math.min(limit + 1, 1000), shown)) {
    if (page.length === limit) {
      next = encodeMarker(entry);
      break;
    }
    page.push(entry);
  }

  const parts = [
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(`${ctx.deps.endpoint}/${ctx.account}/`)}" ContainerName="${escapeXml(ctx.container)}">`,
    `<Prefix>${escapeXml(prefix)}</Prefix>`,
    marker ? `<Marker>${escapeXml(marker)}</Marker>` : '',
    ctx.query.has('maxresults') ? `<MaxResults>${limit}</MaxResults>` : '',
    delimiter ? `<Delimiter>${escapeXml(delimiter)}</Delimiter>` : '',
    '<Blobs>',
  ];
  const now = Date.now();
  const defaultTier = ctx.deps.defaultAccessTier(ctx.account);
  for (const entry of page) {
    parts.push(entry.prefix !== undefined ? `<BlobPrefix><Name>${escapeXml(entry.prefix)}</Name></BlobPrefix>` : blobXml(entry.blob, include, now, defaultTier, shown.versions));
  }
  parts.push('</Blobs>', `<NextMarker>${next ?? ''}</NextMarker></EnumerationResults>`);
  respondXml(ctx, 200, parts.join(''));
}

/** The blob's type, with what only that type has: a block blob's tier, a page blob's sequence number and incremental copy. */
function typeXml(blob: BlobRecord, now: number, defaultTier: AccessTier): string {
  if (blob.blobType === undefined) return `<BlobType>BlockBlob</BlobType>${tierXml(tierOf(blob, now, defaultTier))}`;
  if (blob.blobType === 'AppendBlob') return '<BlobType>AppendBlob</BlobType>';
  const copy = blob.incrementalCopy
    ? `<IncrementalCopy>true</IncrementalCopy><CopyDestinationSnapshot>${blob.incrementalCopy.destinationSnapshot}</CopyDestinationSnapshot>`
    : '';
  return `<x-ms-blob-sequence-number>${blob.sequenceNumber ?? 0}</x-ms-blob-sequence-number><BlobType>PageBlob</BlobType>${copy}`;
}

function deletedXml(blob: BlobRecord, now: number): string {
  if (blob.deletedTime === undefined) return '';
  return `<DeletedTime>${httpDate(blob.deletedTime)}</DeletedTime><RemainingRetentionDays>${remainingRetentionDays(blob, now)}</RemainingRetentionDays>`;
}

/** The elements that place an entry among its name's: snapshot time, version, whether it is current, whether deleted. */
function identityXml(blob: BlobRecord, versions: boolean): string {
  const isVersion = isPreviousVersion(blob);
  const isDeleted = blob.deletedTime !== undefined;
  return (
    (isDeleted ? '<Deleted>true</Deleted>' : '') +
    (blob.snapshot === undefined ? '' : `<Snapshot>${blob.snapshot}</Snapshot>`) +
    (versions && blob.versionId !== undefined ? `<VersionId>${blob.versionId}</VersionId>` : '') +
    (versions && blob.versionId !== undefined && blob.snapshot === undefined && !isVersion && !isDeleted ? '<IsCurrentVersion>true</IsCurrentVersion>' : '')
  );
}

function blobXml(blob: BlobRecord, include: Set<string>, now: number, defaultTier: AccessTier, versions: boolean): string {
  const tags = tagCount(blob);
  const optional = (name: string, value: string | undefined) => (value === undefined ? `<${name} />` : `<${name}>${escapeXml(value)}</${name}>`);
  const copy =
    blob.copy && include.has('copy')
      ? `<CopyId>${blob.copy.id}</CopyId><CopySource>${escapeXml(blob.copy.source)}</CopySource><CopyStatus>${blob.copy.status}</CopyStatus>` +
        `<CopyProgress>${blob.copy.progress}</CopyProgress>` +
        (blob.copy.completed === undefined ? '' : `<CopyCompletionTime>${httpDate(blob.copy.completed)}</CopyCompletionTime>`) +
        (blob.copy.statusDescription === undefined ? '' : `<CopyStatusDescription>${escapeXml(blob.copy.statusDescription)}</CopyStatusDescription>`)
      : '';
  return (
    `<Blob><Name>${escapeXml(blob.name)}</Name>${identityXml(blob, versions)}<Properties>` +
    `<Creation-Time>${httpDate(blob.created)}</Creation-Time><Last-Modified>${httpDate(blob.lastModified)}</Last-Modified>` +
    `<Etag>${listedEtag(blob.etag)}</Etag><Content-Length>${blob.size}</Content-Length>` +
    optional('Content-Type', blob.contentType ?? 'application/octet-stream') +
    optional('Content-Encoding', blob.contentEncoding) +
    optional('Content-Language', blob.contentLanguage) +
    optional('Content-MD5', blob.contentMd5) +
    optional('Cache-Control', blob.cacheControl) +
    optional('Content-Disposition', blob.contentDisposition) +
    typeXml(blob, now, defaultTier) +
    `${leaseXml(blob.lease, now)}<ServerEncrypted>true</ServerEncrypted>${copy}${deletedXml(blob, now)}${tags ? `<TagCount>${tags}</TagCount>` : ''}${blob.sealed ? '<Sealed>true</Sealed>' : ''}</Properties>` +
    (include.has('metadata') ? metadataXml(blob.metadata) : '') +
    (include.has('tags') && blob.tags ? tagSetXml(blob.tags) : '') +
    '</Blob>'
  );
}
