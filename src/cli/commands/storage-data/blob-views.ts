import type { StoredFile } from '../../../sdk/storage-target.js';
import { base64, contentSettings, type ContentFacts, type CopyFacts } from './common-views.js';

/**
 * A blob's facts, whether from a listing (BlobItem and its properties) or
 * from Get Blob Properties: the two spell a few of them differently.
 */
export interface BlobFacts extends ContentFacts, CopyFacts {
  name: string;
  snapshot?: string;
  versionId?: string;
  isCurrentVersion?: boolean;
  deleted?: boolean;
  hasVersionsOnly?: boolean;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
  blobType?: string;
  accessTier?: string;
  accessTierInferred?: boolean;
  accessTierChangedOn?: Date;
  archiveStatus?: string;
  rehydratePriority?: string;
  contentLength?: number;
  createdOn?: Date;
  deletedOn?: Date;
  etag?: string;
  lastModified?: Date;
  lastAccessed?: Date;
  lastAccessedOn?: Date;
  leaseDuration?: string;
  leaseState?: string;
  leaseStatus?: string;
  blobSequenceNumber?: number;
  blobCommittedBlockCount?: number;
  serverEncrypted?: boolean;
  isServerEncrypted?: boolean;
  remainingRetentionDays?: number;
  incrementalCopy?: boolean;
  destinationSnapshot?: string;
  encryptionKeySha256?: string;
  customerProvidedKeySha256?: string;
  encryptionScope?: string;
  tagCount?: number;
  isSealed?: boolean;
  legalHold?: boolean;
  immutabilityPolicyExpiresOn?: Date;
  immutabilityPolicyMode?: string;
}

/** A blob as az prints it (its transform_blob_json_output): every field present, null when unknown. */
export function blobView(container: string, blob: BlobFacts) {
  return {
    container,
    content: '',
    deleted: blob.deleted ?? null,
    encryptionKeySha256: blob.encryptionKeySha256 ?? blob.customerProvidedKeySha256 ?? null,
    encryptionScope: blob.encryptionScope ?? null,
    hasLegalHold: blob.legalHold ?? null,
    hasVersionsOnly: blob.hasVersionsOnly ?? null,
    immutabilityPolicy: { expiryTime: blob.immutabilityPolicyExpiresOn ?? null, policyMode: blob.immutabilityPolicyMode ?? null },
    isAppendBlobSealed: blob.isSealed ?? null,
    isCurrentVersion: blob.isCurrentVersion ?? null,
    lastAccessedOn: blob.lastAccessedOn ?? blob.lastAccessed ?? null,
    metadata: blob.metadata ?? {},
    name: blob.name,
    properties: {
      appendBlobCommittedBlockCount: blob.blobCommittedBlockCount ?? null,
      blobTier: blob.accessTier ?? null,
      blobTierChangeTime: blob.accessTierChangedOn ?? null,
      blobTierInferred: blob.accessTierInferred ?? null,
      blobType: blob.blobType ?? null,
      contentLength: blob.contentLength ?? 0,
      contentRange: null,
      contentSettings: contentSettings(blob),
      copy: {
        completionTime: blob.copyCompletedOn ?? null,
        destinationSnapshot: blob.destinationSnapshot ?? null,
        id: blob.copyId ?? null,
        incrementalCopy: blob.incrementalCopy ?? null,
        progress: blob.copyProgress ?? null,
        source: blob.copySource ?? null,
        status: blob.copyStatus ?? null,
        statusDescription: blob.copyStatusDescription ?? null,
      },
      creationTime: blob.createdOn ?? null,
      deletedTime: blob.deletedOn ?? null,
      etag: blob.etag ?? null,
      lastModified: blob.lastModified ?? null,
      lease: { duration: blob.leaseDuration ?? null, state: blob.leaseState ?? null, status: blob.leaseStatus ?? null },
      pageBlobSequenceNumber: blob.blobSequenceNumber ?? null,
      pageRanges: null,
      rehydrationStatus: blob.archiveStatus ?? null,
      remainingRetentionDays: blob.remainingRetentionDays ?? null,
      serverEncrypted: blob.serverEncrypted ?? blob.isServerEncrypted ?? null,
    },
    rehydratePriority: blob.rehydratePriority ?? null,
    snapshot: blob.snapshot ?? null,
    tagCount: blob.tagCount ?? null,
    tags: blob.tags ?? null,
    versionId: blob.versionId ?? null,
  };
}

export type BlobView = ReturnType<typeof blobView>;

/** `-o table`: az's columns for blobs (its transform_blob_output). */
export const blobRow = (view: BlobView) => ({
  Name: view.name,
  'Blob Type': view.properties.blobType,
  'Blob Tier': view.properties.blobTier,
  Length: view.properties.contentLength,
  'Content Type': view.properties.contentSettings.contentType,
  'Last Modified': view.properties.lastModified,
  Snapshot: view.snapshot,
});

/** What `az storage blob upload` prints: the service's answer, in the SDK's field names az passes through. */
export function uploadView(stored: StoredFile = {}) {
  return {
    client_request_id: stored.clientRequestId ?? null,
    content_md5: base64(stored.contentMD5),
    date: stored.date ?? null,
    encryption_key_sha256: stored.encryptionKeySha256 ?? null,
    encryption_scope: stored.encryptionScope ?? null,
    etag: stored.etag ?? null,
    lastModified: stored.lastModified ?? null,
    request_id: stored.requestId ?? null,
    request_server_encrypted: stored.isServerEncrypted ?? null,
    version: stored.version ?? null,
    version_id: stored.versionId ?? null,
  };
}

/** A container's facts, from a listing (ContainerItem) or from Get Container Properties. */
export interface ContainerFacts {
  name: string;
  deleted?: boolean;
  version?: string;
  metadata?: Record<string, string>;
  etag?: string;
  lastModified?: Date;
  leaseDuration?: string;
  leaseState?: string;
  leaseStatus?: string;
  publicAccess?: string;
  blobPublicAccess?: string;
  hasImmutabilityPolicy?: boolean;
  hasLegalHold?: boolean;
  defaultEncryptionScope?: string;
  preventEncryptionScopeOverride?: boolean;
  denyEncryptionScopeOverride?: boolean;
  isImmutableStorageWithVersioningEnabled?: boolean;
}

/** A container as az prints it (transform_container_json_output). */
export function containerView(container: ContainerFacts) {
  return {
    deleted: container.deleted ?? null,
    encryptionScope: {
      defaultEncryptionScope: container.defaultEncryptionScope ?? null,
      preventEncryptionScopeOverride: container.preventEncryptionScopeOverride ?? container.denyEncryptionScopeOverride ?? null,
    },
    immutableStorageWithVersioningEnabled: container.isImmutableStorageWithVersioningEnabled ?? null,
    metadata: container.metadata ?? null,
    name: container.name,
    properties: {
      etag: container.etag ?? null,
      hasImmutabilityPolicy: container.hasImmutabilityPolicy ?? null,
      hasLegalHold: container.hasLegalHold ?? null,
      lastModified: container.lastModified ?? null,
      lease: { duration: container.leaseDuration ?? null, state: container.leaseState ?? null, status: container.leaseStatus ?? null },
      publicAccess: container.publicAccess ?? container.blobPublicAccess ?? null,
    },
    version: container.version ?? null,
  };
}

/** `-o table`: az's columns for containers. */
export const containerRow = (view: ReturnType<typeof containerView>) => ({
  Name: view.name,
  'Lease Status': view.properties.lease.status,
  'Last Modified': view.properties.lastModified,
});
