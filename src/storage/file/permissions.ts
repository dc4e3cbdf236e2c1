import { createHash } from 'node:crypto';
import type { FileNodeRecord } from '../../db/records.js';
import { readSmallBody } from '../http/body.js';
import { StorageError, errors } from '../http/errors.js';
import { header } from '../http/headers.js';
import { respondEmpty, writeHead } from '../http/respond.js';
import { LIMITS, type FileRequest } from './deps.js';
import { requireShare } from './lookup.js';

/** The descriptor files and directories get when nobody sets one: full control for SYSTEM and administrators, modify for users. */
const DEFAULT_PERMISSION = 'O:SYG:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;AU)(A;OICI;0x1200a9;;;BU)';

/** Azure's permission keys look like `13873153514421249079*1000457963285208592`; ours hash the descriptor, so equal descriptors share a key. */
export function permissionKeyOf(permission: string): string {
  const digest = createHash('sha256').update(permission).digest();
  return `${digest.readBigUInt64BE(0)}*${digest.readBigUInt64BE(8)}`;
}

export const DEFAULT_PERMISSION_KEY = permissionKeyOf(DEFAULT_PERMISSION);

function lookupPermission(ctx: FileRequest, key: string, account = ctx.account, share = ctx.container): string | undefined {
  return key === DEFAULT_PERMISSION_KEY ? DEFAULT_PERMISSION : ctx.deps.repo.getPermission(account, share, key);
}

function storePermission(ctx: FileRequest, permission: string): string {
  const key = permissionKeyOf(permission);
  if (key !== DEFAULT_PERMISSION_KEY) ctx.deps.repo.putPermission(ctx.account, ctx.container, key, permission);
  return key;
}

/**
 * The permission key a create or update asks for: from x-ms-file-permission (a
 * descriptor, 'inherit' or 'preserve') or x-ms-file-permission-key, never both.
 * Undefined means inherit (create) or keep (update), for the caller to decide.
 */
export function requestedPermissionKey(ctx: FileRequest): string | undefined {
  const permission = header(ctx.req.headers, 'x-ms-file-permission');
  const key = header(ctx.req.headers, 'x-ms-file-permission-key');
  if (permission !== undefined && key !== undefined) {
    throw errors.invalidHeader('x-ms-file-permission', 'send either x-ms-file-permission or x-ms-file-permission-key, not both.');
  }
  if (key !== undefined) {
    if (lookupPermission(ctx, key) === undefined) {
      throw errors.invalidHeader('x-ms-file-permission-key', 'no permission of this share has that key; create it with Create Permission first.');
    }
    return key;
  }
  if (permission === undefined || permission === 'inherit' || permission === 'preserve') return undefined;
  if (Buffer.byteLength(permission) > LIMITS.permissionHeader) {
    throw errors.invalidHeader('x-ms-file-permission', `it is longer than ${LIMITS.permissionHeader} bytes; create it with Create Permission and send x-ms-file-permission-key instead.`);
  }
  return storePermission(ctx, permission);
}

/** The key of a copied file's permission in the destination share, storing the descriptor there when the copy crosses shares. */
export function copyPermission(ctx: FileRequest, source: FileNodeRecord): string {
  if (source.account === ctx.account && source.share === ctx.container) return source.smb.permissionKey;
  const permission = lookupPermission(ctx, source.smb.permissionKey, source.account, source.share);
  return permission === undefined ? DEFAULT_PERMISSION_KEY : storePermission(ctx, permission);
}

/** Create Permission: stores a descriptor sent as JSON `{"permission": "..."}` and answers its key. */
export async function createPermission(ctx: FileRequest): Promise<void> {
  requireShare(ctx);
  const body = await readSmallBody(ctx.req, LIMITS.permissionBody);
  let permission: unknown;
  try {
    permission = JSON.parse(body.toString('utf8')).permission;
  } catch {
    permission = undefined;
  }
  if (typeof permission !== 'string' || permission === '') {
    throw new StorageError(400, 'InvalidInput', 'The request body must be JSON of the form {"permission": "<SDDL descriptor>"}.');
  }
  respondEmpty(ctx, 201, { 'x-ms-file-permission-key': storePermission(ctx, permission) });
}

/** Get Permission: the descriptor behind x-ms-file-permission-key, as JSON. */
export async function getPermission(ctx: FileRequest): Promise<void> {
  requireShare(ctx);
  const key = header(ctx.req.headers, 'x-ms-file-permission-key');
  if (key === undefined) throw errors.missingHeader('x-ms-file-permission-key', 'Get Permission needs the key that Create Permission returned.');
  const permission = lookupPermission(ctx, key);
  if (permission === undefined) {
    throw new StorageError(404, 'ResourceNotFound', 'No permission of this share has that x-ms-file-permission-key; check the key or create the permission again.');
  }
  const json = JSON.stringify({ permission });
  writeHead(ctx, 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  ctx.res.end(json);
}
