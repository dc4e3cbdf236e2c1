import type { FileNodeRecord } from '../../db/records.js';
import { errors, escapeXml } from '../http/errors.js';
import { header, httpDate } from '../http/headers.js';
import { includes, maxResults } from '../http/listing-params.js';
import { respondXml } from '../http/respond.js';
import type { FileRequest } from './deps.js';
import { requireDirectory } from './lookup.js';
import { pathKey } from './names.js';

const INCLUDE_VALUES = ['timestamps', 'etag', 'attributes', 'permissionkey'];

/** Markers are opaque to clients: the key of the last entry returned, which the next page starts after. */
function decodeMarker(marker: string, directoryPrefix: string): string {
  const key = Buffer.from(marker, 'base64url').toString('utf8');
  if (!key.startsWith(directoryPrefix)) {
    throw errors.invalidQuery('marker', 'pass back the NextMarker of the previous page of this directory unchanged.');
  }
  return key;
}

/** List Directories and Files: one directory's entries in name order, case-insensitively, filtered by prefix. */
export async function listFilesAndDirectories(ctx: FileRequest): Promise<void> {
  const directory = await requireDirectory(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const limit = maxResults(ctx.query);
  const include = includes(ctx.query, INCLUDE_VALUES);
  const extended = header(ctx.req.headers, 'x-ms-file-extended-info') === 'true';
  const directoryPrefix = directory.key === '' ? '' : `${directory.key}/`;
  const keyPrefix = directoryPrefix + pathKey(prefix);
  const after = marker ? decodeMarker(marker, directoryPrefix) : '';

  const rows = await ctx.deps.repo.listChildren(ctx.account, ctx.container, directory.key, keyPrefix, after, limit + 1);
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? Buffer.from(page[page.length - 1]!.key).toString('base64url') : '';

  const parts = [
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(`${ctx.deps.endpoint}/${ctx.account}/`)}"`,
    ` ShareName="${escapeXml(ctx.container)}" DirectoryPath="${escapeXml(ctx.path)}">`,
    prefix ? `<Prefix>${escapeXml(prefix)}</Prefix>` : '',
    marker ? `<Marker>${escapeXml(marker)}</Marker>` : '',
    ctx.query.has('maxresults') ? `<MaxResults>${limit}</MaxResults>` : '',
    extended ? `<DirectoryId>${directory.id}</DirectoryId>` : '',
    '<Entries>',
  ];
  for (const node of page) parts.push(entryXml(node, include, extended));
  parts.push('</Entries>', `<NextMarker>${next}</NextMarker></EnumerationResults>`);
  respondXml(ctx, 200, parts.join(''));
}

function entryXml(node: FileNodeRecord, include: Set<string>, extended: boolean): string {
  const element = node.isDirectory ? 'Directory' : 'File';
  let properties = node.isDirectory ? '' : `<Content-Length>${node.size}</Content-Length>`;
  if (include.has('timestamps')) {
    properties +=
      `<CreationTime>${node.smb.creationTime}</CreationTime><LastAccessTime>${node.smb.lastWriteTime}</LastAccessTime>` +
      `<LastWriteTime>${node.smb.lastWriteTime}</LastWriteTime><ChangeTime>${node.smb.changeTime}</ChangeTime>` +
      `<Last-Modified>${httpDate(node.lastModified)}</Last-Modified>`;
  }
  if (include.has('etag')) properties += `<Etag>${node.etag}</Etag>`;
  return (
    `<${element}>${extended ? `<FileId>${node.id}</FileId>` : ''}<Name>${escapeXml(node.name)}</Name>` +
    (properties ? `<Properties>${properties}</Properties>` : '<Properties />') +
    (include.has('attributes') ? `<Attributes>${node.smb.attributes}</Attributes>` : '') +
    (include.has('permissionkey') ? `<PermissionKey>${node.smb.permissionKey}</PermissionKey>` : '') +
    `</${element}>`
  );
}
