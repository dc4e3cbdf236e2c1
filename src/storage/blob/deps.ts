import type { ContentPins } from '../../bytes/content-pins.js';
import type { ContentStore } from '../../bytes/content-store.js';
import type { SmallContentCache } from '../../bytes/small-content-cache.js';
import type { AsyncStore } from '../../db/async-store.js';
import type { BlobRepo } from '../../db/blobs.js';
import type { ServicePropertiesStore } from '../../db/service-properties.js';
import type { BearerAuth } from '../auth/bearer.js';
import type { AccessTier } from '../../db/records.js';
import type { AuthorizedRequest } from '../http/listener.js';
import type { ConsoleOrigin } from '../http/cors.js';

/** What the Blob service's handlers work with: metadata, bytes, and where they are served. */
export interface BlobDeps {
  repo: AsyncStore<BlobRepo>;
  serviceProperties: ServicePropertiesStore;
  content: ContentStore;
  /** Unlinks go through here, so a download in flight keeps its content files. */
  pins: ContentPins;
  cache: SmallContentCache;
  /** Base URL of this Blob endpoint, e.g. `http://127.0.0.1:10000`. */
  endpoint: string;
  /** Resolves once the metadata commits made so far are on disk (WalSync). */
  durable: () => Promise<void>;
  /** The account's default access tier (its ARM `accessTier`), for blobs without one of their own. */
  defaultAccessTier: (account: string) => Exclude<AccessTier, 'Archive'>;
  /** The account's versioning and delete retention (its blobServices/default). */
  blobPolicy: (account: string) => { versioning: boolean; deleteRetentionDays?: number; containerDeleteRetentionDays?: number };
  /** How long a Standard-priority rehydration out of Archive takes. */
  rehydrateDelayMs: number;
  /** How long a Copy Blob across accounts stays pending. */
  asyncCopyDelayMs: number;
  /** The web console's origin, which may call every account (CORS). */
  consoleOrigin: ConsoleOrigin;
  /** Checks bearer tokens and user delegation SASes, for copy sources too. */
  bearer: BearerAuth;
}

export interface BlobRequest extends AuthorizedRequest {
  deps: BlobDeps;
}

export type BlobHandler = (ctx: BlobRequest) => Promise<void>;

/** Limits Azure documents for block blobs. */
export const LIMITS = {
  putBlob: 5000 * 1024 * 1024,
  block: 4000 * 1024 * 1024,
  blocksPerBlob: 50_000,
  uncommittedBlocks: 100_000,
  xmlBody: 4 * 1024 * 1024,
  /** Bodies up to this size are served from memory once read. */
  smallContent: 64 * 1024,
};
