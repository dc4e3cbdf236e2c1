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

type Entry = { blob: BlobRecord; prefix?: undefined } | { prefix: string; blob?: undefined };

const INCLUDE_VALUES = ['metadata', 'snapshots', 'uncommittedblobs', 'copy', 'deleted', 'tags', 'versions', 'deletedwithversions', 'immutabilitypolicy', 'legalhold', 'permissions'];

/** Where a page starts: after a blob name, at a name (from), and, within that name's snapshots, after one. */
interface Start {
  after: string;
  from: string;
  afterSnapshot?: string;
}

/**
 * Markers are opaque to clients: `b:` + the last blob name returned, `s:` + the
 * name and time of the last snapshot returned (its blob comes next), or `p:` +
 * the last prefix, since resuming after a prefix must skip every name under it.
 */
function encodeMarker(entry: Entry): string {
  const text = entry.prefix !== undefined ? `p:${entry.prefix}` : entry.blob.snapshot !== undefined ? `s:${JSON.stringify([entry.blob.name, entry.blob.snapshot])}` : `b:${entry.blob.name}`;
  return Buffer.from(text).toString('base64url');
}

function decodeMarker(marker: string): Start {
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (text.startsWith('b:')) return { after: text.slice(2), from: '' };
  if (text.startsWith('p:') && text.length > 2) return { after: '', from: prefixEnd(text.slice(2)) };
  if (text.startsWith('s:')) {
    const position = parseNamePair(text.slice(2));
    if (position) return { after: '', from: position[0], afterSnapshot: position[1] };
  }
  throw errors.invalidQuery('marker', 'pass back the NextMarker of the previous page unchanged.');
}

/** Blobs (each after its snapshots, oldest first, when asked for) and, with a delimiter, the prefixes that roll them up, in name order. */
function* entries(ctx: BlobRequest, prefix: string, delimiter: string, start: Start, batch: number, snapshots: boolean): Generator<Entry> {
  let { after, from } = start;
  let afterSnapshot = start.afterSnapshot;
  for (;;) {
    const rows = ctx.deps.repo.scanBlobs(ctx.account, ctx.container, prefix, after, from, batch);
    let restart = false;
    for (const blob of rows) {
      const cut = delimiter ? blob.name.indexOf(delimiter, prefix.length) : -1;
      if (cut === -1) {
        if (snapshots) {
          for (const snapshot of ctx.deps.repo.snapshotsOf(ctx.account, ctx.container, blob.name)) {
            if (afterSnapshot === undefined || snapshot.snapshot! > afterSnapshot) yield { blob: snapshot };
          }
        }
        afterSnapshot = undefined;
        yield { blob };
        after = blob.name;
        continue;
      }
      const rollup = blob.name.slice(0, cut + delimiter.length);
      yield { prefix: rollup };
      // Skip every other name under this prefix: restart the scan past it.
      from = prefixEnd(rollup);
      after = '';
      restart = true;
      break;
    }
    if (!restart && rows.length < batch) return;
  }
}

export async function listBlobs(ctx: BlobRequest): Promise<void> {
  requireContainer(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const limit = maxResults(ctx.query);
  const include = includes(ctx.query, INCLUDE_VALUES);
  const start = marker ? decodeMarker(marker) : { after: '', from: '' };

  const page: Entry[] = [];
  let next: string | undefined;
  for (const entry of entries(ctx, prefix, delimiter, start, Math.min(limit + 1, 1000), include.has('snapshots'))) {
    if (page.length === limit) {
      next = encodeMarker(page[page.length - 1]!);
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
    parts.push(entry.prefix !== undefined ? `<BlobPrefix><Name>${escapeXml(entry.prefix)}</Name></BlobPrefix>` : blobXml(entry.blob, include, now, defaultTier));
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

function blobXml(blob: BlobRecord, include: Set<string>, now: number, defaultTier: AccessTier): string {
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
    `<Blob><Name>${escapeXml(blob.name)}</Name>${blob.snapshot === undefined ? '' : `<Snapshot>${blob.snapshot}</Snapshot>`}<Properties>` +
    `<Creation-Time>${httpDate(blob.created)}</Creation-Time><Last-Modified>${httpDate(blob.lastModified)}</Last-Modified>` +
    `<Etag>${listedEtag(blob.etag)}</Etag><Content-Length>${blob.size}</Content-Length>` +
    optional('Content-Type', blob.contentType ?? 'application/octet-stream') +
    optional('Content-Encoding', blob.contentEncoding) +
    optional('Content-Language', blob.contentLanguage) +
    optional('Content-MD5', blob.contentMd5) +
    optional('Cache-Control', blob.cacheControl) +
    optional('Content-Disposition', blob.contentDisposition) +
    typeXml(blob, now, defaultTier) +
    `${leaseXml(blob.lease, now)}<ServerEncrypted>true</ServerEncrypted>${copy}${tags ? `<TagCount>${tags}</TagCount>` : ''}${blob.sealed ? '<Sealed>true</Sealed>' : ''}</Properties>` +
    (include.has('metadata') ? metadataXml(blob.metadata) : '') +
    (include.has('tags') && blob.tags ? tagSetXml(blob.tags) : '') +
    '</Blob>'
  );
}
