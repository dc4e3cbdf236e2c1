import type { OutgoingHttpHeaders } from 'node:http';
import type { FileNodeRecord, SmbProperties } from '../../db/records.js';
import { errors } from '../http/errors.js';
import { header } from '../http/headers.js';
import type { FileRequest } from './deps.js';
import { DEFAULT_PERMISSION_KEY } from './permissions.js';

/**
 * SMB properties (attributes, times, permission) as the REST API sets and
 * returns them. mlspace serves no SMB clients: it keeps what clients set so
 * that they read it back, as Azure would answer.
 */

// Azure's order when it lists attributes.
const ATTRIBUTES = ['ReadOnly', 'Hidden', 'System', 'Directory', 'Archive', 'Temporary', 'Offline', 'NotContentIndexed', 'NoScrubData'];
const BY_LOWER_NAME = new Map(ATTRIBUTES.map((name) => [name.toLowerCase(), name]));

/** Seven fractional digits (100 ns), as Azure writes these times. */
export function smbTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}0000Z`;
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z$/;

/** A time header: 'now', 'preserve' (keep `current`), or an ISO 8601 UTC time; `fallback` when absent. */
function timeHeader(ctx: FileRequest, name: string, now: string, current: string | undefined, fallback: 'now' | 'preserve'): string {
  const value = header(ctx.req.headers, name) ?? fallback;
  const lower = value.toLowerCase();
  if (lower === 'now') return now;
  if (lower === 'preserve' && current !== undefined) return current;
  const match = ISO_TIME.exec(value);
  if (!match || Number.isNaN(Date.parse(`${match[1]}Z`))) {
    throw errors.invalidHeader(name, `use 'now'${current === undefined ? '' : ", 'preserve'"} or an ISO 8601 UTC time such as 2030-01-31T23:59:59.1234567Z.`);
  }
  return `${match[1]}.${(match[2] ?? '').padEnd(7, '0')}Z`;
}

function attributesHeader(ctx: FileRequest, isDirectory: boolean, current: string | undefined): string {
  const value = header(ctx.req.headers, 'x-ms-file-attributes');
  if (value === undefined || (value.toLowerCase() === 'preserve' && current !== undefined)) return current ?? defaultAttributes(isDirectory);
  const names = new Set<string>();
  for (const part of value.split('|')) {
    const lower = part.trim().toLowerCase();
    if (lower === 'none' || lower === 'normal') continue;
    const name = BY_LOWER_NAME.get(lower);
    if (name === undefined || (name === 'Directory' && !isDirectory)) {
      throw errors.invalidHeader('x-ms-file-attributes', `'${part.trim()}' is not a file attribute; use 'None' or '|'-separated ${ATTRIBUTES.filter((a) => a !== 'Directory').join(', ')}.`);
    }
    names.add(name);
  }
  if (isDirectory) names.add('Directory');
  return names.size === 0 ? 'None' : ATTRIBUTES.filter((name) => names.has(name)).join('|');
}

function defaultAttributes(isDirectory: boolean): string {
  return isDirectory ? 'Directory' : 'Archive';
}

/** Properties of a node nobody set any on: a share's root directory. */
export function defaultSmb(isDirectory: boolean, now: number): SmbProperties {
  const time = smbTime(now);
  return { attributes: defaultAttributes(isDirectory), creationTime: time, lastWriteTime: time, changeTime: time, permissionKey: DEFAULT_PERMISSION_KEY };
}

/**
 * Properties of a new file or directory: what the request sets, else now,
 * Archive/Directory, and the parent's permission (`permissionKey` is the one
 * the request asked for, read by requestedPermission before the transaction).
 */
export function smbForCreate(ctx: FileRequest, isDirectory: boolean, now: number, parent: FileNodeRecord | undefined, permissionKey: string | undefined): SmbProperties {
  const time = smbTime(now);
  const attributes = attributesHeader(ctx, isDirectory, undefined);
  return {
    // A new file is marked for archiving, as Windows and Azure do.
    attributes: !isDirectory && attributes === 'None' ? 'Archive' : attributes,
    creationTime: timeHeader(ctx, 'x-ms-file-creation-time', time, undefined, 'now'),
    lastWriteTime: timeHeader(ctx, 'x-ms-file-last-write-time', time, undefined, 'now'),
    changeTime: timeHeader(ctx, 'x-ms-file-change-time', time, undefined, 'now'),
    permissionKey: permissionKey ?? parent?.smb.permissionKey ?? DEFAULT_PERMISSION_KEY,
  };
}

/** Set File/Directory Properties: what the request omits is kept, except the change time, which becomes now. */
export function smbForUpdate(ctx: FileRequest, current: FileNodeRecord, now: number, permissionKey: string | undefined): SmbProperties {
  const time = smbTime(now);
  return {
    attributes: attributesHeader(ctx, current.isDirectory, current.smb.attributes),
    creationTime: timeHeader(ctx, 'x-ms-file-creation-time', time, current.smb.creationTime, 'preserve'),
    lastWriteTime: timeHeader(ctx, 'x-ms-file-last-write-time', time, current.smb.lastWriteTime, 'preserve'),
    changeTime: timeHeader(ctx, 'x-ms-file-change-time', time, current.smb.changeTime, 'now'),
    permissionKey: permissionKey ?? current.smb.permissionKey,
  };
}

/** The x-ms-file-* response headers of a file or directory, added to `headers` (a new object by default). */
export function smbHeaders(node: FileNodeRecord, headers: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  headers['x-ms-file-attributes'] = node.smb.attributes;
  headers['x-ms-file-creation-time'] = node.smb.creationTime;
  headers['x-ms-file-last-write-time'] = node.smb.lastWriteTime;
  headers['x-ms-file-change-time'] = node.smb.changeTime;
  headers['x-ms-file-permission-key'] = node.smb.permissionKey;
  headers['x-ms-file-id'] = String(node.id);
  headers['x-ms-file-parent-id'] = String(node.parentId);
  return headers;
}
