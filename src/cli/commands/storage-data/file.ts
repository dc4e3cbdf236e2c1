import path from 'node:path';
import type { Command } from 'commander';
import type { ShareClient } from '@azure/storage-file-share';
import { downloadPlanned, uploadPlanned, type PlannedFile } from '../../../sdk/transfer.js';
import { CliError } from '../../errors.js';
import { emit } from '../../output/options.js';
import { examples } from '../common.js';
import { FILE_PERMISSIONS, METADATA_HELP, numResults, parseMetadata } from './arguments.js';
import { guessContentType } from './content-type.js';
import { explained, isNotFound } from './errors.js';
import { registerFileBatch } from './file-batch.js';
import { shareClient, sharePath, shareTarget, withShare, type ShareOptions } from './file-common.js';
import { fileRow, fileUploadView, fileView, listedRow, listedView } from './file-views.js';
import { downloadDestination, fileToUpload } from './local.js';
import { listUpTo, withNextMarker } from './paging.js';
import { fileSas, withSasOptions, type SasOptions } from './sas.js';
import { runTransfer } from './transfer.js';

interface PathOptions extends ShareOptions {
  path: string;
}

/** Get File Properties, whose 404 becomes a message naming the file. */
async function fileProperties(share: ShareClient, filePath: string, shareName: string) {
  try {
    return await share.rootDirectoryClient.getFileClient(filePath).getProperties();
  } catch (error) {
    if (isNotFound(error)) throw new CliError(`The file '${filePath}' was not found in share '${shareName}' (or the share does not exist).`, 3);
    throw error;
  }
}

/** Where `--path` puts an upload: the path itself, or the source's name inside it when it is a directory (as in az). */
async function uploadPath(share: ShareClient, given: string | undefined, source: string): Promise<string> {
  const name = path.basename(source);
  if (given === undefined || given === '' || given.endsWith('/')) return sharePath(`${given ?? ''}/${name}`);
  const normalized = sharePath(given);
  return (await share.getDirectoryClient(normalized).exists()) ? `${normalized}/${name}` : normalized;
}

export function registerStorageFile(storage: Command): void {
  const file = storage
    .command('file')
    .description('Manage the files of file shares.')
    .addHelpText('after', examples('mlspace storage file upload -s shared --source report.pdf --account-name mystorageaccount', 'mlspace storage file list -s shared --account-name mystorageaccount -o table'));

  withShare(file.command('upload').description('Upload a file to a share (replacing a file of that path).'))
    .requiredOption('--source <file>', 'the local file to upload')
    .option('-p, --path <path>', "the file's path in the share; a directory, or none, means the source's name there")
    .option('--metadata <pairs...>', METADATA_HELP)
    .option('--content-type <type>', "the file's content type (default: guessed from its extension)")
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText('after', examples('mlspace storage file upload -s shared --source report.pdf -p reports/2024 --account-name mystorageaccount'))
    .action(async (options: ShareOptions & { source: string; path?: string; metadata?: string[]; contentType?: string; progress: boolean }) => {
      const local = fileToUpload(options.source, '--source');
      const { access, share } = await shareClient(options);
      await explained(access, async () => {
        const remotePath = await uploadPath(share, options.path, local.localPath);
        const files: PlannedFile[] = [{ ...local, remotePath }];
        const target = await shareTarget(access, options.shareName);
        const attributes = { contentType: options.contentType ?? guessContentType(local.localPath), metadata: parseMetadata(options.metadata) };
        await runTransfer({
          files,
          verb: 'uploaded',
          nameOf: (planned) => planned.remotePath,
          progressLabel: options.progress ? `Uploading ${remotePath}` : undefined,
          access,
          work: (hooks) => uploadPlanned(target, files, { overwrite: true, attributesOf: () => attributes, ...hooks }),
          print: () => undefined,
        });
        // A share's upload answers nothing of the file; az prints the file's properties as the last request left them.
        emit(fileUploadView(await fileProperties(share, remotePath, options.shareName)), options);
      });
    });

  withShare(file.command('download').description('Download a file from a share (replacing a local file of that name).'))
    .requiredOption('-p, --path <path>', "the file's path in the share")
    .option('--dest <path>', "the local file to write (into a directory: the file's name there); default: the file's name here")
    .option('--no-progress', 'do not show the progress bar')
    .addHelpText('after', examples('mlspace storage file download -s shared -p reports/2024/report.pdf --dest ./report.pdf --account-name mystorageaccount'))
    .action(async (options: PathOptions & { dest?: string; progress: boolean }) => {
      const filePath = sharePath(options.path);
      const { access, share } = await shareClient(options);
      await explained(access, async () => {
        const properties = await fileProperties(share, filePath, options.shareName);
        const files = [{ localPath: downloadDestination(options.dest, filePath, true), remotePath: filePath, size: properties.contentLength ?? 0 }];
        const target = await shareTarget(access, options.shareName);
        await runTransfer({
          files,
          verb: 'downloaded',
          nameOf: (planned) => planned.remotePath,
          progressLabel: options.progress ? `Downloading ${filePath}` : undefined,
          access,
          work: (hooks) => downloadPlanned(target, files, { overwrite: true, ...hooks }),
          print: () => emit(fileView(options.shareName, filePath, properties), options, fileRow),
        });
      });
    });

  withShare(file.command('list').description('List the files and directories in a directory of a share (the root by default).'))
    .option('-p, --path <dir>', 'the directory to list')
    .option('--num-results <n>', "the most entries to list; '*' for all", numResults, 5000)
    .option('--marker <token>', 'go on from where a listing stopped (its next marker)')
    .option('--exclude-dir', 'list files only')
    .addHelpText('after', examples('mlspace storage file list -s shared --account-name mystorageaccount -o table', 'mlspace storage file list -s shared -p reports --query "[].name" -o tsv --account-name mystorageaccount'))
    .action(async (options: ShareOptions & { path?: string; numResults: number; marker?: string; excludeDir?: boolean }) => {
      const { access, share } = await shareClient(options);
      await explained(access, async () => {
        const directory = share.getDirectoryClient(sharePath(options.path ?? ''));
        const { items, nextMarker } = await listUpTo(
          (continuationToken, maxPageSize) => directory.listFilesAndDirectories({ includeTimestamps: true, includeEtag: true }).byPage({ continuationToken, maxPageSize }),
          (page) => [
            ...(options.excludeDir ? [] : page.segment.directoryItems.map((item) => listedView(item, 'dir'))),
            ...page.segment.fileItems.map((item) => listedView(item, 'file')),
          ],
          options.numResults,
          options.marker,
        );
        emit(withNextMarker(items, nextMarker, false), options, listedRow);
      });
    });

  withShare(file.command('delete').description('Delete a file from a share.'))
    .requiredOption('-p, --path <path>', "the file's path in the share")
    .addHelpText('after', examples('mlspace storage file delete -s shared -p reports/2024/report.pdf --account-name mystorageaccount'))
    .action(async (options: PathOptions) => {
      const filePath = sharePath(options.path);
      const { access, share } = await shareClient(options);
      await explained(access, async () => {
        try {
          await share.rootDirectoryClient.getFileClient(filePath).delete();
        } catch (error) {
          if (isNotFound(error)) throw new CliError(`The file '${filePath}' was not found in share '${options.shareName}' (or the share does not exist).`, 3);
          throw error;
        }
        emit({ deleted: true }, options);
      });
    });

  withSasOptions(
    withShare(file.command('generate-sas').description('Make a SAS token for a file, signed with the account key (printed as a JSON string).')).requiredOption('-p, --path <path>', "the file's path in the share"),
    FILE_PERMISSIONS,
  )
    .addHelpText('after', examples('mlspace storage file generate-sas -s shared -p reports/report.pdf --permissions r --expiry 2030-01-01T00:00Z --account-name mystorageaccount -o tsv'))
    .action(async (options: PathOptions & SasOptions) => {
      const { access } = await shareClient(options, 'key');
      emit(await fileSas(access, options.shareName, sharePath(options.path), options), options);
    });

  registerFileBatch(file);
}
