import type { BlobRecord } from '../../db/records.js';
import { readSmallBody } from '../http/body.js';
import { checkConditions } from '../http/conditions.js';
import { errors, escapeXml } from '../http/errors.js';
import { maxResults, parseNamePair } from '../http/listing-params.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { TagExpressionError, comparedKeys, matchesTags, parseTagExpression } from '../http/tag-expressions.js';
import { NoBlob, orMissing, requireReadableBlob } from './blobs.js';
import { requireContainer } from './containers.js';
import { LIMITS, type BlobRequest } from './deps.js';
import { checkLeaseIdIfGiven } from './leases.js';
import { parseTagsBody, tagSetXml } from './tag-set.js';

/**
 * Blob index tags: up to ten key-value pairs per blob, set with the blob
 * (x-ms-tags) or by Set Blob Tags, tested by x-ms-if-tags, and searched by
 * Find Blobs by Tags. Setting tags changes neither ETag nor Last-Modified.
 */

export async function setBlobTags(ctx: BlobRequest): Promise<void> {
  const tags = parseTagsBody(await readSmallBody(ctx.req, LIMITS.xmlBody));
  await orMissing(
    ctx,
    ctx.deps.repo.changeBlob(ctx.account, ctx.container, ctx.path, (current) => {
      if (!current) throw new NoBlob();
      checkLeaseIdIfGiven(current.lease, ctx.req.headers, Date.now(), 'blob');
      checkConditions(ctx.req.headers, current, 'write');
      return { ...current, tags: Object.keys(tags).length > 0 ? tags : undefined };
    }),
  );
  respondEmpty(ctx, 204);
}

export async function getBlobTags(ctx: BlobRequest): Promise<void> {
  const blob = await requireReadableBlob(ctx);
  checkConditions(ctx.req.headers, blob, 'read');
  respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?>${tagSetXml(blob.tags ?? {})}`);
}

/** Find Blobs by Tags, on the account or one container: blobs whose tags satisfy `where`, in container and name order. */
export async function findBlobsByTags(ctx: BlobRequest): Promise<void> {
  const source = ctx.query.get('where');
  if (source === null || source.trim() === '') throw errors.missingQuery('where', `Give a tag expression such as "project" = 'alpha'.`);
  let expression;
  try {
    expression = parseTagExpression(source, { conditions: false, container: ctx.container === '' });
  } catch (error) {
    if (error instanceof TagExpressionError) throw errors.invalidQuery('where', `${error.message}.`);
    throw error;
  }
  if (ctx.container) await requireContainer(ctx);
  const limit = maxResults(ctx.query);
  const marker = ctx.query.get('marker') ?? '';
  let after = decodeFindMarker(marker);
  const keys = comparedKeys(expression);
  const found: BlobRecord[] = [];
  let next: string | undefined;
  scan: for (;;) {
    const batch = await ctx.deps.repo.scanTaggedBlobs(ctx.account, ctx.container || undefined, after, 1000);
    for (const blob of batch) {
      after = [blob.container, blob.name];
      if (!matchesTags(expression, blob.tags ?? {}, blob.container)) continue;
      if (found.length === limit) {
        next = encodeFindMarker(found[found.length - 1]!);
        break scan;
      }
      found.push(blob);
    }
    if (batch.length < 1000) break;
  }
  const blobs = found
    .map((blob) => `<Blob><Name>${escapeXml(blob.name)}</Name><ContainerName>${escapeXml(blob.container)}</ContainerName>${tagSetXml(blob.tags ?? {}, keys)}</Blob>`)
    .join('');
  respondXml(
    ctx,
    200,
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(`${ctx.deps.endpoint}/${ctx.account}/`)}">` +
      `<Where>${escapeXml(source)}</Where><Blobs>${blobs}</Blobs><NextMarker>${next ?? ''}</NextMarker></EnumerationResults>`,
  );
}

function encodeFindMarker(blob: BlobRecord): string {
  return Buffer.from(JSON.stringify([blob.container, blob.name])).toString('base64url');
}

function decodeFindMarker(marker: string): [string, string] {
  if (marker === '') return ['', ''];
  const position = parseNamePair(Buffer.from(marker, 'base64url').toString('utf8'));
  if (!position) throw errors.invalidQuery('marker', 'pass back the NextMarker of the previous page unchanged.');
  return position;
}
