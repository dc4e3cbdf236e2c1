import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FileNodeRecord, SmbProperties } from '../../db/records.js';
import { authenticate } from '../auth/authenticate.js';
import type { KeyRing } from '../auth/keyring.js';
import { StorageError, errors } from '../http/errors.js';
import { header, newEtag, readMetadata } from '../http/headers.js';
import { parseLocalUrl } from '../http/request-url.js';
import { respondEmpty } from '../http/respond.js';
import { READ_FILE } from './access.js';
import type { FileRequest } from './deps.js';
import { checkFilePath, checkShareName, pathKey } from './names.js';
import { newNodeLocation, orMissing } from './lookup.js';
import { versionHeaders } from './node-headers.js';
import { requestedPermission, type RequestedPermission } from './permissions.js';
import { smbForCreate } from './smb.js';

const cannotVerify = (why: string) => new StorageError(404, 'CannotVerifyCopySource', `Could not verify the copy source: ${why}`);

interface CopySource {
  account: string;
  share: string;
  path: string;
}

/**
 * Copy File from a file on this server. It completes before the response: the
 * destination gets the source's ranges over the same content files, so a copy
 * costs one metadata commit whatever the size.
 */
export function makeCopyFile(keyring: KeyRing) {
  return async function copyFile(ctx: FileRequest): Promise<void> {
    const sourceUrl = header(ctx.req.headers, 'x-ms-copy-source')!;
    const source = await authorizeSource(ctx, keyring, sourceUrl);
    const metadata = readMetadata(ctx.req.headers);
    const location = newNodeLocation(ctx, false);
    const copyId = randomUUID();
    const permissionFromSource = permissionCopyMode(ctx) === 'source';
    // The source's descriptor, kept under its key, follows the copy into another share inside copyFile's transaction.
    const permission: RequestedPermission = permissionFromSource ? {} : await requestedPermission(ctx);
    const { node, orphans } = await orMissing(
      ctx,
      ctx.deps.repo.copyFile(
        { account: source.account, share: source.share, key: pathKey(source.path) },
        location.at,
        (original, parent, existing) => {
          if (!original || original.isDirectory) throw cannotVerify(`the source file '${source.share}/${source.path}' does not exist.`);
          const parentNode = location.check(parent, existing);
          const now = Date.now();
          return {
            ...original,
            ...location.identity(parentNode),
            lastModified: now,
            etag: newEtag(now),
            metadata: Object.keys(metadata).length > 0 ? metadata : original.metadata,
            smb: copiedSmb(ctx, original, parentNode, now, permissionFromSource ? original.smb.permissionKey : permission.key),
            copy: { id: copyId, source: sourceUrl, status: 'success', progress: `${original.size}/${original.size}`, completed: now },
          };
        },
        permission.store,
      ),
    );
    ctx.deps.pins.remove(orphans);
    respondEmpty(ctx, 202, { ...versionHeaders(node), 'x-ms-copy-id': copyId, 'x-ms-copy-status': 'success' });
  };
}

/** x-ms-file-permission-copy-mode: 'source' keeps the source's permission; 'override' (or none) sets it as for a new file. */
function permissionCopyMode(ctx: FileRequest): 'source' | 'override' | undefined {
  const mode = header(ctx.req.headers, 'x-ms-file-permission-copy-mode')?.toLowerCase();
  if (mode !== undefined && mode !== 'source' && mode !== 'override') {
    throw errors.invalidHeader('x-ms-file-permission-copy-mode', "use 'source' or 'override'.");
  }
  return mode;
}

/**
 * SMB properties of the copy: each of attributes and times is the request's
 * value, 'source' for the source's, or what a new file gets; `permissionKey`
 * is the source's (x-ms-file-permission-copy-mode: source) or the one the
 * request asked for, else the parent's, as for a new file.
 */
function copiedSmb(ctx: FileRequest, original: FileNodeRecord, parent: FileNodeRecord, now: number, permissionKey: string | undefined): SmbProperties {
  const fresh = smbForCreate(withoutSourceValues(ctx), false, now, parent, permissionKey);
  const fromSource = (name: string) => header(ctx.req.headers, name)?.toLowerCase() === 'source';
  return {
    attributes: fromSource('x-ms-file-attributes') ? original.smb.attributes : fresh.attributes,
    creationTime: fromSource('x-ms-file-creation-time') ? original.smb.creationTime : fresh.creationTime,
    lastWriteTime: fromSource('x-ms-file-last-write-time') ? original.smb.lastWriteTime : fresh.lastWriteTime,
    changeTime: fromSource('x-ms-file-change-time') ? original.smb.changeTime : fresh.changeTime,
    permissionKey: fresh.permissionKey,
  };
}

/** The request as Create File would read it, with 'source' values taken out (copiedSmb resolves those). */
function withoutSourceValues(ctx: FileRequest): FileRequest {
  const headers = { ...ctx.req.headers };
  for (const name of ['x-ms-file-attributes', 'x-ms-file-creation-time', 'x-ms-file-last-write-time', 'x-ms-file-change-time']) {
    if ((headers[name] as string | undefined)?.toLowerCase() === 'source') delete headers[name];
  }
  return { ...ctx, req: { headers } as IncomingMessage };
}

/**
 * The source must be a file of an account on this server, readable by the
 * caller: the same account's Shared Key, or a SAS in the source URL.
 */
async function authorizeSource(ctx: FileRequest, keyring: KeyRing, sourceUrl: string): Promise<CopySource> {
  let url: URL;
  try {
    url = new URL(sourceUrl);
  } catch {
    throw errors.invalidHeader('x-ms-copy-source', 'it must be the absolute URL of a file.');
  }
  const parsed = parseLocalUrl(url, ctx.req.headers.host, 'file');
  if (!parsed) throw cannotVerify(`only files on this File endpoint (${ctx.req.headers.host}) can be copied; '${url.host}' is another host.`);
  const keys = keyring.get(parsed.account);
  if (!keys || !parsed.container || !parsed.path) throw cannotVerify('the URL does not name a file of an account on this server.');
  checkShareName(parsed.container);
  checkFilePath(parsed.path);
  const sameAccountKey = parsed.account === ctx.account && ctx.auth.kind === 'sharedKey';
  if (!sameAccountKey) {
    const sourceCtx: FileRequest = { ...ctx, ...parsed, req: { method: 'GET', headers: {}, socket: ctx.req.socket } as IncomingMessage };
    // Read first: the check itself does not wait, and a SAS's stored policy (si) is the source share's.
    const share = parsed.query.has('si') ? await ctx.deps.repo.getShare(parsed.account, parsed.container) : undefined;
    const auth = authenticate(sourceCtx, keys, READ_FILE, (named, id) =>
      named === parsed.container ? share?.signedIdentifiers.find((identifier) => identifier.id === id) : undefined,
    );
    if (auth.kind === 'anonymous') throw cannotVerify('the source is private: append a SAS with read permission to the source URL.');
  }
  return { account: parsed.account, share: parsed.container, path: parsed.path };
}

/** Abort Copy File: copies finish before Copy File answers, so there is never one to abort. */
export async function abortCopy(_ctx: FileRequest): Promise<void> {
  throw new StorageError(409, 'NoPendingCopyOperation', 'There is currently no pending copy operation: copies on this server complete before Copy File returns.');
}
