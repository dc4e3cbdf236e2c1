import { createHash } from 'node:crypto';
import type { NewPermission } from '../../db/files.js';
import { readSmallBody } from '../http/body.js';
import { StorageError, errors } from '../http/errors.js';
import { header } from '../http/headers.js';
import { respondEmpty, writeHead } from '../http/respond.js';
import { LIMITS, type FileRequest } from './deps.js';
import { fileErrors } from './file-errors.js';
import { requireShare } from './lookup.js';

/** The descriptor files and directories get when nobody sets one: full control for SYSTEM and administrators, modify for users. */
const DEFAULT_PERMISSION = 'O:SYG:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;AU)(A;OICI;0x1200a9;;;BU)';

/** Azure's permission keys look like `13873153514421249079*1000457963285208592`; ours hash the descriptor, so equal descriptors share a key. */
export function permissionKeyOf(permission: string): string {
  const digest = createHash('sha256').update(permission).digest();
  return `${digest.readBigUInt64BE(0)}*${digest.readBigUInt64BE(8)}`;
}

export const DEFAULT_PERMISSION_KEY = permissionKeyOf(DEFAULT_PERMISSION);

function lookupPermission(ctx: FileRequest, key: string): Promise<string | undefined> {
  return key === DEFAULT_PERMISSION_KEY ? Promise.resolve(DEFAULT_PERMISSION) : ctx.deps.repo.getPermission(ctx.account, ctx.container, key);
}

/**
 * What a create or update asks of its permission (x-ms-file-permission: a
 * descriptor, 'inherit' or 'preserve'; or x-ms-file-permission-key, never both),
 * read before the write's transaction: the key the node gets (undefined:
 * inherit on create, keep on update, for the caller to decide) and the
 * descriptor to store with the node when one was sent in full.
 */
export interface RequestedPermission {
  key?: string;
  store?: NewPermission;
}

const NO_PERMISSION: RequestedPermission = Object.freeze({});

/**
 * Reads the permission headers, checking that a key names a descriptor of the
 * share. A share's descriptors go only with the share itself, so one found
 * here is still there when the write's transaction runs.
 */
export async function requestedPermission(ctx: FileRequest): Promise<RequestedPermission> {
  const permission = header(ctx.req.headers, 'x-ms-file-permission');
  const key = header(ctx.req.headers, 'x-ms-file-permission-key');
  if (permission !== undefined && key !== undefined) {
    throw errors.invalidHeader('x-ms-file-permission', 'send either x-ms-file-permission or x-ms-file-permission-key, not both.');
  }
  if (key !== undefined) {
    if ((await lookupPermission(ctx, key)) === undefined) {
      throw errors.invalidHeader('x-ms-file-permission-key', 'no permission of this share has that key; create it with Create Permission first.');
    }
    return { key };
  }
  if (permission === undefined || permission === 'inherit' || permission === 'preserve') return NO_PERMISSION;
  if (Buffer.byteLength(permission) > LIMITS.permissionHeader) {
    throw errors.invalidHeader('x-ms-file-permission', `it is longer than ${LIMITS.permissionHeader} bytes; create it with Create Permission and send x-ms-file-permission-key instead.`);
  }
  return descriptorToStore(permission);
}

/** The default descriptor is never stored: every share has it. */
function descriptorToStore(permission: string): { key: string; store?: NewPermission } {
  const key = permissionKeyOf(permission);
  return key === DEFAULT_PERMISSION_KEY ? { key } : { key, store: { key, permission } };
}

/** Create Permission: stores a descriptor sent as JSON `{"permission": "..."}` and answers its key. */
export async function createPermission(ctx: FileRequest): Promise<void> {
  await requireShare(ctx);
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
  const { key, store } = descriptorToStore(permission);
  // The share may have gone while the body was read: its descriptors went with it.
  if (store && !(await ctx.deps.repo.putPermission(ctx.account, ctx.container, store.key, store.permission))) throw fileErrors.shareNotFound(ctx.container);
  respondEmpty(ctx, 201, { 'x-ms-file-permission-key': key });
}

/** Get Permission: the descriptor behind x-ms-file-permission-key, as JSON. */
export async function getPermission(ctx: FileRequest): Promise<void> {
  await requireShare(ctx);
  const key = header(ctx.req.headers, 'x-ms-file-permission-key');
  if (key === undefined) throw errors.missingHeader('x-ms-file-permission-key', 'Get Permission needs the key that Create Permission returned.');
  const permission = await lookupPermission(ctx, key);
  if (permission === undefined) {
    throw new StorageError(404, 'ResourceNotFound', 'No permission of this share has that x-ms-file-permission-key; check the key or create the permission again.');
  }
  const json = JSON.stringify({ permission });
  writeHead(ctx, 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  ctx.res.end(json);
}
