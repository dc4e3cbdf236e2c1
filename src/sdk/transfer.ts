import fs from 'node:fs';
import path from 'node:path';
import type { TransferOptions, TransferProgress, TransferResult } from './datastore-types.js';
import { MlspaceError } from './errors.js';
import type { StorageTarget } from './storage-target.js';

/** Files moved at once: enough to hide per-request latency for many small files, few enough for two cores. */
const CONCURRENCY = 4;

export interface PlannedFile {
  localPath: string;
  /** '/'-separated, relative to the container or share. */
  remotePath: string;
  size: number;
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
 * Runs `work` on the items, a few at a time. The first failure aborts the
 * transfers in flight and starts no more: once one file is refused (a stale
 * key), the others would be too, and each would otherwise hold its half-sent
 * request open.
 */
async function inPool<T>(items: T[], work: (item: T, abortSignal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  let next = 0;
  const worker = async () => {
    while (next < items.length && !controller.signal.aborted) {
      try {
        await work(items[next++]!, controller.signal);
      } catch (error) {
        controller.abort();
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** A transfer's progress meter over all `files`, and its empty result. */
function startTransfer(files: PlannedFile[], options: TransferOptions): { meter: ProgressMeter; result: TransferResult } {
  const total = files.reduce((sum, file) => sum + file.size, 0);
  return { meter: new ProgressMeter(total, files.length, options.onProgress), result: { files: [], skipped: [], bytes: 0 } };
}

/** Uploads the planned files; without `overwrite`, files that exist remotely are skipped, as azureml does. */
export async function uploadPlanned(target: StorageTarget, files: PlannedFile[], options: TransferOptions = {}): Promise<TransferResult> {
  const { meter, result } = startTransfer(files, options);
  await inPool(files, async (file, abortSignal) => {
    if (!options.overwrite && (await target.exists(file.remotePath))) {
      result.skipped.push(file.remotePath);
    } else {
      await target.upload(file.localPath, file.remotePath, (loaded) => meter.bytes(file.remotePath, loaded), abortSignal);
      result.files.push(file.remotePath);
      result.bytes += file.size;
    }
    meter.done(file.remotePath, file.size);
  });
  result.files.sort();
  result.skipped.sort();
  return result;
}

/**
 * Downloads the planned files, creating directories as needed. A local file
 * that exists is refused before anything is written, unless `overwrite`.
 */
export async function downloadPlanned(target: StorageTarget, files: PlannedFile[], options: TransferOptions = {}): Promise<TransferResult> {
  if (!options.overwrite) {
    const existing = files.find((file) => fs.existsSync(file.localPath));
    if (existing) throw new MlspaceError(`${existing.localPath} already exists; pass overwrite: true (--overwrite in the CLI) to replace it.`, 'FileExists');
  }
  const { meter, result } = startTransfer(files, options);
  await inPool(files, async (file, abortSignal) => {
    fs.mkdirSync(path.dirname(file.localPath), { recursive: true });
    await target.download(file.remotePath, file.localPath, (loaded) => meter.bytes(file.remotePath, loaded), abortSignal);
    meter.done(file.remotePath, file.size);
    result.files.push(file.localPath);
    result.bytes += file.size;
  });
  result.files.sort();
  return result;
}
