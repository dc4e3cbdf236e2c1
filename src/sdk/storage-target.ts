import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AnonymousCredential as FileAnonymousCredential, ShareClient, StorageSharedKeyCredential as FileSharedKeyCredential } from '@azure/storage-file-share';
import type { DatastoreType, HeldCredential } from './datastore-types.js';
import { datastoreServiceUrl } from './storage-url.js';

export interface RemoteFile {
  path: string;
  size: number;
}

/**
 * One container or file share, reached with one held credential: the few
 * operations uploads and downloads need, over the official storage clients.
 * Paths are '/'-separated and relative to the container or share.
 */
export interface StorageTarget {
  exists(path: string): Promise<boolean>;
  upload(localPath: string, path: string, onBytes: (loaded: number) => void, abortSignal: AbortSignal): Promise<void>;
  list(prefix: string): AsyncIterable<RemoteFile>;
  download(path: string, localPath: string, onBytes: (loaded: number) => void, abortSignal: AbortSignal): Promise<void>;
}

export interface TargetLocation {
  type: DatastoreType;
  accountName: string;
  /** Container (AzureBlob) or share (AzureFile). */
  container: string;
  endpoint: string;
  protocol: string;
}

export function storageTarget(location: TargetLocation, credential: HeldCredential): StorageTarget {
  const service = datastoreServiceUrl(location.type, location.accountName, location.endpoint, location.protocol);
  const url = `${service}/${encodeURIComponent(location.container)}${credential.type === 'Sas' ? `?${credential.sasToken.replace(/^\?/, '')}` : ''}`;
  return location.type === 'AzureBlob' ? blobTarget(url, location.accountName, credential) : fileTarget(url, location.accountName, credential);
}

function blobTarget(url: string, account: string, credential: HeldCredential): StorageTarget {
  const container = new ContainerClient(url, credential.type === 'AccountKey' ? new StorageSharedKeyCredential(account, credential.key) : new AnonymousCredential());
  return {
    exists: (path) => container.getBlobClient(path).exists(),
    async upload(localPath, path, onBytes, abortSignal) {
      await container.getBlockBlobClient(path).uploadFile(localPath, { abortSignal, onProgress: (event) => onBytes(event.loadedBytes) });
    },
    async *list(prefix) {
      for await (const blob of container.listBlobsFlat({ prefix })) yield { path: blob.name, size: blob.properties.contentLength ?? 0 };
    },
    async download(path, localPath, onBytes, abortSignal) {
      await container.getBlobClient(path).downloadToFile(localPath, 0, undefined, { abortSignal, onProgress: (event) => onBytes(event.loadedBytes) });
    },
  };
}

function fileTarget(url: string, account: string, credential: HeldCredential): StorageTarget {
  const share = new ShareClient(url, credential.type === 'AccountKey' ? new FileSharedKeyCredential(account, credential.key) : new FileAnonymousCredential());
  // A file share has real directories: each must exist before a file goes in it.
  const madeDirectories = new Map<string, Promise<unknown>>();
  const ensureDirectory = (dir: string): Promise<unknown> => {
    if (dir === '') return Promise.resolve();
    let made = madeDirectories.get(dir);
    if (!made) {
      const parent = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
      made = ensureDirectory(parent).then(() => share.getDirectoryClient(dir).createIfNotExists());
      madeDirectories.set(dir, made);
    }
    return made;
  };
  async function* walk(dir: string): AsyncGenerator<RemoteFile> {
    for await (const item of share.getDirectoryClient(dir).listFilesAndDirectories()) {
      const path = dir === '' ? item.name : `${dir}/${item.name}`;
      if (item.kind === 'directory') yield* walk(path);
      else yield { path, size: item.properties.contentLength };
    }
  }
  return {
    exists: (path) => share.rootDirectoryClient.getFileClient(path).exists(),
    async upload(localPath, path, onBytes, abortSignal) {
      await ensureDirectory(path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
      await share.rootDirectoryClient.getFileClient(path).uploadFile(localPath, { abortSignal, onProgress: (event) => onBytes(event.loadedBytes) });
    },
    async *list(prefix) {
      // Only the directory the prefix ends in (and below) can hold matches.
      const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      try {
        for await (const file of walk(dir)) if (file.path.startsWith(prefix)) yield file;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      }
    },
    async download(path, localPath, onBytes, abortSignal) {
      await share.rootDirectoryClient.getFileClient(path).downloadToFile(localPath, 0, undefined, { abortSignal, onProgress: (event) => onBytes(event.loadedBytes) });
    },
  };
}
