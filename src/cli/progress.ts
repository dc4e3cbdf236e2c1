import cliProgress from 'cli-progress';
import type { TransferProgress } from '../sdk/datastore-types.js';

export interface ProgressReporter {
  onProgress?: (progress: TransferProgress) => void;
  stop(): void;
}

/** A progress bar on stderr when it is a terminal; nothing otherwise, so logs and pipes stay clean. */
export function progressReporter(label: string): ProgressReporter {
  if (!process.stderr.isTTY) return { stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {loadedMiB}/{totalMiB} MiB | {completedFiles}/{totalFiles} files`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  return {
    onProgress(progress) {
      const payload = { loadedMiB: mib(progress.loadedBytes), totalMiB: mib(progress.totalBytes), completedFiles: progress.completedFiles, totalFiles: progress.totalFiles };
      if (!started) {
        bar.start(Math.max(progress.totalBytes, 1), progress.loadedBytes, payload);
        started = true;
      } else bar.update(progress.loadedBytes, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
