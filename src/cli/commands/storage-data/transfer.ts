import type { TransferProgress } from '../../../sdk/datastore-types.js';
import type { StoredFile } from '../../../sdk/storage-target.js';
import type { TransferHooks } from '../../../sdk/transfer.js';
import { CliError, describeError } from '../../errors.js';
import { emit, type OutputOptions } from '../../output/options.js';
import { progressReporter, type ProgressUnit } from '../../progress.js';
import type { StorageAccess } from './auth.js';
import { refusalHint, serviceAnswer } from './errors.js';

export interface Done<F> {
  file: F;
  stored?: StoredFile;
}

export interface TransferRun<F> {
  files: F[];
  verb: 'uploaded' | 'downloaded' | 'deleted';
  /** A file's name in messages: its path in the container or share. */
  nameOf: (file: F) => string;
  /** The progress bar's label; none with --no-progress. */
  progressLabel?: string;
  unit?: ProgressUnit;
  access: StorageAccess;
  /** The transfer itself (uploadPlanned, downloadPlanned or deletePlanned), given the hooks to report through. */
  work: (hooks: { onProgress?: (progress: TransferProgress) => void } & TransferHooks<F>) => Promise<unknown>;
  /** Prints what was done: after success, and before the error of a batch that failed, so nothing done goes unreported. */
  print: (done: Done<F>[]) => void;
}

/** At most a few names, then how many more, in parentheses (nothing for none): a batch of thousands still fails in one line. */
export function someOf(names: string[]): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, 5).join(', ');
  return ` (${shown}${names.length > 5 ? `, and ${names.length - 5} more` : ''})`;
}

/**
 * Runs a transfer with a progress bar (on a terminal), and prints its result.
 * A failed batch is not resumed or retried: it ends the command with one line
 * that counts and names what was and was not transferred, and why.
 */
export async function runTransfer<F>(run: TransferRun<F>): Promise<Done<F>[]> {
  const progress = run.progressLabel ? progressReporter(run.progressLabel, run.unit) : { onProgress: undefined, stop() {} };
  const done: Done<F>[] = [];
  let failed: { file: F; error: unknown } | undefined;
  const byName = (a: Done<F>, b: Done<F>) => (run.nameOf(a.file) < run.nameOf(b.file) ? -1 : 1);
  try {
    await run.work({
      onProgress: progress.onProgress,
      onFileDone: (file, stored) => done.push({ file, stored }),
      onFileFailed: (file, error) => (failed ??= { file, error }),
    });
  } catch (error) {
    progress.stop();
    const cause = failed?.error ?? error;
    const why = `${serviceAnswer(cause)}${refusalHint(cause, run.access)}`;
    const exitCode = describeError(cause).exitCode as 1 | 2 | 3;
    if (run.files.length === 1) throw new CliError(why, exitCode);
    done.sort(byName);
    run.print(done);
    const doneNames = done.map((entry) => run.nameOf(entry.file));
    const transferred = new Set(doneNames);
    const rest = run.files.map(run.nameOf).filter((name) => !transferred.has(name)).sort();
    const first = failed ? `'${run.nameOf(failed.file)}' failed: ` : '';
    throw new CliError(
      `${done.length} of ${run.files.length} files were ${run.verb}${someOf(doneNames)}; ${rest.length} ${rest.length === 1 ? 'was' : 'were'} not${someOf(rest)}, because ${first}${why}`,
      exitCode,
    );
  }
  progress.stop();
  done.sort(byName);
  run.print(done);
  return done;
}

/**
 * What a --dryrun of a download or delete batch would do, on stderr as az's
 * warnings: the action, its arguments, and one line per file; the result on
 * stdout is an empty list.
 */
export function warnDryrun(action: string, fields: [string, unknown][], operations: string[], options: OutputOptions): void {
  const lines = [action, ...fields.map(([label, value]) => `${label.padStart(11)} ${value ?? 'None'}`), ' operations', ...operations.map((operation) => `  - ${operation}`)];
  process.stderr.write(lines.map((line) => `WARNING: ${line}\n`).join(''));
  emit([], options);
}
