import { useEffect, useState } from 'preact/hooks';
import { api, type Session } from './api';
import { accountPath } from './accounts';
import { StackTable } from './stack-table';

interface Localized {
  value: string;
  localizedValue: string;
}

interface ActivityEvent {
  eventDataId: string;
  eventTimestamp: string;
  operationName: Localized;
  status: Localized;
  resourceGroupName?: string;
  resourceId: string;
  claims: { name?: string };
  caller: string;
}

const SPANS = [
  ['1 hour', 60 * 60 * 1000],
  ['1 day', 24 * 60 * 60 * 1000],
  ['7 days', 7 * 24 * 60 * 60 * 1000],
  ['90 days', 90 * 24 * 60 * 60 * 1000],
] as const;

const STORAGE_ACCOUNT = /\/providers\/Microsoft\.Storage\/storageAccounts\/[^/]+$/i;

/** The activity log: key and credential operations, newest first, a page at a time, filtered as Azure filters it. */
export function ActivityPage({ session, onOpenAccount }: { session: Session; onOpenAccount: (id: string) => void }) {
  const [span, setSpan] = useState<number>(SPANS[1][1]);
  const [group, setGroup] = useState('');
  const [operation, setOperation] = useState('');
  const [events, setEvents] = useState<ActivityEvent[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  const load = async (url: string, append: boolean) => {
    try {
      const page = await api<{ value: ActivityEvent[]; nextLink?: string }>('GET', url);
      setEvents((current) => (append && current ? [...current, ...page.value] : page.value));
      setNext(page.nextLink ? new URL(page.nextLink).pathname + new URL(page.nextLink).search : undefined);
      setError(undefined);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  };

  useEffect(() => {
    const conditions = [`eventTimestamp ge '${new Date(Date.now() - span).toISOString()}'`];
    if (group.trim()) conditions.push(`resourceGroupName eq '${group.trim().replaceAll("'", "''")}'`);
    const filter = encodeURIComponent(conditions.join(' and '));
    setEvents(undefined);
    load(`/subscriptions/${session.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`, false);
  }, [span, group, session.subscriptionId]);

  // The operation filter is the page's own: the service filters by time, group and resource.
  const shown = events?.filter((event) => !operation || event.operationName.value === operation);
  const operations = [...new Set(events?.map((event) => event.operationName.value))].sort();

  return (
    <section>
      <h1>Activity log</h1>
      <div class="filters">
        <label>
          Time
          <select value={String(span)} onChange={(e) => setSpan(Number(e.currentTarget.value))}>
            {SPANS.map(([label, ms]) => (
              <option key={label} value={String(ms)}>
                last {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Resource group
          <input value={group} placeholder="all" onChange={(e) => setGroup(e.currentTarget.value)} />
        </label>
        <label>
          Operation
          <select value={operation} onChange={(e) => setOperation(e.currentTarget.value)}>
            <option value="">all</option>
            {operations.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!shown && !error && <p class="muted">Loading…</p>}
      {shown && (
        <StackTable headings={[{ label: 'Time (UTC)' }, { label: 'Operation' }, { label: 'Status' }, { label: 'Resource' }, { label: 'Caller' }]}>
          {shown.map((event) => (
            <tr key={event.eventDataId}>
              <td>{event.eventTimestamp.slice(0, 19).replace('T', ' ')}</td>
              <td>{event.operationName.localizedValue}</td>
              <td>{event.status.value === 'Failed' ? <span class="badge bad">Failed</span> : event.status.localizedValue}</td>
              <td>
                {STORAGE_ACCOUNT.test(event.resourceId) ? (
                  <a
                    href={accountPath(event.resourceId)}
                    onClick={(e) => {
                      e.preventDefault();
                      onOpenAccount(event.resourceId);
                    }}
                  >
                    {event.resourceId.split('/').pop()}
                  </a>
                ) : (
                  event.resourceId.split('/').slice(-3).join('/')
                )}{' '}
                <span class="muted">{event.resourceGroupName}</span>
              </td>
              <td>{event.claims.name ?? event.caller}</td>
            </tr>
          ))}
        </StackTable>
      )}
      {next && (
        <p>
          <button class="secondary" onClick={() => load(next, true)}>
            Load more
          </button>
        </p>
      )}
    </section>
  );
}
