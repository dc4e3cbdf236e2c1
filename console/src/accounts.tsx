import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, STORAGE_API, type Session } from './api';
import { StackTable } from './stack-table';

const DAY_MS = 24 * 60 * 60 * 1000;

interface Account {
  id: string;
  name: string;
  properties: { allowSharedKeyAccess?: boolean };
}

interface KeyAge {
  ageInDays: number;
  expiresOn?: string;
  expired?: boolean;
}

interface Consumers {
  keyAges: { key1: KeyAge; key2: KeyAge };
  keyPolicy?: { keyExpirationPeriodInDays: number };
  counts: { consumers: number; key1: number; key2: number; stale: number };
}

interface Row {
  account: Account;
  /** Undefined while loading; an error when the role may not list consumers. */
  consumers?: Consumers | ApiError;
}

/** The resource group an ARM id names. */
export const groupOf = (id: string) => /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? '';

/** An account's page in the console: /console/accounts/{resource group}/{name}. */
export const accountPath = (id: string) => `/console/accounts/${encodeURIComponent(groupOf(id))}/${encodeURIComponent(id.split('/').pop()!)}`;

/** A key's age, with a badge when its policy says it has expired or expires within 7 days. */
function KeyAgeCell({ age }: { age: KeyAge }) {
  const left = age.expiresOn ? new Date(age.expiresOn).getTime() - Date.now() : undefined;
  const badge = age.expired ? <span class="badge bad">expired</span> : left !== undefined && left <= 7 * DAY_MS ? <span class="badge warn">due in {Math.max(0, Math.ceil(left / DAY_MS))} d</span> : null;
  return (
    <td class="num">
      {age.ageInDays < 1 ? '< 1 d' : `${Math.floor(age.ageInDays)} d`} {badge}
    </td>
  );
}

function ConsumerCells({ consumers }: { consumers: Row['consumers'] }) {
  if (consumers === undefined) return <td colSpan={5} class="muted">loading…</td>;
  if (consumers instanceof ApiError) return <td colSpan={5} class="muted" title={consumers.message}>consumers not visible to your role</td>;
  const { counts, keyAges } = consumers;
  return (
    <>
      <KeyAgeCell age={keyAges.key1} />
      <KeyAgeCell age={keyAges.key2} />
      <td class="num">{counts.consumers}</td>
      <td class="num">
        {counts.key1} / {counts.key2}
      </td>
      <td class="num">{counts.stale > 0 ? <span class="badge bad">{counts.stale} stale</span> : '0'}</td>
    </>
  );
}

const ACCOUNT_HEADINGS = [
  { label: 'Account' },
  { label: 'Resource group' },
  { label: 'Shared Key' },
  { label: 'key1 age', num: true },
  { label: 'key2 age', num: true },
  { label: 'Consumers', num: true },
  { label: 'on key1 / key2', num: true },
  { label: 'Stale', num: true },
];

/** Every storage account: its keys' ages against its key policy, and who holds which key. */
export function AccountsPage({ session, onOpen }: { session: Session; onOpen: (account: { id: string; name: string }) => void }) {
  const [rows, setRows] = useState<Row[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    (async () => {
      const list = await api<{ value: Account[] }>('GET', `/subscriptions/${session.subscriptionId}/providers/Microsoft.Storage/storageAccounts?${STORAGE_API}`);
      const accounts = list.value.sort((a, b) => a.name.localeCompare(b.name));
      if (!live) return;
      setRows(accounts.map((account) => ({ account })));
      // listConsumers is a POST that only reads; each account's answer fills its row as it comes.
      await Promise.all(
        accounts.map(async (account, index) => {
          const consumers = await api<Consumers>('POST', `${account.id}/listConsumers?${STORAGE_API}`).catch((failure: unknown) => failure as ApiError);
          if (live) setRows((current) => current?.map((row, i) => (i === index ? { ...row, consumers } : row)));
        }),
      );
    })().catch((failure: unknown) => live && setError(failure instanceof Error ? failure.message : String(failure)));
    return () => {
      live = false;
    };
  }, [session.subscriptionId]);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!rows) return <p class="muted">Loading storage accounts…</p>;
  return (
    <section>
      <h1>Storage accounts</h1>
      <StackTable headings={ACCOUNT_HEADINGS}>
        {rows.map(({ account, consumers }) => (
          <tr key={account.id}>
            <td>
              <a
                href={accountPath(account.id)}
                onClick={(event) => {
                  event.preventDefault();
                  onOpen(account);
                }}
              >
                {account.name}
              </a>
            </td>
            <td>{groupOf(account.id)}</td>
            <td>{account.properties.allowSharedKeyAccess === false ? <span class="badge">off</span> : 'on'}</td>
            <ConsumerCells consumers={consumers} />
          </tr>
        ))}
      </StackTable>
    </section>
  );
}
