import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { uploadPlanned, downloadPlanned, type PlannedFile } from '../../../sdk/transfer.js';
import { CliError } from '../../errors.js';
import { emit } from '../../output/options.js';
import { examples } from '../common.js';
import { METADATA_HELP, parseMetadata, threeStateFlag } from './arguments.js';
import { accountAccess } from './auth.js';
import { blobTier, containerClient, containerTarget, withBlob, withContainer, type BlobOptions } from './blob-common.js';
import { blobView, blobRow, uploadView } from './blob-views.js';
import { guessContentType } from './content-type.js';
import { explained, isNotFound } from './errors.js';
import { downloadDestination, fileToUpload } from './local.js';
import { runTransfer } from './transfer.js';

interface UploadOptions extends Omit<BlobOptions, 'name'> {
  file: string;
  name?: string;
  overwrite?: boolean;
  metadata?: string[];
  contentType?: string;
  tier?: string;
  progress: boolean;
}

interface DownloadOptions extends BlobOptions {
  file?: string;
  overwrite?: boolean;
  progress: boolean;
}

export function registerBlobTransfers(blob: Command): void {
  withContainer(blob.command('upload').description('Upload a file to a block blob.'))
    .requiredOption('-f, --file <path>', 'the local file to upload')
    .option('-n, --name <name>', "the blob's name (default: the file's name)")
    .addOption(threeStateFlag('--overwrite', 'replace the blob if it exists; without it, an existing blob is an error'))
    .option('--metadata <pairs...>', METADATA_HELP)
    .option('--content-type <type>', "the blob's content type (default: guessed from the file's extension)")
    .option('--tier <tier>', 'the block blob tier: Hot, Cool, Cold or Archive', blobTier)
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText(
      'after',
      examples(
        'mlspace storage blob upload -c training -f data.csv --account-name mystorageaccount',
        'mlspace storage blob upload -c training -n raw/2024/data.csv -f data.csv --overwrite --connection-string "$CS"',
      ),
    )
    .action(async (options: UploadOptions) => {
      const local = fileToUpload(options.file, '--file');
      const name = options.name ?? path.basename(local.localPath);
      const access = await accountAccess(options, 'blob');
      const target = await containerTarget(access, options.containerName);
      const files: PlannedFile[] = [{ ...local, remotePath: name }];
      const attributes = { contentType: options.contentType ?? guessContentType(local.localPath), metadata: parseMetadata(options.metadata), tier: options.tier };
      let skipped: string[] = [];
      await runTransfer({
        files,
        verb: 'uploaded',
        nameOf: (file) => file.remotePath,
        progressLabel: options.progress ? `Uploading ${name}` : undefined,
        access,
        work: async (hooks) => {
          ({ skipped } = await uploadPlanned(target, files, { overwrite: options.overwrite ?? false, attributesOf: () => attributes, ...hooks }));
        },
        print: ([done]) => done && emit(uploadView(done.stored), options),
      });
      if (skipped.length > 0) throw new CliError(`The blob '${name}' already exists in container '${options.containerName}'. Add --overwrite to replace it.`, 1);
    });

  withBlob(blob.command('download').description('Download a blob to a file, or to standard output.'))
    .option('-f, --file <path>', "the file to write (into a directory: the blob's base name there); default: standard output")
    .addOption(threeStateFlag('--overwrite', 'replace the local file if it exists (the default, as in az); --overwrite false refuses'))
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText('after', examples('mlspace storage blob download -c training -n data.csv -f data.csv --account-name mystorageaccount'))
    .action(async (options: DownloadOptions) => {
      const { access, container } = await containerClient(options);
      const blobClient = container.getBlobClient(options.name);
      await explained(access, async () => {
        let properties;
        try {
          properties = await blobClient.getProperties();
        } catch (error) {
          if (isNotFound(error)) throw new CliError(`The blob '${options.name}' was not found in container '${options.containerName}' (or the container does not exist).`, 3);
          throw error;
        }
        if (options.file === undefined) {
          // Like az, the bytes themselves go to stdout, and nothing else does.
          const response = await blobClient.download();
          await pipeline(response.readableStreamBody!, process.stdout, { end: false });
          return;
        }
        const overwrite = options.overwrite ?? true;
        const files = [{ localPath: downloadDestination(options.file, options.name, overwrite), remotePath: options.name, size: properties.contentLength ?? 0 }];
        const target = await containerTarget(access, options.containerName);
        await runTransfer({
          files,
          verb: 'downloaded',
          nameOf: (file) => file.remotePath,
          progressLabel: options.progress ? `Downloading ${options.name}` : undefined,
          access,
          work: (hooks) => downloadPlanned(target, files, { overwrite: true, ...hooks }),
          print: () => emit(blobView(options.containerName, { name: options.name, ...properties }), options, blobRow),
        });
      });
    });
}
