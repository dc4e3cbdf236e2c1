import type { FileNodeRecord } from '../../db/records.js';
import { coalesce } from '../../db/range-math.js';
import { StorageError, errors } from '../http/errors.js';
import { contentLength, header, newEtag } from '../http/headers.js';
import { requestedRange, writeRange } from '../http/range.js';
import { receiveBody } from '../http/receive-body.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { LIMITS, type FileRequest } from './deps.js';
import { checkFound, orMissing, requireFile } from './lookup.js';
import { pathKey } from './names.js';
import { versionHeaders } from './node-headers.js';
import { smbTime } from './smb.js';

/** Put Range's span: x-ms-range (or Range) with both ends, inside the file. */
function writeSpan(ctx: FileRequest, size: number): { first: number; last: number } {
  const span = writeRange(ctx.req.headers, "Put Range needs the bytes it writes or clears, as 'bytes=START-END'.");
  checkInside(span.first, span.last, size);
  return span;
}

function checkInside(first: number, last: number, size: number): void {
  if (last >= size) {
    throw new StorageError(
      416,
      'InvalidRange',
      `The range specified is invalid for the current size of the resource: bytes ${first}-${last} go past the end of the file (${size} bytes). ` +
        'Resize the file first with Set File Properties (x-ms-content-length).',
    );
  }
}

/** The file after a write: new version, and a last write time of now unless the client asked to preserve it. */
function afterWrite(ctx: FileRequest, file: FileNodeRecord, now: number): FileNodeRecord {
  const preserve = header(ctx.req.headers, 'x-ms-file-last-write-time')?.toLowerCase() === 'preserve';
  const time = smbTime(now);
  return {
    ...file,
    lastModified: now,
    etag: newEtag(now),
    smb: { ...file.smb, changeTime: time, lastWriteTime: preserve ? file.smb.lastWriteTime : time },
  };
}

/** Put Range: x-ms-write update stores the body over the span; clear forgets the span, which then reads as zeros. */
export async function putRange(ctx: FileRequest): Promise<void> {
  const mode = header(ctx.req.headers, 'x-ms-write')?.toLowerCase();
  if (mode === undefined) throw errors.missingHeader('x-ms-write', "Put Range needs 'x-ms-write: update' or 'x-ms-write: clear'.");
  if (mode !== 'update' && mode !== 'clear') throw errors.invalidHeader('x-ms-write', "use 'update' or 'clear'.");
  // Fail before reading a body that could not be stored anyway.
  const span = writeSpan(ctx, (await requireFile(ctx)).size);
  const key = pathKey(ctx.path);

  if (mode === 'clear') {
    const bodyLength = header(ctx.req.headers, 'content-length');
    if (bodyLength !== undefined && bodyLength !== '0') throw errors.invalidHeader('Content-Length', 'a clear takes no body; it must be 0.');
    const { node, orphans } = await orMissing(
      ctx,
      ctx.deps.repo.editNode(ctx.account, ctx.container, key, (current) => {
        const file = checkFound(current, false);
        checkInside(span.first, span.last, file.size);
        return { node: afterWrite(ctx, file, Date.now()), clear: span };
      }),
    );
    ctx.deps.pins.remove(orphans);
    ctx.deps.compactor.afterWrite(node.id);
    respondEmpty(ctx, 201, { ...versionHeaders(node), 'x-ms-file-last-write-time': node.smb.lastWriteTime });
    return;
  }

  const length = span.last - span.first + 1;
  if (length > LIMITS.range) {
    throw new StorageError(413, 'RequestBodyTooLarge', `A Put Range may write at most ${LIMITS.range} bytes (4 MiB); split the ${length} bytes into several ranges.`);
  }
  if (contentLength(ctx.req.headers, LIMITS.range) !== length) {
    throw errors.invalidHeader('Content-Length', `it must equal the number of bytes x-ms-range names (${length}).`);
  }
  const body = await receiveBody(ctx.req, ctx.deps.content, LIMITS.range, true);
  let result;
  try {
    result = await orMissing(
      ctx,
      ctx.deps.repo.editNode(ctx.account, ctx.container, key, (current) => {
        const file = checkFound(current, false);
        checkInside(span.first, span.last, file.size);
        return { node: afterWrite(ctx, file, Date.now()), write: { ...span, contentId: body.id, contentOffset: 0 } };
      }),
    );
  } catch (error) {
    await ctx.deps.content.remove([body.id]);
    throw error;
  }
  ctx.deps.pins.remove(result.orphans);
  ctx.deps.compactor.afterWrite(result.node.id);
  respondEmpty(ctx, 201, {
    ...versionHeaders(result.node),
    'content-md5': body.md5!.toString('base64'),
    ...(body.crc64 ? { 'x-ms-content-crc64': body.crc64.toString('base64') } : {}),
    'x-ms-request-server-encrypted': 'true',
    'x-ms-file-last-write-time': result.node.smb.lastWriteTime,
  });
}

/** List Ranges: the written parts of the file (or of x-ms-range within it), touching ones joined. */
export async function listRanges(ctx: FileRequest): Promise<void> {
  const file = await requireFile(ctx);
  // An empty file has no ranges, whatever span is asked about.
  const range = file.size === 0 ? undefined : requestedRange(ctx.req.headers, file.size);
  const first = range?.start ?? 0;
  const last = range?.end ?? file.size - 1;
  const ranges = file.size === 0 ? [] : (await ctx.deps.repo.ranges(file.id, first, last)).map((r) => ({ first: Math.max(r.first, first), last: Math.min(r.last, last) }));
  const xml = coalesce(ranges)
    .map((r) => `<Range><Start>${r.first}</Start><End>${r.last}</End></Range>`)
    .join('');
  respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?><Ranges>${xml}</Ranges>`, {
    ...versionHeaders(file),
    'x-ms-content-length': file.size,
  });
}
