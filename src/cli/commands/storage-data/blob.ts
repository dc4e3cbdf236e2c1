import type { Command } from 'commander';
import { examples } from '../common.js';
import { registerBlobBatch } from './blob-batch.js';
import { registerBlobManagement } from './blob-manage.js';
import { registerBlobTransfers } from './blob-transfer.js';

export function registerStorageBlob(storage: Command): void {
  const blob = storage
    .command('blob')
    .description('Manage blobs: upload, download, list, delete, SAS tokens, metadata and tiers.')
    .addHelpText(
      'after',
      examples(
        'mlspace storage blob upload -c training -f data.csv --account-name mystorageaccount',
        'mlspace storage blob upload-batch -d training -s ./data --pattern "*.csv" --account-name mystorageaccount',
        'mlspace storage blob list -c training --account-name mystorageaccount -o table',
      ),
    );
  registerBlobTransfers(blob);
  registerBlobBatch(blob);
  registerBlobManagement(blob);
}
