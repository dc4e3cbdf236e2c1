import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import { RotatePanel } from './rotate';

const API = 'api-version=2023-01-01';

interface AccountProperties {
  primaryEndpoints?: { blob?: string; file?: string };
  allowSharedKeyAccess?: boolean;
}

interface Consumer {
  id: string;
  kind: 'workspace' | 'datastore';
  resourceGroup: string;
  workspaceName: string;
  datastoreName?: string;
  system?: boolean;
  datastoreType?: string;
  credentialsType: string;
  matches: 'key1' | 'key2' | 'stale' | 'unknown';
  sas?: { expiry: string | null; expired?: boolean };
}

interface Key {
  keyName: string;
  value: string;
}

/** The connection string az prints for a key: explicit endpoints, which work for this server and Azure alike. */
function connectionString(name: string, key: string, endpoints: AccountProperties['primaryEndpoints'] = {}): string {
  const protocol = endpoints.blob ? new URL(endpoints.blob).protocol.replace(':', '') : 'https';
  const parts = [`DefaultEndpointsProtocol=${protocol}`, `AccountName=${name}`, `AccountKey=${key}`];
  if (endpoints.blob) parts.push(`BlobEndpoint=${endpoints.blob}`);
  if (endpoints.file) parts.push(`FileEndpoint=${endpoints.file}`);
  return `${parts.join(';')};`;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button class="secondary" onClick={() => navigator.clipboard.writeText(text).then(() => setCopied(true))}>
      {copied ? 'Copied' : label}
    </button>
  );
}

/** The account's keys, shown only on request: each Show is a listKeys call, which the activity log records. */
function Keys({ accountId, name, endpoints }: { accountId: string; name: string; endpoints: AccountProperties['primaryEndpoints'] }) {
  const [keys, setKeys] = useState<Key[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!keys) {
    return (
      <p>
        <button onClick={() => api<{ keys: Key[] }>('POST', `${accountId}/listKeys?${API}`).then((answer) => setKeys(answer.keys), (failure: ApiError) => setError(failure.message))}>
          Show keys
        </button>{' '}
        <span class="muted">Showing the keys is recorded in the activity log.</span>
      </p>
    );
  }
  return (
    <table>
      <thead>
        <tr>
          <th>Key</th>
          <th>Value</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {keys.map((key) => (
          <tr key={key.keyName}>
            <td>{key.keyName}</td>
            <td>
              <code class="secret">{key.value}</code>
            </td>
            <td class="actions">
              <CopyButton text={key.value} label="Copy key" />
              <CopyButton text={connectionString(name, key.value, endpoints)} label="Copy connection string" />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const where = (consumer: Consumer) => (consumer.kind === 'workspace' ? consumer.workspaceName : `${consumer.workspaceName} / ${consumer.datastoreName}`);

/** One account: its keys behind a Show button, and every consumer of them with the key it holds. */
export function AccountPage({ accountId, onBack }: { accountId: string; onBack: () => void }) {
  const [account, setAccount] = useState<{ name: string; properties: AccountProperties } | undefined>();
  const [consumers, setConsumers] = useState<Consumer[] | ApiError | undefined>();
  const [error, setError] = useState<string | undefined>();

  // Keys shown before a rotation ended are stale: each end hides them again (a new Keys), and rereads the consumers.
  const [rotationsEnded, setRotationsEnded] = useState(0);
  const readConsumers = () =>
    api<{ value: Consumer[] }>('POST', `${accountId}/listConsumers?${API}`).then(
      (answer) => setConsumers(answer.value),
      (failure: ApiError) => setConsumers(failure),
    );
  useEffect(() => {
    api<{ name: string; properties: AccountProperties }>('GET', `${accountId}?${API}`).then(setAccount, (failure: Error) => setError(failure.message));
    readConsumers();
  }, [accountId]);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!account) return <p class="muted">Loading…</p>;
  return (
    <section>
      <p>
        <button class="link" onClick={onBack}>
          ← Storage accounts
        </button>
      </p>
      <h1>{account.name}</h1>
      <h2>Access keys</h2>
      <Keys key={rotationsEnded} accountId={accountId} name={account.name} endpoints={account.properties.primaryEndpoints} />
      <h2>Rotate keys</h2>
      <RotatePanel
        accountId={accountId}
        onFinished={() => {
          setRotationsEnded((count) => count + 1);
          readConsumers();
        }}
      />
      <h2>Consumers</h2>
      {consumers === undefined && <p class="muted">Loading…</p>}
      {consumers instanceof ApiError && <p class="muted">{consumers.message}</p>}
      {Array.isArray(consumers) && consumers.length === 0 && <p class="muted">Nothing registered here holds a key of this account.</p>}
      {Array.isArray(consumers) && consumers.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Consumer</th>
              <th>Kind</th>
              <th>Resource group</th>
              <th>Credential</th>
              <th>Holds</th>
              <th>SAS expiry</th>
            </tr>
          </thead>
          <tbody>
            {consumers.map((consumer) => (
              <tr key={consumer.id}>
                <td>{where(consumer)}</td>
                <td>{consumer.kind === 'workspace' ? 'workspace' : `${consumer.system ? 'system ' : ''}datastore (${consumer.datastoreType})`}</td>
                <td>{consumer.resourceGroup}</td>
                <td>{consumer.credentialsType}</td>
                <td>{consumer.matches === 'stale' ? <span class="badge bad">stale</span> : consumer.matches}</td>
                <td>
                  {consumer.sas?.expiry ? `${consumer.sas.expiry.slice(0, 16).replace('T', ' ')} UTC` : '—'} {consumer.sas?.expired && <span class="badge bad">expired</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
