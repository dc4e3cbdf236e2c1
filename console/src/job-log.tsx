import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import type { DataPlane } from './storage/data-plane';

/** How much of a log's end is shown: a job may write far more, and what failed is at the end. */
const TAIL_BYTES = 64 * 1024;

/** Where a job's log is in its workspace's artifact store, as Azure ML keeps it (src/jobs/job-run.ts). */
const logPath = (container: string, job: string) => `${container}/ExperimentRun/dcid.${job}/user_logs/std_log.txt`;

/**
 * The end of a job's log, read from the workspace's storage with the
 * console's account SAS (as the storage browser reads), in a panel.
 */
export function JobLog({ job, plane, container, onClose }: { job: string; plane: DataPlane; container: string; onClose: () => void }) {
  const [text, setText] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const path = logPath(container, job);
    (async () => {
      const size = Number((await plane.call('blob', { method: 'HEAD', path })).headers.get('content-length'));
      if (size === 0) return '';
      const start = Math.max(0, size - TAIL_BYTES);
      const tail = await (await plane.call('blob', { path, headers: { 'x-ms-range': `bytes=${start}-${size - 1}` } })).text();
      return start > 0 ? `… (its first ${start.toLocaleString('en')} bytes are left out)\n${tail}` : tail;
    })().then(setText, (failure: unknown) =>
      setError(
        failure instanceof ApiError && failure.status === 404
          ? `${job} has no log: it stopped before it started one.`
          : failure instanceof Error
            ? failure.message
            : String(failure),
      ),
    );
  }, [job, container]);

  return (
    <aside class="panel" aria-label={`Log of ${job}`}>
      <h3>Log of {job}</h3>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : text === undefined ? (
        <p class="muted">Reading the log…</p>
      ) : (
        <pre class="log">{text === '' ? '(the command wrote nothing)' : text}</pre>
      )}
      <button class="secondary" onClick={onClose}>
        Close
      </button>
    </aside>
  );
}
