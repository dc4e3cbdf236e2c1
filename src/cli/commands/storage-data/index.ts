import type { Command } from 'commander';
import { registerStorageBlob } from './blob.js';
import { registerStorageContainer } from './container.js';
import { registerStorageDirectory } from './directory.js';
import { registerStorageFile } from './file.js';
import { registerStorageShare } from './share.js';

/**
 * The data-plane commands, shaped as az's `az storage container|blob|share|file|directory`:
 * the same options and output. Each resolves its credentials in auth.ts, and moves
 * files through the SDK's transfer machinery, which datastores use too.
 */
export function registerStorageData(storage: Command): void {
  registerStorageContainer(storage);
  registerStorageBlob(storage);
  registerStorageShare(storage);
  registerStorageFile(storage);
  registerStorageDirectory(storage);
}
