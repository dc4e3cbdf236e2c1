import type { ContentPins } from '../../bytes/content-pins.js';
import type { ContentStore } from '../../bytes/content-store.js';
import type { SmallContentCache } from '../../bytes/small-content-cache.js';
import type { FileStore } from '../../db/files.js';
import type { ServicePropertiesStore } from '../../db/service-properties.js';
import type { AuthorizedRequest } from '../http/listener.js';
import type { FileCompactor } from './compaction.js';
import type { ConsoleOrigin } from '../http/cors.js';

/** What the File service's handlers work with: metadata, bytes, and where they are served. */
export interface FileDeps {
  repo: FileStore;
  serviceProperties: ServicePropertiesStore;
  content: ContentStore;
  /** Unlinks content files, waiting for reads still streaming them. */
  pins: ContentPins;
  /** Small content files in memory, shared with the Blob service. */
  cache: SmallContentCache;
  /** Merges a fragmented file's small ranges after writes. */
  compactor: FileCompactor;
  /** Base URL of this File endpoint, e.g. `http://127.0.0.1:10003`. */
  endpoint: string;
  /** Resolves once the metadata commits made so far are on disk (WalSync). */
  durable: () => Promise<void>;
  /** The web console's origin, which may call every account (CORS). */
  consoleOrigin: ConsoleOrigin;
}

export interface FileRequest extends AuthorizedRequest {
  deps: FileDeps;
}

export type FileHandler = (ctx: FileRequest) => Promise<void>;

/** Limits Azure documents for Azure Files. */
export const LIMITS = {
  /** Put Range body. */
  range: 4 * 1024 * 1024,
  fileSize: 4 * 1024 ** 4,
  /** GiB; a share's quota is 1 to this. */
  quota: 102_400,
  /** x-ms-file-permission in a header; longer descriptors go through Create Permission. */
  permissionHeader: 8 * 1024,
  /** Create Permission body. */
  permissionBody: 64 * 1024,
  xmlBody: 4 * 1024 * 1024,
};
