import type { Command } from 'commander';
import { Option } from 'commander';
import type { RemoteFile, StorageTarget } from '../../../sdk/storage-target.js';
import { deletePlanned, downloadPlanned, uploadPlanned } from '../../../sdk/transfer.js';
import { emit, type OutputOptions } from '../../output/options.js';
import { examples } from '../common.js';
import { METADATA_HELP, parseMetadata, threeStateFlag } from './arguments.js';
import { accountAccess, type StorageAccess, type StorageAuthOptions } from './auth.js';
import { downloadsInto, localFilesMatching, nameNotUrl, PATTERN_HELP, remoteFilesMatching, warnIfNone } from './batch-files.js';
import { blobTier, containerTarget, withBlobAuth } from './blob-common.js';
import { guessContentType } from './content-type.js';
import { explained } from './errors.js';
import { existingDirectory } from './local.js';
import { runTransfer, someOf, warnDryrun } from './transfer.js';

interface BatchOptions extends StorageAuthOptions, OutputOptions {
  source: string;
  pattern?: string;
  dryrun?: boolean;
  progress: boolean;
}

interface UploadBatchOptions extends BatchOptions {
  destination: string;
  destinationPath?: string;
  overwrite?: boolean;
  metadata?: string[];
  contentType?: string;
  tier?: string;
}

/** The blobs of the container that --pattern selects, in name order, and the access and target to act on them with. */
async function blobsMatching(options: BatchOptions, container: string): Promise<{ access: StorageAccess; target: StorageTarget; blobs: RemoteFile[] }> {
  const access = await accountAccess(options, 'blob');
  const target = await containerTarget(access, container);
  return { access, target, blobs: await explained(access, () => remoteFilesMatching(target, options.pattern)) };
}

/** A --dryrun of a batch over a container's blobs names its pattern, the container and each blob, as az's does. */
function warnBlobsDryrun(action: string, container: string, blobs: RemoteFile[], options: BatchOptions): void {
  warnDryrun(action, [['pattern', options.pattern], ['container', container], ['total', blobs.length]], blobs.map((blob) => blob.path), options);
}

export function registerBlobBatch(blob: Command): void {
  withBlobAuth(blob.command('upload-batch').description('Upload the files of a local directory to a container, keeping their relative paths.'))
    .requiredOption('-s, --source <dir>', 'the local directory to upload')
    .requiredOption('-d, --destination <container>', 'the container to upload into')
    .option('--destination-path <path>', 'the virtual directory in the container to upload into')
    .option('--pattern <glob>', PATTERN_HELP)
    .option('--dryrun', 'only list what would be uploaded')
    .addOption(threeStateFlag('--overwrite', 'replace blobs that exist; without it they are left as they are, and named in a warning'))
    .option('--metadata <pairs...>', METADATA_HELP)
    .option('--content-type <type>', "every blob's content type (default: guessed from each file's extension)")
    .option('--tier <tier>', 'the block blob tier: Hot, Cool, Cold or Archive', blobTier)
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText(
      'after',
      examples(
        'mlspace storage blob upload-batch -d training -s ./data --account-name mystorageaccount',
        "mlspace storage blob upload-batch -d training -s ./data --pattern '*.csv' --destination-path raw/2024 --overwrite --connection-string \"$CS\"",
      ),
    )
    .action(async (options: UploadBatchOptions) => {
      const container = nameNotUrl(options.destination, '--destination', 'container');
      const files = localFilesMatching(options.source, options.pattern, options.destinationPath);
      const access = await accountAccess(options, 'blob');
      const target = await containerTarget(access, container);
      const metadata = parseMetadata(options.metadata);
      const contentTypeOf = (localPath: string) => options.contentType ?? guessContentType(localPath) ?? null;
      const prefix = `${access.serviceUrl}/${encodeURIComponent(container)}/`;
      const nameOf = (url: string) => decodeURIComponent(url.startsWith(prefix) ? url.slice(prefix.length) : url);
      // az's rows for uploaded blobs; the table shows names, not URLs, so that it fits a terminal.
      const tableRow = (row: { Blob: string; Type: string | null; 'Last Modified': unknown }) => ({ Blob: nameOf(row.Blob), Type: row.Type, 'Last Modified': row['Last Modified'] });
      if (options.dryrun) {
        emit(
          files.map((file) => ({ Blob: target.url(file.remotePath), Type: contentTypeOf(file.localPath), 'Last Modified': null, eTag: null })),
          options,
          tableRow,
        );
        return;
      }
      warnIfNone(files.length, `file under '${options.source}'`, options.pattern);
      let skipped: string[] = [];
      await runTransfer({
        files,
        verb: 'uploaded',
        nameOf: (file) => file.remotePath,
        progressLabel: options.progress ? 'Uploading' : undefined,
        access,
        work: async (hooks) => {
          ({ skipped } = await uploadPlanned(target, files, {
            overwrite: options.overwrite ?? false,
            attributesOf: (file) => ({ contentType: contentTypeOf(file.localPath) ?? undefined, metadata, tier: options.tier }),
            ...hooks,
          }));
        },
        print: (done) =>
          emit(
            done.map(({ file, stored }) => ({ Blob: target.url(file.remotePath), Type: contentTypeOf(file.localPath), 'Last Modified': stored?.lastModified ?? null, eTag: stored?.etag ?? null })),
            options,
            tableRow,
          ),
      });
      if (skipped.length > 0) process.stderr.write(`WARNING: ${skipped.length} of ${files.length} files were not uploaded because blobs of their names exist${someOf(skipped)}; add --overwrite to replace them.\n`);
    });

  withBlobAuth(blob.command('download-batch').description("Download a container's blobs into a local directory, keeping their paths."))
    .requiredOption('-s, --source <container>', 'the container to download from')
    .requiredOption('-d, --destination <dir>', 'an existing local directory to download into')
    .option('--pattern <glob>', PATTERN_HELP)
    .option('--dryrun', 'only list what would be downloaded (on stderr)')
    .addOption(threeStateFlag('--overwrite', 'replace local files that exist (the default, as in az); --overwrite false refuses before anything is written'))
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText(
      'after',
      examples('mlspace storage blob download-batch -s training -d ./data --account-name mystorageaccount', "mlspace storage blob download-batch -s training -d ./data --pattern 'raw/*.csv' --connection-string \"$CS\""),
    )
    .action(async (options: BatchOptions & { destination: string; overwrite?: boolean }) => {
      const container = nameNotUrl(options.source, '--source', 'container');
      if (!options.dryrun) existingDirectory(options.destination, '--destination');
      const { access, target, blobs } = await blobsMatching(options, container);
      if (options.dryrun) {
        warnBlobsDryrun(`download action: from ${container} to ${options.destination}`, container, blobs, options);
        return;
      }
      const files = downloadsInto(options.destination, blobs, options.overwrite ?? true);
      warnIfNone(files.length, `blob in container '${container}'`, options.pattern);
      await runTransfer({
        files,
        verb: 'downloaded',
        nameOf: (file) => file.remotePath,
        progressLabel: options.progress ? 'Downloading' : undefined,
        access,
        work: (hooks) => downloadPlanned(target, files, { overwrite: true, ...hooks }),
        print: (done) => emit(done.map(({ file }) => file.remotePath), options),
      });
    });

  withBlobAuth(blob.command('delete-batch').description('Delete the blobs of a container that --pattern selects (all of them without it).'))
    .requiredOption('-s, --source <container>', 'the container to delete blobs from')
    .option('--pattern <glob>', PATTERN_HELP)
    .option('--dryrun', 'only list what would be deleted (on stderr)')
    .addOption(new Option('--delete-snapshots <which>', 'required for blobs with snapshots: include (the blobs and their snapshots) or only (the snapshots)').choices(['include', 'only']))
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText(
      'after',
      examples("mlspace storage blob delete-batch -s training --pattern 'tmp/*' --account-name mystorageaccount", "mlspace storage blob delete-batch -s training --pattern '*.log' --dryrun --connection-string \"$CS\""),
    )
    .action(async (options: BatchOptions & { deleteSnapshots?: 'include' | 'only' }) => {
      const container = nameNotUrl(options.source, '--source', 'container');
      const { access, target, blobs } = await blobsMatching(options, container);
      if (options.dryrun) {
        warnBlobsDryrun(`delete action: from ${container}`, container, blobs, options);
        return;
      }
      warnIfNone(blobs.length, `blob in container '${container}'`, options.pattern);
      // As az, a successful delete-batch prints nothing.
      await runTransfer({
        files: blobs,
        verb: 'deleted',
        nameOf: (file) => file.path,
        progressLabel: options.progress ? 'Deleting' : undefined,
        unit: 'files',
        access,
        work: (hooks) => deletePlanned(target, blobs, { deleteSnapshots: options.deleteSnapshots, ...hooks }),
        print: () => undefined,
      });
    });
}
