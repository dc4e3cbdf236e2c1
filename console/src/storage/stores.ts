import { DataPlane, type Service } from './data-plane';

/** A folder (a blob name prefix, or a directory) or an item (a blob, or a file) in a listing. */
export interface Entry {
  /** The name within its folder; for a folder, without the trailing '/'. */
  name: string;
  /** Its path within the container or share; for a folder, ending in '/'. */
  path: string;
  folder: boolean;
  size?: number;
  modified?: string;
  /** Blob type and tier, for blobs. */
  detail?: string;
}

/** One page of a listing, and the marker of the next when there is one. */
export interface Page<T> {
  items: T[];
  next?: string;
}

export interface Root {
  name: string;
  modified?: string;
}

export interface Properties {
  /** System properties, as name and value, in the order shown. */
  system: [string, string][];
  metadata: [string, string][];
}

/** How the storage browser reaches one kind of store: blob containers, or file shares. Both answer the same shape. */
export interface Store {
  service: Service;
  /** 'container' or 'share': what the page calls a root. */
  rootNoun: string;
  /** The letters a SAS of an item, or of a root, may carry (listServiceSas). */
  sasPermissions: { item: string; root: string };
  /** Whether folders exist of themselves (file directories) rather than as name prefixes (blobs). */
  realFolders: boolean;
  listRoots(marker?: string): Promise<Page<Root>>;
  createRoot(name: string): Promise<void>;
  deleteRoot(name: string): Promise<void>;
  /** The folder's entries, folders first; folder is '' or a path ending in '/'. */
  list(root: string, folder: string, marker?: string): Promise<Page<Entry>>;
  createFolder(root: string, path: string): Promise<void>;
  upload(root: string, path: string, file: File, onProgress: (sent: number) => void): Promise<void>;
  properties(root: string, path: string): Promise<Properties>;
  setMetadata(root: string, path: string, metadata: [string, string][]): Promise<void>;
  delete(root: string, entry: Entry): Promise<void>;
}

const PAGE_SIZE = 100;
const CHUNK = 4 * 1024 * 1024;

const text = (node: Element, selector: string) => node.querySelector(selector)?.textContent ?? undefined;
const next = (xml: Document) => xml.querySelector('EnumerationResults > NextMarker')?.textContent || undefined;

function roots(xml: Document, tag: string): Page<Root> {
  const items = [...xml.querySelectorAll(tag)].map((node) => ({ name: text(node, 'Name')!, modified: text(node, 'Properties > Last-Modified') }));
  return { items, next: next(xml) };
}

/** The properties every blob and file answers in its headers, and its x-ms-meta-* metadata. */
function propertiesOf(headers: Headers, names: [string, string][]): Properties {
  const system = names.flatMap(([label, header]) => {
    const value = headers.get(header);
    return value === null ? [] : [[label, value] as [string, string]];
  });
  const metadata: [string, string][] = [];
  headers.forEach((value, name) => {
    if (name.startsWith('x-ms-meta-')) metadata.push([name.slice('x-ms-meta-'.length), value]);
  });
  return { system, metadata };
}

const metadataHeaders = (metadata: [string, string][]) => Object.fromEntries(metadata.map(([name, value]) => [`x-ms-meta-${name}`, value]));

/** Consecutive chunks of a file, for block or range uploads. */
function* chunks(file: File): Generator<{ start: number; blob: Blob }> {
  for (let start = 0; start < file.size; start += CHUNK) yield { start, blob: file.slice(start, start + CHUNK) };
}

export function blobStore(plane: DataPlane): Store {
  return {
    service: 'blob',
    rootNoun: 'container',
    sasPermissions: { item: 'racwd', root: 'racwdl' },
    realFolders: false,
    listRoots: async (marker) => roots(await plane.xml('blob', { path: '', query: { comp: 'list', maxresults: String(PAGE_SIZE), marker } }), 'Containers > Container'),
    createRoot: async (name) => void (await plane.call('blob', { method: 'PUT', path: name, query: { restype: 'container' } })),
    deleteRoot: async (name) => void (await plane.call('blob', { method: 'DELETE', path: name, query: { restype: 'container' } })),
    async list(root, folder, marker) {
      const xml = await plane.xml('blob', { path: root, query: { restype: 'container', comp: 'list', prefix: folder || undefined, delimiter: '/', maxresults: String(PAGE_SIZE), marker } });
      const folders = [...xml.querySelectorAll('Blobs > BlobPrefix')].map((node) => {
        const path = text(node, 'Name')!;
        return { name: path.slice(folder.length, -1), path, folder: true };
      });
      const blobs = [...xml.querySelectorAll('Blobs > Blob')].map((node) => {
        const path = text(node, 'Name')!;
        const tier = text(node, 'Properties > AccessTier');
        return {
          name: path.slice(folder.length),
          path,
          folder: false,
          size: Number(text(node, 'Properties > Content-Length')),
          modified: text(node, 'Properties > Last-Modified'),
          detail: [text(node, 'Properties > BlobType'), tier].filter(Boolean).join(', '),
        };
      });
      return { items: [...folders, ...blobs], next: next(xml) };
    },
    createFolder: () => Promise.reject(new Error('Blob folders are name prefixes: upload into a new folder by naming it in the upload path.')),
    async upload(root, path, file, onProgress) {
      const contentType = { 'x-ms-blob-content-type': file.type || 'application/octet-stream' };
      if (file.size <= CHUNK) {
        await plane.send('blob', { path: `${root}/${path}`, headers: { 'x-ms-blob-type': 'BlockBlob', ...contentType }, body: file }, onProgress);
        return;
      }
      // Blocks of 4 MiB, then the block list that commits them: a failed upload leaves the old blob as it was.
      const ids: string[] = [];
      for (const { start, blob } of chunks(file)) {
        const id = btoa(String(ids.length).padStart(6, '0'));
        ids.push(id);
        await plane.send('blob', { path: `${root}/${path}`, query: { comp: 'block', blockid: id }, body: blob }, (sent) => onProgress(start + sent));
      }
      const list = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids.map((id) => `<Latest>${id}</Latest>`).join('')}</BlockList>`;
      await plane.call('blob', { method: 'PUT', path: `${root}/${path}`, query: { comp: 'blocklist' }, headers: contentType, body: list });
    },
    async properties(root, path) {
      const response = await plane.call('blob', { method: 'HEAD', path: `${root}/${path}` });
      return propertiesOf(response.headers, [
        ['Blob type', 'x-ms-blob-type'],
        ['Size (bytes)', 'content-length'],
        ['Content type', 'content-type'],
        ['Content MD5', 'content-md5'],
        ['Access tier', 'x-ms-access-tier'],
        ['Lease state', 'x-ms-lease-state'],
        ['Created', 'x-ms-creation-time'],
        ['Last modified', 'last-modified'],
        ['ETag', 'etag'],
        ['Version', 'x-ms-version-id'],
      ]);
    },
    setMetadata: async (root, path, metadata) => void (await plane.call('blob', { method: 'PUT', path: `${root}/${path}`, query: { comp: 'metadata' }, headers: metadataHeaders(metadata) })),
    async delete(root, entry) {
      if (entry.folder) throw new Error('A blob folder goes away with the last blob whose name starts with it.');
      await plane.call('blob', { method: 'DELETE', path: `${root}/${entry.path}`, headers: { 'x-ms-delete-snapshots': 'include' } });
    },
  };
}

export function fileStore(plane: DataPlane): Store {
  const at = (root: string, path: string) => `${root}/${path.replace(/\/$/, '')}`.replace(/\/$/, '');
  return {
    service: 'file',
    rootNoun: 'share',
    sasPermissions: { item: 'rcwd', root: 'rcwdl' },
    realFolders: true,
    listRoots: async (marker) => roots(await plane.xml('file', { path: '', query: { comp: 'list', maxresults: String(PAGE_SIZE), marker } }), 'Shares > Share'),
    createRoot: async (name) => void (await plane.call('file', { method: 'PUT', path: name, query: { restype: 'share' } })),
    deleteRoot: async (name) => void (await plane.call('file', { method: 'DELETE', path: name, query: { restype: 'share' }, headers: { 'x-ms-delete-snapshots': 'include' } })),
    async list(root, folder, marker) {
      const xml = await plane.xml('file', { path: at(root, folder), query: { restype: 'directory', comp: 'list', include: 'Timestamps', maxresults: String(PAGE_SIZE), marker } });
      const entries = (tag: string, isFolder: boolean) =>
        [...xml.querySelectorAll(`Entries > ${tag}`)].map((node) => {
          const name = text(node, 'Name')!;
          const size = text(node, 'Properties > Content-Length');
          const modified = text(node, 'Properties > Last-Modified');
          return { name, path: `${folder}${name}${isFolder ? '/' : ''}`, folder: isFolder, size: size === undefined ? undefined : Number(size), modified };
        });
      return { items: [...entries('Directory', true), ...entries('File', false)], next: next(xml) };
    },
    createFolder: async (root, path) => void (await plane.call('file', { method: 'PUT', path: at(root, path), query: { restype: 'directory' } })),
    async upload(root, path, file, onProgress) {
      // Create the file at its full length, then write its ranges, at most 4 MiB each as the service allows.
      await plane.call('file', { method: 'PUT', path: at(root, path), headers: { 'x-ms-type': 'file', 'x-ms-content-length': String(file.size), 'x-ms-content-type': file.type || 'application/octet-stream' } });
      for (const { start, blob } of chunks(file)) {
        const range = `bytes=${start}-${start + blob.size - 1}`;
        await plane.send('file', { path: at(root, path), query: { comp: 'range' }, headers: { 'x-ms-range': range, 'x-ms-write': 'update' }, body: blob }, (sent) => onProgress(start + sent));
      }
    },
    async properties(root, path) {
      const response = await plane.call('file', { method: 'HEAD', path: at(root, path) });
      return propertiesOf(response.headers, [
        ['Size (bytes)', 'content-length'],
        ['Content type', 'content-type'],
        ['Content MD5', 'content-md5'],
        ['Attributes', 'x-ms-file-attributes'],
        ['Created', 'x-ms-file-creation-time'],
        ['Last write', 'x-ms-file-last-write-time'],
        ['Last modified', 'last-modified'],
        ['ETag', 'etag'],
      ]);
    },
    setMetadata: async (root, path, metadata) => void (await plane.call('file', { method: 'PUT', path: at(root, path), query: { comp: 'metadata' }, headers: metadataHeaders(metadata) })),
    delete: async (root, entry) => void (await plane.call('file', { method: 'DELETE', path: at(root, entry.path), query: entry.folder ? { restype: 'directory' } : {} })),
  };
}
