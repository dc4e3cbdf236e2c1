import type CliProgress from 'cli-progress';
import type { TransferProgress } from '../sdk/datastore-types.js';
import { lazyModule } from './lazy-module.js';

const cliProgress = lazyModule<typeof CliProgress>('cli-progress');

export interface ProgressReporter {
  onProgress?: (progress: TransferProgress) => void;
  stop(): void;
}

/**
 * What the bar measures: bytes for transfers, files for work whose cost is
 * per file rather than per byte (deleting many blobs).
 */
export type ProgressUnit = 'bytes' | 'files';

/** A progress bar on stderr when it is a terminal; nothing otherwise, so logs and pipes stay clean. */
export function progressReporter(label: string, unit: ProgressUnit = 'bytes'): ProgressReporter {
  if (!process.stderr.isTTY) return { stop() {} };
  const sizes = unit === 'bytes' ? ' | {loadedMiB}/{totalMiB} MiB' : '';
  const bar = new (cliProgress().SingleBar)(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}%${sizes} | {completedFiles}/{totalFiles} files`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress().Presets.shades_classic,
  );
  let started = false;
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  return {
    onProgress(progress) {
      const payload = { loadedMiB: mib(progress.loadedBytes), totalMiB: mib(progress.totalBytes), completedFiles: progress.completedFiles, totalFiles: progress.totalFiles };
      const [value, total] = unit === 'bytes' ? [progress.loadedBytes, progress.totalBytes] : [progress.completedFiles, progress.totalFiles];
      if (!started) {
        bar.start(Math.max(total, 1), value, payload);
        started = true;
      } else bar.update(value, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
