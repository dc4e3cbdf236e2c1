import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { sendPieces } from '../../bytes/body-pieces.js';
import type { FileNodeRecord } from '../../db/records.js';
import { StorageError, errors } from '../http/errors.js';
import { addContentHeaders, header, newEtag, readContentHeaders, readMetadata, writeMetadata } from '../http/headers.js';
import { requestedRange } from '../http/range.js';
import { respondEmpty, writeHead } from '../http/respond.js';
import { LIMITS, type FileRequest } from './deps.js';
import { openFileBytes, readFileBytes, readSmallSpan } from './file-content.js';
import { createNode } from './create-node.js';
import { checkFound, orMissing, requireFile } from './lookup.js';
import { pathKey } from './names.js';
import { versionHeaders } from './node-headers.js';
import { requestedPermission } from './permissions.js';
import { smbForUpdate, smbHeaders } from './smb.js';

/** x-ms-content-length: the file's length, 0 to 4 TiB. */
function fileLength(ctx: FileRequest, required: boolean): number | undefined {
  const raw = header(ctx.req.headers, 'x-ms-content-length');
  if (raw === undefined) {
    if (required) throw errors.missingHeader('x-ms-content-length', 'Create File needs the file length in bytes; content is then written with Put Range.');
    return undefined;
  }
  const length = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(length) || length < 0 || length > LIMITS.fileSize) {
    throw errors.invalidHeader('x-ms-content-length', `the file length must be an integer from 0 to ${LIMITS.fileSize} (4 TiB).`);
  }
  return length;
}

export async function createFile(ctx: FileRequest): Promise<void> {
  const type = header(ctx.req.headers, 'x-ms-type');
  if (type === undefined) throw errors.missingHeader('x-ms-type', "Create File needs 'x-ms-type: file'.");
  if (type.toLowerCase() !== 'file') throw errors.invalidHeader('x-ms-type', `it must be 'file', not '${type}'.`);
  const size = fileLength(ctx, true)!;
  const bodyLength = header(ctx.req.headers, 'content-length');
  if (bodyLength !== undefined && bodyLength !== '0') {
    throw errors.invalidHeader('Content-Length', 'Create File takes no body: create the file, then write its content with Put Range.');
  }
  const contentHeaders = readContentHeaders(ctx.req.headers, true, 'x-ms-');
  const metadata = readMetadata(ctx.req.headers);
  const { node, orphans } = await createNode(ctx, false, { size, metadata, ...contentHeaders });
  ctx.deps.pins.remove(orphans);
  respondEmpty(ctx, 201, { ...versionHeaders(node), ...smbHeaders(node), 'x-ms-request-server-encrypted': 'true' });
}

/** Headers Get File and Get File Properties share. */
function fileHeaders(ctx: FileRequest, file: FileNodeRecord): OutgoingHttpHeaders {
  const headers = smbHeaders(file, versionHeaders(file));
  headers['x-ms-type'] = 'File';
  headers['x-ms-server-encrypted'] = 'true';
  headers['x-ms-lease-status'] = 'unlocked';
  headers['x-ms-lease-state'] = 'available';
  headers['accept-ranges'] = 'bytes';
  addContentHeaders(headers, file, ctx.auth);
  writeMetadata(ctx.res, file.metadata);
  return headers;
}

export async function getFileProperties(ctx: FileRequest): Promise<void> {
  const file = await requireFile(ctx);
  const headers = fileHeaders(ctx, file);
  headers['content-length'] = file.size;
  if (file.contentMd5) headers['content-md5'] = file.contentMd5;
  writeHead(ctx, 200, headers);
  ctx.res.end();
}

/** Reads up to this size are answered from one buffer, through the small-content cache. */
const SMALL_SPAN = 64 * 1024;

export async function getFile(ctx: FileRequest): Promise<void> {
  const file = await requireFile(ctx);
  const range = requestedRange(ctx.req.headers, file.size);
  const headers = fileHeaders(ctx, file);
  const first = range?.start ?? 0;
  const last = range?.end ?? file.size - 1;
  headers['content-length'] = last - first + 1;
  if (range) {
    headers['content-range'] = `bytes ${first}-${last}/${file.size}`;
    if (file.contentMd5) headers['x-ms-content-md5'] = file.contentMd5;
  } else if (file.contentMd5) {
    headers['content-md5'] = file.contentMd5;
  }
  const status = range ? 206 : 200;
  if (header(ctx.req.headers, 'x-ms-range-get-content-md5') === 'true') {
    if (!range || last - first + 1 > LIMITS.range) {
      throw new StorageError(400, 'OutOfRangeInput', 'x-ms-range-get-content-md5 needs x-ms-range naming at most 4 MiB.');
    }
    const data = await readFileBytes(ctx.deps, file, first, last);
    headers['content-md5'] = createHash('md5').update(data).digest('base64');
    writeHead(ctx, status, headers);
    ctx.res.end(data);
    return;
  }
  if (last - first + 1 <= SMALL_SPAN) {
    const data = file.size === 0 ? Buffer.alloc(0) : await readSmallSpan(ctx.deps, file, first, last);
    writeHead(ctx, status, headers);
    ctx.res.end(data);
    return;
  }
  const { pieces, release } = await openFileBytes(ctx.deps, file, first, last);
  try {
    writeHead(ctx, status, headers);
    await sendPieces(ctx.deps.content, pieces, ctx.res);
  } finally {
    await release();
  }
}

export async function deleteFile(ctx: FileRequest): Promise<void> {
  const orphans = await orMissing(ctx, ctx.deps.repo.deleteNode(ctx.account, ctx.container, pathKey(ctx.path), (current) => checkFound(current, false)));
  ctx.deps.pins.remove(orphans);
  respondEmpty(ctx, 202);
}

/**
 * Set File Properties: content headers the request omits are cleared, as Azure
 * documents; x-ms-content-length resizes, dropping the bytes past a smaller end.
 */
export async function setFileProperties(ctx: FileRequest): Promise<void> {
  const contentHeaders = readContentHeaders(ctx.req.headers, false, 'x-ms-');
  const size = fileLength(ctx, false);
  const permission = await requestedPermission(ctx);
  const { node, orphans } = await orMissing(
    ctx,
    ctx.deps.repo.editNode(
      ctx.account,
      ctx.container,
      pathKey(ctx.path),
      (current) => {
        const file = checkFound(current, false);
        const now = Date.now();
        const next: FileNodeRecord = {
          ...file,
          ...contentHeaders,
          size: size ?? file.size,
          smb: smbForUpdate(ctx, file, now, permission.key),
          lastModified: now,
          etag: newEtag(now),
        };
        return { node: next, clear: size !== undefined && size < file.size ? { first: size, last: file.size - 1 } : undefined };
      },
      permission.store,
    ),
  );
  ctx.deps.pins.remove(orphans);
  respondEmpty(ctx, 200, { ...versionHeaders(node), ...smbHeaders(node), 'x-ms-request-server-encrypted': 'true' });
}

export async function getFileMetadata(ctx: FileRequest): Promise<void> {
  const file = await requireFile(ctx);
  writeMetadata(ctx.res, file.metadata);
  respondEmpty(ctx, 200, versionHeaders(file));
}

export async function setFileMetadata(ctx: FileRequest): Promise<void> {
  const metadata = readMetadata(ctx.req.headers);
  const { node } = await orMissing(
    ctx,
    ctx.deps.repo.editNode(ctx.account, ctx.container, pathKey(ctx.path), (current) => {
      const file = checkFound(current, false);
      const now = Date.now();
      return { node: { ...file, metadata, lastModified: now, etag: newEtag(now) } };
    }),
  );
  respondEmpty(ctx, 200, { ...versionHeaders(node), 'x-ms-request-server-encrypted': 'true' });
}
