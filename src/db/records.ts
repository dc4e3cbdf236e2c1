/** Plain records the metadata store keeps; no HTTP or SQL concepts here. */

export interface AccountRecord {
  name: string;
  /** key1 and key2, base64, as listKeys shows them. */
  keys: [string, string];
  keyCreated: [number, number];
  allowSharedKeyAccess: boolean;
  created: number;
}

/** A storage account as the management plane sees it: its keys plus its ARM attributes. */
export interface StorageAccountRecord extends AccountRecord {
  /** The group's name as it was created (groups match case-insensitively). */
  resourceGroup: string;
  settings: AccountSettings;
}

export interface AccountSettings {
  location: string;
  skuName: string;
  kind: string;
  tags: Record<string, string>;
  /** `keyPolicy.keyExpirationPeriodInDays`, when the account has a key policy. */
  keyExpirationPeriodInDays?: number;
  /** Further ARM properties kept as given (accessTier, minimumTlsVersion, ...). */
  properties: Record<string, unknown>;
}

export interface SignedIdentifier {
  id: string;
  start?: string;
  expiry?: string;
  permissions?: string;
}

export interface ContainerRecord {
  account: string;
  name: string;
  created: number;
  lastModified: number;
  etag: string;
  metadata: Record<string, string>;
  publicAccess?: 'container' | 'blob';
  signedIdentifiers: SignedIdentifier[];
}

/** A run of bytes of a blob: a whole content file, in blob order. */
export interface Extent {
  /** Content file id in the byte store. */
  id: string;
  size: number;
  /** The block id it was committed as (block blobs built from blocks). */
  blockId?: string;
}

export interface ContentHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentMd5?: string;
  cacheControl?: string;
  contentDisposition?: string;
}

export interface CopyInfo {
  id: string;
  source: string;
  status: 'success';
  progress: string;
  completed: number;
}

export interface BlobRecord extends ContentHeaders {
  account: string;
  container: string;
  name: string;
  created: number;
  lastModified: number;
  etag: string;
  size: number;
  metadata: Record<string, string>;
  extents: Extent[];
  copy?: CopyInfo;
}

export interface BlockRecord {
  blockId: string;
  contentId: string;
  size: number;
}

export interface ListPage<T> {
  items: T[];
  /** Where the next page starts (exclusive lower bound of names), if there is one. */
  next?: string;
}
