import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ML_API, type Session } from './api';
import { groupOf } from './accounts';
import { Confirm } from './confirm';
import { JobLog } from './job-log';
import { mayBrowseStorage, mayCancelJobs } from './roles';
import { DataPlane } from './storage/data-plane';
import { StackTable } from './stack-table';

interface Job {
  id: string;
  name: string;
  systemData: { createdAt: string };
  properties: {
    displayName?: string;
    experimentName?: string;
    status: string;
    properties?: { StartTimeUtc?: string; EndTimeUtc?: string };
    error?: { code: string; message: string };
  };
}

/** The most recent jobs shown per workspace; the CLI lists the rest. */
const SHOWN = 10;
/** Statuses of a job not ended yet (src/db/jobs.ts): while one is shown, the list is read again every few seconds. */
const UNFINISHED = new Set(['NotStarted', 'Queued', 'Running', 'CancelRequested']);
const REREAD_MS = 2000;

const HEADINGS = [
  { label: 'Job' },
  { label: 'Experiment' },
  { label: 'Status' },
  { label: 'Created (UTC)' },
  { label: 'Ran for', num: true },
  { label: 'Why it failed' },
  { label: 'Actions' },
];

function StatusBadge({ status }: { status: string }) {
  const tone = status === 'Completed' ? 'ok' : status === 'Failed' ? 'bad' : status === 'Canceled' ? 'warn' : '';
  return <span class={`badge ${tone}`}>{status}</span>;
}

/** Cancel, after a confirmation naming the job; the list shows it CancelRequested, then Canceled. */
function CancelJob({ job, onDone }: { job: Job; onDone: () => void }) {
  const [asked, setAsked] = useState(false);
  if (!asked) {
    return (
      <button class="secondary" onClick={() => setAsked(true)}>
        Cancel…
      </button>
    );
  }
  return (
    <Confirm
      label={`Cancel ${job.name}`}
      message={`Stops ${job.name} where it runs; what it wrote so far stays in the workspace's storage.`}
      confirm="Cancel job"
      dismiss="Keep it running"
      danger
      run={() => api('POST', `${job.id}/cancel?${ML_API}`)}
      onCancel={() => setAsked(false)}
      onDone={() => {
        setAsked(false);
        onDone();
      }}
    />
  );
}

/** "1 h 2 min", "4 min 5 s", "7 s": from Azure ML's "YYYY-MM-DD HH:MM:SS" start and end (UTC). */
function ranFor(job: Job): string {
  const { StartTimeUtc: start, EndTimeUtc: end } = job.properties.properties ?? {};
  if (!start) return '—';
  const seconds = Math.round(((end ? Date.parse(`${end}Z`) : Date.now()) - Date.parse(`${start}Z`)) / 1000);
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.max(seconds, 0)} s`;
}

/**
 * A workspace's most recent jobs: status, how long each ran, and why a failed
 * one failed, which names the fix when a key it used went stale; the end of
 * each one's log, from the workspace's artifact store (`artifacts`, its
 * container), for a role that may read the account's data.
 */
export function WorkspaceJobs({
  workspace,
  session,
  artifacts,
  reads,
}: {
  workspace: { id: string; name: string; properties: { storageAccount?: string } };
  session: Session;
  artifacts: string | undefined;
  reads: number;
}) {
  const [jobs, setJobs] = useState<Job[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [ownReads, setOwnReads] = useState(0);
  const [log, setLog] = useState<string | undefined>();
  const reread = () => setOwnReads((count) => count + 1);
  const role = session.principal.role;
  const account = workspace.properties.storageAccount;
  const plane = useMemo(
    () => (account && artifacts && mayBrowseStorage(role) ? new DataPlane(account, account.split('/').pop()!, session.dataPlaneHttpsPorts) : undefined),
    [account, artifacts, role],
  );

  useEffect(() => {
    (async () => {
      // Listed by name, a page at a time: every page, to show the newest.
      const all: Job[] = [];
      for (let url: string | undefined = `${workspace.id}/jobs?${ML_API}`; url; ) {
        const page: { value: Job[]; nextLink?: string } = await api('GET', url);
        all.push(...page.value);
        url = page.nextLink && new URL(page.nextLink).pathname + new URL(page.nextLink).search;
      }
      setJobs(all.sort((a, b) => b.systemData.createdAt.localeCompare(a.systemData.createdAt)));
    })().catch((failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)));
  }, [workspace.id, reads, ownReads]);

  const running = jobs?.some((job) => UNFINISHED.has(job.properties.status)) ?? false;
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(reread, REREAD_MS);
    return () => clearTimeout(timer);
  }, [jobs, running]);

  if (error) return <p class="error" role="alert">Jobs: {error}</p>;
  if (!jobs) return <p class="muted">Loading jobs…</p>;
  if (jobs.length === 0) return <p class="muted">No jobs yet: mlspace ml job create --file job.yml -w {workspace.name} -g {groupOf(workspace.id)}.</p>;
  return (
    <section aria-label={`Jobs of ${workspace.name}`}>
      <h3>Jobs</h3>
      <StackTable headings={HEADINGS}>
        {jobs.slice(0, SHOWN).map((job) => (
          <tr key={job.id}>
            <td>{job.properties.displayName ?? job.name}</td>
            <td>{job.properties.experimentName ?? '—'}</td>
            <td>
              <StatusBadge status={job.properties.status} />
            </td>
            <td>{job.systemData.createdAt.slice(0, 19).replace('T', ' ')}</td>
            <td class="num">{ranFor(job)}</td>
            <td class={job.properties.error ? 'reason' : 'muted'}>{job.properties.error?.message ?? '—'}</td>
            <td class="actions">
              {plane && (
                <button class="secondary" aria-pressed={log === job.name} onClick={() => setLog(job.name)}>
                  Log
                </button>
              )}
              {mayCancelJobs(role) && UNFINISHED.has(job.properties.status) && job.properties.status !== 'CancelRequested' && <CancelJob job={job} onDone={reread} />}
            </td>
          </tr>
        ))}
      </StackTable>
      {plane && log && <JobLog key={log} job={log} plane={plane} container={artifacts!} onClose={() => setLog(undefined)} />}
      {jobs.length > SHOWN && (
        <p class="muted">
          {jobs.length - SHOWN} older: mlspace ml job list -w {workspace.name} -g {groupOf(workspace.id)}
        </p>
      )}
    </section>
  );
}
