import fs from 'node:fs';
import path from 'node:path';
import type { TransferOptions, TransferProgress, TransferResult } from './datastore-types.js';
import { MlspaceError } from './errors.js';
import type { DeleteOptions, RemoteFile, StorageTarget, StoredFile, UploadAttributes } from './storage-target.js';

/** Files moved at once: enough to hide per-request latency for many small files, few enough for two cores. */
const CONCURRENCY = 4;

export interface PlannedFile {
  localPath: string;
  /** '/'-separated, relative to the container or share. */
  remotePath: string;
  size: number;
}

/**
 * What a caller learns file by file, beyond the progress: the CLI prints what
 * the service answered for each file, and when a batch fails, names the files
 * that were transferred, those that were not, and the one that failed first.
 */
export interface TransferHooks<F> {
  onFileDone?: (file: F, stored?: StoredFile) => void;
  /** The first failure only: it starts no more files, and the batch ends with its error. */
  onFileFailed?: (file: F, error: unknown) => void;
}

export interface PlannedTransferOptions extends TransferOptions, TransferHooks<PlannedFile> {
  /** Content type, metadata and tier of each uploaded file. */
  attributesOf?: (file: PlannedFile) => UploadAttributes | undefined;
  /** Stops the transfer: no more files start, and those in flight are aborted (a canceled job's). */
  abortSignal?: AbortSignal;
}

/** Every regular file under `dir`, with its path relative to `dir` in '/' form, in a stable order. */
export function filesUnder(dir: string): { localPath: string; relative: string; size: number }[] {
  const found: { localPath: string; relative: string; size: number }[] = [];
  const visit = (current: string, relative: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const localPath = path.join(current, entry.name);
      const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) visit(localPath, rel);
      else if (entry.isFile()) found.push({ localPath, relative: rel, size: fs.statSync(localPath).size });
    }
  };
  visit(dir, '');
  return found;
}

/** Joins datastore path segments with '/', dropping empty ones and stray slashes. */
export function joinRemote(...parts: (string | undefined)[]): string {
  return parts
    .flatMap((part) => (part ?? '').split(/[\\/]+/))
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/**
 * Where a remote file lands under `targetDir`. Blob names may hold `..` or
 * absolute-looking segments (the service takes them as plain names, as Azure
 * does), but joined into a local path they would reach outside the target, so
 * such a name refuses the whole download before anything is written.
 */
export function localPathUnder(targetDir: string, remoteRelative: string): string {
  const root = path.resolve(targetDir);
  const segments = remoteRelative.split('/');
  const unsafe = segments.find((segment) => segment === '..' || segment.includes(path.sep) || path.isAbsolute(segment));
  const localPath = path.join(root, ...segments);
  const relative = path.relative(root, localPath);
  if (unsafe !== undefined || relative === '' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new MlspaceError(
      `'${remoteRelative}' would be written outside ${root}${unsafe === undefined ? '' : ` (it has the segment '${unsafe}')`}; ` +
        'nothing was downloaded. Rename or delete that file on the service, or download a prefix that leaves it out.',
      'UnsafePath',
    );
  }
  return localPath;
}

class ProgressMeter {
  private readonly loaded = new Map<string, number>();
  private completedFiles = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly totalFiles: number,
    private readonly onProgress?: (progress: TransferProgress) => void,
  ) {}

  bytes(file: string, loaded: number): void {
    this.loaded.set(file, loaded);
    this.report();
  }

  done(file: string, size: number): void {
    this.loaded.set(file, size);
    this.completedFiles++;
    this.report();
  }

  private report(): void {
    if (!this.onProgress) return;
    let loadedBytes = 0;
    for (const value of this.loaded.values()) loadedBytes += value;
    this.onProgress({ loadedBytes, totalBytes: this.totalBytes, completedFiles: this.completedFiles, totalFiles: this.totalFiles });
  }
}

/**
 * Runs `work` on the items, a few at a time. The first failure starts no
 * more, and lets those in flight finish (or fail) on their own: aborting them
 * would leave unknown whether the service kept a file whose request was
 * already sent, and a caller must be able to say exactly what was
 * transferred. Then the signal aborts whatever request bodies are still
 * streaming (the service answers a stale key at once, without waiting for
 * the body), which would otherwise keep the process alive.
 */
async function inPool<T>(
  items: T[],
  work: (item: T, abortSignal: AbortSignal) => Promise<void>,
  onFailed?: (item: T, error: unknown) => void,
  stop?: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  let failure: { error: unknown } | undefined;
  const onStop = () => {
    failure ??= { error: stop!.reason };
    controller.abort();
  };
  stop?.addEventListener('abort', onStop);
  if (stop?.aborted) onStop();
  let next = 0;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item, controller.signal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          onFailed?.(item, error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  stop?.removeEventListener('abort', onStop);
  if (failure) {
    controller.abort();
    throw failure.error;
  }
}

/** A transfer's progress meter over all `files`, and its empty result. */
function startTransfer(files: { size: number }[], options: TransferOptions): { meter: ProgressMeter; result: TransferResult } {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  return { meter: new ProgressMeter(total, files.length, options.onProgress), result: { files: [], skipped: [], bytes: 0 } };
}

/** Uploads the planned files; without `overwrite`, files that exist remotely are skipped, as azureml does. */
export async function uploadPlanned(target: StorageTarget, files: PlannedFile[], options: PlannedTransferOptions = {}): Promise<TransferResult> {
  const { meter, result } = startTransfer(files, options);
  await inPool(
    files,
    async (file, abortSignal) => {
      if (!options.overwrite && (await target.exists(file.remotePath))) {
        result.skipped.push(file.remotePath);
      } else {
        const attributes = options.attributesOf?.(file);
        const stored = await target.upload(file.localPath, file.remotePath, (loaded) => meter.bytes(file.remotePath, loaded), abortSignal, attributes);
        result.files.push(file.remotePath);
        result.bytes += file.size;
        options.onFileDone?.(file, stored);
      }
      meter.done(file.remotePath, file.size);
    },
    options.onFileFailed,
    options.abortSignal,
  );
  result.files.sort();
  result.skipped.sort();
  return result;
}

/**
 * Downloads the planned files, creating directories as needed. A local file
 * that exists is refused before anything is written, unless `overwrite`. A
 * file whose download fails is removed rather than left half written.
 */
export async function downloadPlanned(target: StorageTarget, files: PlannedFile[], options: PlannedTransferOptions = {}): Promise<TransferResult> {
  if (!options.overwrite) {
    const existing = files.find((file) => fs.existsSync(file.localPath));
    if (existing) throw new MlspaceError(`${existing.localPath} already exists; pass overwrite: true (--overwrite in the CLI) to replace it.`, 'FileExists');
  }
  const { meter, result } = startTransfer(files, options);
  await inPool(
    files,
    async (file, abortSignal) => {
      fs.mkdirSync(path.dirname(file.localPath), { recursive: true });
      try {
        await target.download(file.remotePath, file.localPath, (loaded) => meter.bytes(file.remotePath, loaded), abortSignal);
      } catch (error) {
        fs.rmSync(file.localPath, { force: true });
        throw error;
      }
      meter.done(file.remotePath, file.size);
      result.files.push(file.localPath);
      result.bytes += file.size;
      options.onFileDone?.(file);
    },
    options.onFileFailed,
    options.abortSignal,
  );
  result.files.sort();
  return result;
}

/** Deletes the listed remote files, a few at a time; the first failure starts no more, as for transfers. */
export async function deletePlanned(
  target: StorageTarget,
  files: RemoteFile[],
  options: Pick<TransferOptions, 'onProgress'> & TransferHooks<RemoteFile> & DeleteOptions = {},
): Promise<string[]> {
  const { meter } = startTransfer(files, options);
  const deleted: string[] = [];
  await inPool(
    files,
    async (file, abortSignal) => {
      await target.delete(file.path, abortSignal, { deleteSnapshots: options.deleteSnapshots });
      deleted.push(file.path);
      meter.done(file.path, file.size);
      options.onFileDone?.(file);
    },
    options.onFileFailed,
  );
  return deleted.sort();
}
