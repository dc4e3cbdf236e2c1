import type { NodeDraft } from '../../db/files.js';
import type { FileNodeRecord } from '../../db/records.js';
import { newEtag } from '../http/headers.js';
import type { FileRequest } from './deps.js';
import { newNodeLocation, orMissing } from './lookup.js';
import { requestedPermission } from './permissions.js';
import { smbForCreate } from './smb.js';

/** What Create File and Create Directory choose themselves; the rest (place, times, ETag, SMB properties) is the same for both. */
type OwnFields = Omit<NodeDraft, keyof ReturnType<ReturnType<typeof newNodeLocation>['identity']> | 'isDirectory' | 'lastModified' | 'etag' | 'smb'>;

/**
 * Creates the file or directory the request names, in one store transaction
 * with its parent's checks and any permission sent in full; the node, and the
 * content a replaced file no longer needs.
 */
export async function createNode(ctx: FileRequest, isDirectory: boolean, fields: OwnFields): Promise<{ node: FileNodeRecord; orphans: string[] }> {
  const location = newNodeLocation(ctx, isDirectory);
  const permission = await requestedPermission(ctx);
  return orMissing(
    ctx,
    ctx.deps.repo.putNode(
      location.at,
      (parent, existing) => {
        const parentNode = location.check(parent, existing);
        const now = Date.now();
        return {
          ...location.identity(parentNode),
          isDirectory,
          ...fields,
          lastModified: now,
          etag: newEtag(now),
          smb: smbForCreate(ctx, isDirectory, now, parentNode, permission.key),
        };
      },
      permission.store,
    ),
  );
}
