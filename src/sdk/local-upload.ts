import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MlspaceError } from './errors.js';
import { filesUnder, joinRemote, uploadPlanned } from './transfer.js';
import type { Workspace } from './workspace.js';

/** Where a local file or folder went: its datastore, its path there, and its URL. */
export interface UploadedPath {
  datastore: string;
  /** The path in the datastore: `LocalUpload/<hash>/<name>`. */
  path: string;
  /** `azureml://datastores/<datastore>/paths/<path>`, with a trailing `/` for a folder. */
  uri: string;
  /** The file's or folder's URL in the storage service (a code version's codeUri). */
  url: string;
  isFolder: boolean;
}

/**
 * A content hash of a file or folder, as az ml computes the snapshot's: an MD5
 * seeded as az ml seeds it, over each entry's name and bytes in path order
 * (case-insensitive), so the same folder always uploads to the same place.
 */
function contentHash(root: string): string {
  const hash = createHash('md5').update('Initialize for october 2021 AML CLI version');
  const add = (entry: string) => {
    const stat = fs.statSync(entry);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(entry).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
        hash.update(name);
        add(path.join(entry, name));
      }
    } else {
      hash.update(fs.readFileSync(entry));
    }
  };
  add(root);
  return hash.digest('hex');
}

/**
 * Uploads a local file or folder to the workspace's default datastore under
 * `LocalUpload/<hash>/<name>`, as az ml does for a job's code and local
 * inputs, signed with what that datastore holds (its key, through
 * listSecrets; the caller's identity when it holds none).
 */
export async function uploadLocalPath(workspace: Workspace, localPath: string): Promise<UploadedPath> {
  const stat = fs.statSync(localPath, { throwIfNoEntry: false });
  if (!stat) throw new MlspaceError(`${localPath} does not exist.`, 'NotFound');
  const datastore = await workspace.getDefaultDatastore();
  const name = path.basename(path.resolve(localPath));
  const prefix = joinRemote('LocalUpload', contentHash(localPath), name);
  const files = stat.isDirectory()
    ? filesUnder(localPath).map((file) => ({ localPath: file.localPath, remotePath: joinRemote(prefix, file.relative), size: file.size }))
    : [{ localPath, remotePath: prefix, size: stat.size }];
  const url = await datastore.withStorage(await datastore.ownAccess(), async (target) => {
    await uploadPlanned(target, files);
    return target.url(prefix);
  });
  const isFolder = stat.isDirectory();
  return { datastore: datastore.name, path: prefix, uri: `azureml://datastores/${datastore.name}/paths/${prefix}${isFolder ? '/' : ''}`, url, isFolder };
}
