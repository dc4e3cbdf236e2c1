import type { NewPermission } from '../../db/files.js';
import type { FileNodeRecord } from '../../db/records.js';
import { StorageError } from '../http/errors.js';
import { newEtag, readMetadata, writeMetadata } from '../http/headers.js';
import { respondEmpty } from '../http/respond.js';
import type { FileRequest } from './deps.js';
import { fileErrors } from './file-errors.js';
import { createNode } from './create-node.js';
import { checkFound, orMissing, requireDirectory } from './lookup.js';
import { pathKey } from './names.js';
import { versionHeaders } from './node-headers.js';
import { requestedPermission } from './permissions.js';
import { smbForUpdate, smbHeaders } from './smb.js';

const rootIsPermanent = (what: string) =>
  new StorageError(400, 'InvalidResourceName', `The root directory of a share cannot be ${what}; it exists as long as the share does.`);

export async function createDirectory(ctx: FileRequest): Promise<void> {
  if (ctx.path === '') throw fileErrors.resourceExists('/');
  const metadata = readMetadata(ctx.req.headers);
  const { node } = await createNode(ctx, true, { size: 0, metadata });
  respondEmpty(ctx, 201, { ...versionHeaders(node), ...smbHeaders(node), 'x-ms-request-server-encrypted': 'true' });
}

export async function deleteDirectory(ctx: FileRequest): Promise<void> {
  if (ctx.path === '') throw rootIsPermanent('deleted');
  await orMissing(
    ctx,
    ctx.deps.repo.deleteNode(ctx.account, ctx.container, pathKey(ctx.path), (current, hasChildren) => {
      checkFound(current, true);
      if (hasChildren) throw fileErrors.directoryNotEmpty(ctx.path);
    }),
  );
  respondEmpty(ctx, 202);
}

export async function getDirectoryProperties(ctx: FileRequest): Promise<void> {
  const node = await requireDirectory(ctx);
  writeMetadata(ctx.res, node.metadata);
  respondEmpty(ctx, 200, { ...versionHeaders(node), ...smbHeaders(node), 'x-ms-server-encrypted': 'true' });
}

export async function setDirectoryMetadata(ctx: FileRequest): Promise<void> {
  const metadata = readMetadata(ctx.req.headers);
  const node = await updateDirectory(ctx, (current) => ({ ...current, metadata }));
  respondEmpty(ctx, 200, { ...versionHeaders(node), 'x-ms-request-server-encrypted': 'true' });
}

export async function setDirectoryProperties(ctx: FileRequest): Promise<void> {
  const permission = await requestedPermission(ctx);
  const node = await updateDirectory(ctx, (current, now) => ({ ...current, smb: smbForUpdate(ctx, current, now, permission.key) }), permission.store);
  respondEmpty(ctx, 200, { ...versionHeaders(node), ...smbHeaders(node), 'x-ms-request-server-encrypted': 'true' });
}

async function updateDirectory(ctx: FileRequest, change: (current: FileNodeRecord, now: number) => FileNodeRecord, permission?: NewPermission): Promise<FileNodeRecord> {
  const { node } = await orMissing(
    ctx,
    ctx.deps.repo.editNode(
      ctx.account,
      ctx.container,
      pathKey(ctx.path),
      (current) => {
        const directory = checkFound(current, true);
        const now = Date.now();
        return { node: { ...change(directory, now), lastModified: now, etag: newEtag(now) } };
      },
      permission,
    ),
  );
  return node;
}
