import type { TokenCredential } from '@azure/identity';

/** The datastore kinds the SDK reads and writes, named as Azure ML names them. */
export type DatastoreType = 'AzureBlob' | 'AzureFile';

/**
 * What a datastore (or a workspace, for its storage) signs its data-plane
 * requests with. `Token` is an identity's: Azure AD bearer tokens for
 * `https://storage.azure.com/`, sent only over HTTPS; `identity` names it in
 * errors ("the signed-in identity", "service principal <id>").
 */
export type HeldCredential =
  | { type: 'AccountKey'; key: string }
  | { type: 'Sas'; sasToken: string }
  | { type: 'Token'; credential: TokenCredential; identity: string }
  | { type: 'None' };

/** Progress of an upload or download of many files, in bytes and files. */
export interface TransferProgress {
  loadedBytes: number;
  totalBytes: number;
  completedFiles: number;
  totalFiles: number;
}

export interface TransferOptions {
  /** Replace files that exist at the destination; by default they are skipped (uploads) or refused (downloads). */
  overwrite?: boolean;
  onProgress?: (progress: TransferProgress) => void;
}

/** What a transfer did; `skipped` lists destination paths left as they were because they existed. */
export interface TransferResult {
  files: string[];
  skipped: string[];
  bytes: number;
}
