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
  /** The properties of its `blobServices/default` (versioning, delete retention, CORS, ...), as set. */
  blobService?: BlobServiceSettings;
  /** How many times `revokeUserDelegationKeys` has run: every user delegation key is derived from it. */
  delegationKeyRevocations?: number;
}

export interface RetentionPolicy {
  enabled: boolean;
  days?: number;
  allowPermanentDelete?: boolean;
}

export interface BlobServiceSettings {
  isVersioningEnabled?: boolean;
  deleteRetentionPolicy?: RetentionPolicy;
  containerDeleteRetentionPolicy?: RetentionPolicy;
  /** Other properties (cors, changeFeed, ...), kept as given. */
  [property: string]: unknown;
}

export interface SignedIdentifier {
  id: string;
  start?: string;
  expiry?: string;
  permissions?: string;
}

/** A lease on a blob or container. Its state follows from these times and the clock (storage/blob/leases.ts). */
export interface LeaseRecord {
  /** Lower-case hyphenated GUID. */
  id: string;
  /** Seconds, or -1 for an infinite lease. */
  duration: number;
  /** When a fixed lease expires (ms since epoch); absent for an infinite one. */
  expiresAt?: number;
  /** When a broken lease's break period ends (ms since epoch); set by Break. */
  brokenAt?: number;
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
  lease?: LeaseRecord;
  /** Set on a soft-deleted container (ms since epoch), with when its retention policy lets it go. */
  deletedTime?: number;
  retentionExpires?: number;
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
  status: 'pending' | 'success' | 'aborted';
  progress: string;
  /** When it succeeded or was aborted; absent while pending. */
  completed?: number;
  statusDescription?: string;
}

/**
 * An asynchronous copy in flight: the source's content, captured (and
 * referenced) when the copy started, becomes the blob's at `completesAt`.
 */
export interface PendingCopy {
  completesAt: number;
  size: number;
  extents: Extent[];
  content: ContentHeaders;
}

export type AccessTier = 'Hot' | 'Cool' | 'Cold' | 'Archive';

/** A rehydration out of Archive: the tier it leads to, and when it gets there (ms since epoch). */
export interface Rehydration {
  tier: Exclude<AccessTier, 'Archive'>;
  at: number;
  priority: 'High' | 'Standard';
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
  lease?: LeaseRecord;
  /** Set on a snapshot: its x-ms-snapshot time. */
  snapshot?: string;
  /** The blob's own tier; absent, it has the account's default ("inferred"). */
  accessTier?: AccessTier;
  accessTierChangeTime?: number;
  /** While (or since) the blob left Archive; its tier is Archive until `at`. */
  rehydrate?: Rehydration;
  /** Blob index tags; absent when it has none. */
  tags?: Record<string, string>;
  /** Set while an asynchronous Copy Blob into this blob has not completed. */
  pendingCopy?: PendingCopy;
  /**
   * Absent for block blobs. An append blob's extents are its appended blocks,
   * kept in a table of their own; a page blob has none, its written pages are
   * ranges in a table of their own and `size` is its declared length.
   */
  blobType?: 'AppendBlob' | 'PageBlob';
  /** Append blobs: how many blocks were appended, and whether the blob is sealed against more. */
  committedBlockCount?: number;
  sealed?: boolean;
  /** Page blobs: x-ms-blob-sequence-number. */
  sequenceNumber?: number;
  /** Page blobs made by Incremental Copy: read-only but for more incremental copies, and the snapshot the last one took. */
  incrementalCopy?: { destinationSnapshot: string };
  /** x-ms-version-id: set on the current blob by writes while the account keeps versions, and on each previous version. */
  versionId?: string;
  /** Set on a previous version read from the store: where its written pages are kept. Never stored. */
  pagesKey?: string;
  /** Set on a soft-deleted blob, snapshot or version (ms since epoch), with when the retention policy lets it go. */
  deletedTime?: number;
  retentionExpires?: number;
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

export interface ShareRecord {
  account: string;
  name: string;
  created: number;
  lastModified: number;
  etag: string;
  metadata: Record<string, string>;
  /** GiB. */
  quota: number;
  accessTier: string;
  accessTierChangeTime: number;
  signedIdentifiers: SignedIdentifier[];
}

/** The SMB properties Azure Files keeps for a file or directory and returns on the REST API. */
export interface SmbProperties {
  /** '|'-separated, as on the wire: 'Archive', 'ReadOnly|Archive', 'Directory'. */
  attributes: string;
  /** ISO 8601 with seven fractional digits, as Azure returns them. */
  creationTime: string;
  lastWriteTime: string;
  changeTime: string;
  permissionKey: string;
}

/**
 * A directory or file of a share; the share's root directory has key ''.
 * Names are case-insensitive and case-preserving, as in Azure Files: `key` is
 * the lower-cased path that identifies it, `name` its last segment as created.
 */
export interface FileNodeRecord extends ContentHeaders {
  /** x-ms-file-id; never reused. */
  id: number;
  account: string;
  share: string;
  key: string;
  /** Key of the parent directory; null for the root. */
  parent: string | null;
  /** x-ms-file-parent-id; 0 for the root. */
  parentId: number;
  name: string;
  isDirectory: boolean;
  /** File length in bytes; 0 for directories. */
  size: number;
  lastModified: number;
  etag: string;
  metadata: Record<string, string>;
  smb: SmbProperties;
  copy?: CopyInfo;
}

/** Bytes [first, last] of a file or page blob, stored at `contentOffset` onwards in content file `contentId`. */
export interface StoredRange {
  first: number;
  /** Inclusive. */
  last: number;
  contentId: string;
  contentOffset: number;
}
