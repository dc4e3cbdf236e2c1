import type { Command } from 'commander';
import { downloadPlanned, uploadPlanned } from '../../../sdk/transfer.js';
import { CliError } from '../../errors.js';
import { emit, type OutputOptions } from '../../output/options.js';
import { examples } from '../common.js';
import { METADATA_HELP, parseMetadata } from './arguments.js';
import { accountAccess, shareServiceClient, type StorageAuthOptions } from './auth.js';
import { downloadsInto, localFilesMatching, nameNotUrl, PATTERN_HELP, remoteFilesMatching, warnIfNone } from './batch-files.js';
import { guessContentType } from './content-type.js';
import { explained } from './errors.js';
import { existingDirectory } from './local.js';
import { shareTarget, withFileAuth } from './file-common.js';
import { runTransfer, warnDryrun } from './transfer.js';

interface BatchOptions extends StorageAuthOptions, OutputOptions {
  source: string;
  destination: string;
  pattern?: string;
  dryrun?: boolean;
  progress: boolean;
}

export function registerFileBatch(file: Command): void {
  withFileAuth(file.command('upload-batch').description('Upload the files of a local directory to a share, creating its directories as needed.'))
    .requiredOption('-s, --source <dir>', 'the local directory to upload')
    .requiredOption('-d, --destination <share>', 'the share to upload into')
    .option('--destination-path <path>', 'the directory in the share to upload into')
    .option('--pattern <glob>', PATTERN_HELP)
    .option('--dryrun', 'only list what would be uploaded')
    .option('--metadata <pairs...>', METADATA_HELP)
    .option('--content-type <type>', "every file's content type (default: guessed from each file's extension)")
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText(
      'after',
      examples('mlspace storage file upload-batch -d shared -s ./reports --account-name mystorageaccount', "mlspace storage file upload-batch -d shared -s ./reports --pattern '*.pdf' --destination-path 2024 --connection-string \"$CS\""),
    )
    .action(async (options: BatchOptions & { destinationPath?: string; metadata?: string[]; contentType?: string }) => {
      const share = nameNotUrl(options.destination, '--destination', 'share');
      const files = localFilesMatching(options.source, options.pattern, options.destinationPath);
      const access = await accountAccess(options, 'file');
      const target = await shareTarget(access, share);
      const metadata = parseMetadata(options.metadata);
      const contentTypeOf = (localPath: string) => options.contentType ?? guessContentType(localPath);
      if (options.dryrun) {
        emit(
          files.map((planned) => ({ File: target.url(planned.remotePath), Type: contentTypeOf(planned.localPath) ?? null })),
          options,
        );
        return;
      }
      warnIfNone(files.length, `file under '${options.source}'`, options.pattern);
      // az uploads to a share whatever is there: a file share has no "exists" check in its batch upload.
      await runTransfer({
        files,
        verb: 'uploaded',
        nameOf: (planned) => planned.remotePath,
        progressLabel: options.progress ? 'Uploading' : undefined,
        access,
        work: (hooks) => uploadPlanned(target, files, { overwrite: true, attributesOf: (planned) => ({ contentType: contentTypeOf(planned.localPath), metadata }), ...hooks }),
        print: (done) => emit(done.map(({ file: planned }) => target.url(planned.remotePath)), options),
      });
    });

  withFileAuth(file.command('download-batch').description("Download a share's files into a local directory, keeping their paths."))
    .requiredOption('-s, --source <share>', 'the share to download from')
    .requiredOption('-d, --destination <dir>', 'an existing local directory to download into')
    .option('--pattern <glob>', PATTERN_HELP)
    .option('--dryrun', 'only list what would be downloaded (on stderr)')
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText(
      'after',
      examples('mlspace storage file download-batch -s shared -d ./reports --account-name mystorageaccount', "mlspace storage file download-batch -s shared -d ./reports --pattern '2024/*' --connection-string \"$CS\""),
    )
    .action(async (options: BatchOptions) => {
      const share = nameNotUrl(options.source, '--source', 'share');
      if (!options.dryrun) existingDirectory(options.destination, '--destination');
      const access = await accountAccess(options, 'file');
      const target = await shareTarget(access, share);
      const found = await explained(access, async () => {
        // Listing a missing share finds nothing; that is a mistyped name, not an empty share.
        if (!(await (await shareServiceClient(access)).getShareClient(share).exists())) throw new CliError(`The share '${share}' does not exist.`, 3);
        return remoteFilesMatching(target, options.pattern);
      });
      if (options.dryrun) {
        warnDryrun(
          'download files from file share',
          [
            ['account', access.account],
            ['share', share],
            ['destination', options.destination],
            ['pattern', options.pattern],
            ['total', found.length],
          ],
          found.map((remote) => remote.path),
          options,
        );
        return;
      }
      const files = downloadsInto(options.destination, found, true);
      warnIfNone(files.length, `file in share '${share}'`, options.pattern);
      await runTransfer({
        files,
        verb: 'downloaded',
        nameOf: (planned) => planned.remotePath,
        progressLabel: options.progress ? 'Downloading' : undefined,
        access,
        work: (hooks) => downloadPlanned(target, files, { overwrite: true, ...hooks }),
        print: (done) => emit(done.map(({ file: planned }) => target.url(planned.remotePath)), options),
      });
    });
}
