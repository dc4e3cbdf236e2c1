import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, STORAGE_API } from './api';

/** How often a running rotation (this tab's, or one started by the CLI or another tab) is read again. */
const POLL_MS = 1000;

interface Plan {
  retiredKey: string;
  keptKey: string;
  counts: { consumers: number; moveKey: number; reissueSas: number; keep: number; stale: number; blocked: number };
  attention: { id: string; action: string; reason?: string }[];
}

interface Rotation {
  name: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: { code?: string; message?: string };
  properties: {
    plan: { retiredKey: string; keptKey: string };
    step: string;
    caller: { displayName: string };
    counts: { moved: number; verified: number; failed: number; restored: number };
  };
}

const short = (id: string) => id.split('/').slice(-3).join('/');

function PlanView({ plan }: { plan: Plan }) {
  const { counts } = plan;
  return (
    <div class="plan">
      <p>
        Retires <strong>{plan.retiredKey}</strong> and keeps <strong>{plan.keptKey}</strong>: {counts.moveKey} of {counts.consumers} consumers move to {plan.keptKey}
        {counts.reissueSas > 0 && `, ${counts.reissueSas} SAS tokens are reissued`}, {counts.keep} already hold it.
      </p>
      {plan.attention.length > 0 && (
        <ul>
          {plan.attention.map((entry) => (
            <li key={entry.id}>
              <span class={`badge ${entry.action === 'blocked' ? 'bad' : 'warn'}`}>{entry.action}</span> {short(entry.id)}
              {entry.reason && <span class="muted"> — {entry.reason}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function RotationView({ rotation }: { rotation: Rotation }) {
  const { counts, plan, step, caller } = rotation.properties;
  const badge = rotation.status === 'Succeeded' ? 'ok' : rotation.status === 'Failed' ? 'bad' : 'warn';
  return (
    <div class="rotation">
      {/* The status region: its text ends in the rotation's state, so a screen reader (and a test) hears how it ended. */}
      <p role="status">
        Rotation of {plan.retiredKey} (keeping {plan.keptKey}), started by {caller.displayName} at {rotation.startTime.slice(11, 19)} UTC
        {rotation.status === 'InProgress' && (
          <>
            , step <strong>{step}</strong>
          </>
        )}
        : <span class={`badge ${badge}`}>{rotation.status}</span>
      </p>
      <p>
        Consumers moved: <strong>{counts.moved}</strong>, verified: <strong>{counts.verified}</strong>
        {counts.failed > 0 && <>, failed: <strong>{counts.failed}</strong></>}
        {counts.restored > 0 && <>, restored: <strong>{counts.restored}</strong></>}
      </p>
      {rotation.error?.message && (
        <p class="error" role="alert">
          {rotation.error.message}
        </p>
      )}
    </div>
  );
}

/**
 * Rotate: first the dry-run plan, then a confirmation, then live progress read
 * from the rotation's status resource. The newest rotation of the account is
 * shown whoever started it, so one started from the CLI appears here too.
 */
export function RotatePanel({ accountId, onFinished }: { accountId: string; onFinished: () => void }) {
  const [plan, setPlan] = useState<Plan | undefined>();
  const [rotation, setRotation] = useState<Rotation | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    // The newest rotation and its status as last read: a change to an ended one means consumers moved.
    let lastSeen: string | undefined;
    const read = async () => {
      try {
        const { value } = await api<{ value: Rotation[] }>('GET', `${accountId}/rotations?${STORAGE_API}`);
        const newest = value.sort((a, b) => b.startTime.localeCompare(a.startTime))[0];
        if (!live) return;
        setRotation(newest);
        const seen = newest ? `${newest.name} ${newest.status}` : '';
        if (lastSeen !== undefined && seen !== lastSeen && newest?.status !== 'InProgress') onFinished();
        lastSeen = seen;
      } catch (failure) {
        // A role that may not see rotations sees no panel content; the plan button says why when pressed.
        if (!(failure instanceof ApiError && failure.status === 403)) throw failure;
      }
    };
    read();
    const timer = setInterval(read, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [accountId]);

  const run = (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    work()
      .catch((failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)))
      .finally(() => setBusy(false));
  };
  const running = rotation?.status === 'InProgress';

  return (
    <div>
      {rotation && <RotationView rotation={rotation} />}
      {!running && !plan && (
        <button disabled={busy} onClick={() => run(async () => setPlan(await api<Plan>('POST', `${accountId}/rotateKeys?${STORAGE_API}`, { dryRun: true })))}>
          Rotate keys
        </button>
      )}
      {!running && plan && (
        <>
          <PlanView plan={plan} />
          <button
            disabled={busy || plan.counts.blocked > 0}
            onClick={() =>
              run(async () => {
                setRotation(await api<Rotation>('POST', `${accountId}/rotateKeys?${STORAGE_API}`, { keyName: plan.retiredKey }));
                setPlan(undefined);
              })
            }
          >
            Confirm rotation
          </button>{' '}
          <button class="secondary" disabled={busy} onClick={() => setPlan(undefined)}>
            Cancel
          </button>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
