import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import {
  AnonymousCredential as FileAnonymousCredential,
  ShareClient,
  StorageSharedKeyCredential as FileSharedKeyCredential,
  type ShareClientOptions,
} from '@azure/storage-file-share';
import type { DatastoreType, HeldCredential } from './datastore-types.js';
import { datastoreServiceUrl } from './storage-url.js';

export interface RemoteFile {
  path: string;
  size: number;
}

/** What an upload sets besides the bytes. A tier applies to blobs only. */
export interface UploadAttributes {
  contentType?: string;
  metadata?: Record<string, string>;
  tier?: string;
}

/** What the service answered for an uploaded blob; a file share's upload answers nothing, so that is empty. */
export interface StoredFile {
  etag?: string;
  lastModified?: Date;
  contentMD5?: Uint8Array;
  date?: Date;
  requestId?: string;
  clientRequestId?: string;
  version?: string;
  versionId?: string;
  isServerEncrypted?: boolean;
  encryptionKeySha256?: string;
  encryptionScope?: string;
}

export interface DeleteOptions {
  deleteSnapshots?: 'include' | 'only';
}

/**
 * One container or file share, reached with one held credential: the few
 * operations uploads, downloads and deletes need, over the official storage
 * clients. Paths are '/'-separated and relative to the container or share.
 */
export interface StorageTarget {
  exists(path: string): Promise<boolean>;
  upload(localPath: string, path: string, onBytes: (loaded: number) => void, abortSignal: AbortSignal, attributes?: UploadAttributes): Promise<StoredFile>;
  list(prefix: string): AsyncIterable<RemoteFile>;
  download(path: string, localPath: string, onBytes: (loaded: number) => void, abortSignal: AbortSignal): Promise<void>;
  /** Deletes a file; a blob with snapshots needs `deleteSnapshots` (file shares ignore it). */
  delete(path: string, abortSignal: AbortSignal, options?: DeleteOptions): Promise<void>;
  /** The file's URL, without any SAS token: what az prints for a transferred file. */
  url(path: string): string;
  /** Starts an empty log at `path` (an append blob; on a share, an empty file), replacing what was there. */
  createLog(path: string): Promise<void>;
  /** Adds `data` at the end of a log createLog started. */
  append(path: string, data: Buffer): Promise<void>;
  /** The file's bytes from `offset` to its end (a log read while it grows: only what is new). */
  read(path: string, offset?: number): Promise<Buffer>;
}

export interface TargetLocation {
  type: DatastoreType;
  accountName: string;
  /** Container (AzureBlob) or share (AzureFile). */
  container: string;
  endpoint: string;
  protocol: string;
}

/** A private CA to trust over HTTPS (a local mlspace server's caFile), which tokens need. */
export interface TargetTls {
  ca?: Buffer;
}

export function storageTarget(location: TargetLocation, credential: HeldCredential, tls: TargetTls = {}): StorageTarget {
  const service = datastoreServiceUrl(location.type, location.accountName, location.endpoint, location.protocol);
  return targetAt(location.type, service, location.accountName, location.container, credential, tls);
}

/** A container or share of the account whose Blob or File service is at `serviceUrl` (no trailing slash, no SAS). */
export function targetAt(type: DatastoreType, serviceUrl: string, account: string, container: string, credential: HeldCredential, tls: TargetTls = {}): StorageTarget {
  const url = `${serviceUrl}/${encodeURIComponent(container)}${credential.type === 'Sas' ? `?${credential.sasToken.replace(/^\?/, '')}` : ''}`;
  // core-rest-pipeline takes tlsOptions through the storage clients' options, though their types do not name it.
  const options: StoragePipelineOptions & ShareClientOptions & { tlsOptions?: TargetTls } = tls.ca ? { tlsOptions: { ca: tls.ca } } : {};
  return type === 'AzureBlob' ? blobTarget(url, account, credential, options) : fileTarget(url, account, credential, options);
}

/** A client's URL without its query, which holds the SAS token when there is one. */
function withoutQuery(url: string): string {
  const parsed = new URL(url);
  parsed.search = '';
  return parsed.toString();
}

function blobTarget(url: string, account: string, credential: HeldCredential, options: StoragePipelineOptions): StorageTarget {
  const signer =
    credential.type === 'AccountKey' ? new StorageSharedKeyCredential(account, credential.key) : credential.type === 'Token' ? credential.credential : new AnonymousCredential();
  const container = new ContainerClient(url, signer, options);
  return {
    exists: (path) => container.getBlobClient(path).exists(),
    async upload(localPath, path, onBytes, abortSignal, attributes = {}) {
      const answer = await container.getBlockBlobClient(path).uploadFile(localPath, {
        abortSignal,
        onProgress: (event) => onBytes(event.loadedBytes),
        blobHTTPHeaders: attributes.contentType ? { blobContentType: attributes.contentType } : undefined,
        metadata: attributes.metadata,
        tier: attributes.tier,
      });
      return {
        etag: answer.etag,
        lastModified: answer.lastModified,
        contentMD5: answer.contentMD5,
        date: answer.date,
        requestId: answer.requestId,
        clientRequestId: answer.clientRequestId,
        version: answer.version,
        versionId: answer.versionId,
        isServerEncrypted: answer.isServerEncrypted,
        encryptionKeySha256: answer.encryptionKeySha256,
        encryptionScope: answer.encryptionScope,
      };
    },
    async *list(prefix) {
      for await (const blob of container.listBlobsFlat({ prefix })) yield { path: blob.name, size: blob.properties.contentLength ?? 0 };
    },
    async download(path, localPath, onBytes, abortSignal) {
      await container.getBlobClient(path).downloadToFile(localPath, 0, undefined, { abortSignal, onProgress: (event) => onBytes(event.loadedBytes) });
    },
    async delete(path, abortSignal, options = {}) {
      await container.getBlobClient(path).delete({ abortSignal, deleteSnapshots: options.deleteSnapshots });
    },
    url: (path) => withoutQuery(container.getBlobClient(path).url),
    async createLog(path) {
      await container.getAppendBlobClient(path).create({ blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' } });
    },
    async append(path, data) {
      await container.getAppendBlobClient(path).appendBlock(data, data.length);
    },
    read: (path, offset = 0) => container.getBlobClient(path).downloadToBuffer(offset),
  };
}

function fileTarget(url: string, account: string, credential: HeldCredential, options: ShareClientOptions): StorageTarget {
  const share =
    credential.type === 'Token'
      ? // Azure Files takes a token only for a caller who says it acts with backup semantics, as Azure requires.
        new ShareClient(url, credential.credential, { ...options, fileRequestIntent: 'backup' })
      : new ShareClient(url, credential.type === 'AccountKey' ? new FileSharedKeyCredential(account, credential.key) : new FileAnonymousCredential(), options);
  // A file share has real directories: each must exist before a file goes in it.
  const madeDirectories = new Map<string, Promise<unknown>>();
  const ensureDirectory = (dir: string): Promise<unknown> => {
    if (dir === '') return Promise.resolve();
    let made = madeDirectories.get(dir);
    if (!made) {
      const parent = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
      made = ensureDirectory(parent).then(() => share.getDirectoryClient(dir).createIfNotExists());
      // A refused creation is not remembered: the next file in that directory tries again, and reports its own error.
      made.catch(() => madeDirectories.delete(dir));
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
    async upload(localPath, path, onBytes, abortSignal, attributes = {}) {
      await ensureDirectory(path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
      const file = share.rootDirectoryClient.getFileClient(path);
      try {
        await file.uploadFile(localPath, {
          abortSignal,
          onProgress: (event) => onBytes(event.loadedBytes),
          fileHttpHeaders: attributes.contentType ? { fileContentType: attributes.contentType } : undefined,
          metadata: attributes.metadata,
        });
      } catch (error) {
        // Creating a file sets its full length before any range is written: a failed upload
        // would leave a file of that length holding zeros, which must not pass for the real one.
        await file.deleteIfExists().catch(() => undefined);
        throw error;
      }
      return {};
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
    async delete(path, abortSignal) {
      await share.rootDirectoryClient.getFileClient(path).delete({ abortSignal });
    },
    url: (path) => withoutQuery(share.rootDirectoryClient.getFileClient(path).url),
    async createLog(path) {
      await ensureDirectory(path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
      await share.rootDirectoryClient.getFileClient(path).create(0, { fileHttpHeaders: { fileContentType: 'text/plain; charset=utf-8' } });
    },
    async append(path, data) {
      // A file has no append: it grows to hold the bytes, which are then written at its old end.
      const file = share.rootDirectoryClient.getFileClient(path);
      const { contentLength = 0 } = await file.getProperties();
      await file.resize(contentLength + data.length);
      await file.uploadRange(data, contentLength, data.length);
    },
    read: (path, offset = 0) => share.rootDirectoryClient.getFileClient(path).downloadToBuffer(offset),
  };
}
