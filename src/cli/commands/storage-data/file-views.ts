import { base64, contentSettings, type ContentFacts, type CopyFacts } from './common-views.js';

/** A file's or directory's facts from a listing (FileItem, DirectoryItem and their properties). */
export interface ListedFacts {
  name: string;
  fileId?: string;
  properties?: {
    contentLength?: number;
    creationTime?: Date;
    lastAccessTime?: Date;
    lastWriteTime?: Date;
    changeTime?: Date;
    lastModified?: Date;
    etag?: string;
  };
}

/** A listed file or directory as az prints it: its type ('file' or 'dir') beside its properties. */
export function listedView(item: ListedFacts, type: 'file' | 'dir') {
  const properties = item.properties ?? {};
  return {
    metadata: null,
    name: item.name,
    properties: {
      changeTime: properties.changeTime ?? null,
      ...(type === 'file' ? { contentLength: properties.contentLength ?? 0 } : {}),
      creationTime: properties.creationTime ?? null,
      etag: properties.etag ?? null,
      fileId: item.fileId ?? null,
      lastAccessTime: properties.lastAccessTime ?? null,
      lastModified: properties.lastModified ?? null,
      lastWriteTime: properties.lastWriteTime ?? null,
    },
    type,
  };
}

export type ListedView = ReturnType<typeof listedView>;

/** `-o table`: az's columns for a share's listing (transform_file_output): a directory's name ends with '/'. */
export const listedRow = (view: ListedView) => ({
  Name: view.type === 'dir' ? `${view.name}/` : view.name,
  'Content Length': view.type === 'dir' ? '' : view.properties.contentLength,
  Type: view.type,
  'Last Modified': view.properties.lastModified ?? '',
});

/** A file's facts from Get File Properties. */
export interface FileFacts extends ContentFacts, CopyFacts {
  metadata?: Record<string, string>;
  contentLength?: number;
  etag?: string;
  lastModified?: Date;
  isServerEncrypted?: boolean;
  fileAttributes?: string;
  fileCreatedOn?: Date;
  fileLastWriteOn?: Date;
  fileChangeOn?: Date;
  fileId?: string;
  fileParentId?: string;
}

/** A file as az prints it (show, download): its path, share and properties. */
export function fileView(share: string, filePath: string, file: FileFacts) {
  return {
    content: null,
    metadata: file.metadata ?? {},
    name: filePath.split('/').pop()!,
    path: filePath,
    properties: {
      changeTime: file.fileChangeOn ?? null,
      contentLength: file.contentLength ?? 0,
      contentRange: null,
      contentSettings: contentSettings(file),
      copy: {
        completionTime: file.copyCompletedOn ?? null,
        id: file.copyId ?? null,
        progress: file.copyProgress ?? null,
        source: file.copySource ?? null,
        status: file.copyStatus ?? null,
        statusDescription: file.copyStatusDescription ?? null,
      },
      creationTime: file.fileCreatedOn ?? null,
      etag: file.etag ?? null,
      fileAttributes: file.fileAttributes ?? null,
      fileId: file.fileId ?? null,
      lastModified: file.lastModified ?? null,
      lastWriteTime: file.fileLastWriteOn ?? null,
      parentId: file.fileParentId ?? null,
      serverEncrypted: file.isServerEncrypted ?? null,
    },
    share,
    snapshot: null,
  };
}

/** `-o table`: a file's name, length, type and time. */
export const fileRow = (view: ReturnType<typeof fileView>) => ({
  Name: view.path,
  'Content Length': view.properties.contentLength,
  'Content Type': view.properties.contentSettings.contentType,
  'Last Modified': view.properties.lastModified,
});

/** What `az storage file upload` prints: the service's answer for the file, in the field names az passes through. */
export function fileUploadView(file: FileFacts & { date?: Date; requestId?: string; version?: string }) {
  return {
    content_md5: base64(file.contentMD5),
    date: file.date ?? null,
    etag: file.etag ?? null,
    file_last_write_time: file.fileLastWriteOn ?? null,
    last_modified: file.lastModified ?? null,
    request_id: file.requestId ?? null,
    request_server_encrypted: file.isServerEncrypted ?? null,
    version: file.version ?? null,
  };
}
