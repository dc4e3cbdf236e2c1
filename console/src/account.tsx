import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, STORAGE_API, type Session } from './api';
import { Confirm } from './confirm';
import { mayBrowseStorage, mayReadKeys, mayRotate } from './roles';
import { RotatePanel } from './rotate';
import { StackTable } from './stack-table';


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
  matches: 'key1' | 'key2' | 'stale' | 'unknown' | 'keyless';
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
        <button onClick={() => api<{ keys: Key[] }>('POST', `${accountId}/listKeys?${STORAGE_API}`).then((answer) => setKeys(answer.keys), (failure: ApiError) => setError(failure.message))}>
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

/** Regenerate one key, after a confirmation that names every consumer it will break. */
function RegenerateKey({ accountId, consumers, onDone }: { accountId: string; consumers: Consumer[] | undefined; onDone: () => void }) {
  const [asked, setAsked] = useState<'key1' | 'key2' | undefined>();
  if (!asked) {
    return (
      <p>
        {(['key1', 'key2'] as const).map((keyName) => (
          <button key={keyName} class="secondary" onClick={() => setAsked(keyName)}>
            Regenerate {keyName}…
          </button>
        ))}
      </p>
    );
  }
  const breaking = (consumers ?? []).filter((consumer) => consumer.matches === asked);
  return (
    <Confirm
      label={`Regenerate ${asked}`}
      message={
        breaking.length === 0
          ? `Nothing registered here holds ${asked}; regenerating it breaks only clients outside mlspace that use it.`
          : `Regenerating ${asked} breaks ${breaking.length} consumer(s) at once, until they are given the new key: ${breaking.map(where).join(', ')}. A rotation moves them first.`
      }
      confirm={`Regenerate ${asked}`}
      danger
      run={() => api('POST', `${accountId}/regenerateKey?${STORAGE_API}`, { keyName: asked })}
      onCancel={() => setAsked(undefined)}
      onDone={() => {
        setAsked(undefined);
        onDone();
      }}
    />
  );
}

/**
 * Shared Key on or off (the account's allowSharedKeyAccess), after a confirmation:
 * turning it off breaks every consumer that holds a key or a key-signed SAS.
 */
function SharedKeySwitch({ accountId, allowed, consumers, onDone }: { accountId: string; allowed: boolean; consumers: Consumer[] | undefined; onDone: () => void }) {
  const [asked, setAsked] = useState(false);
  const keyHolders = (consumers ?? []).filter((consumer) => consumer.credentialsType === 'AccountKey' || consumer.credentialsType === 'Sas');
  return (
    <>
      <p>
        Shared Key access: <span class={`badge ${allowed ? '' : 'warn'}`}>{allowed ? 'on' : 'off'}</span>{' '}
        {!asked && (
          <button class="secondary" onClick={() => setAsked(true)}>
            Turn Shared Key {allowed ? 'off' : 'on'}…
          </button>
        )}
      </p>
      {asked && (
        <Confirm
          label={`Turn Shared Key ${allowed ? 'off' : 'on'}`}
          message={
            allowed
              ? `With Shared Key off, the Blob and File services refuse every key and every key-signed SAS${
                  keyHolders.length ? `: ${keyHolders.length} consumer(s) stop working (${keyHolders.map(where).join(', ')})` : ''
                }. Azure AD tokens keep working.`
              : 'With Shared Key on, the account keys and SAS signed with them work again.'
          }
          confirm={`Turn Shared Key ${allowed ? 'off' : 'on'}`}
          danger={allowed}
          // The dialog named the consumers that break: confirming it is the force=true the server asks for when there are some.
          run={() => api('PATCH', `${accountId}?${STORAGE_API}${allowed ? '&force=true' : ''}`, { properties: { allowSharedKeyAccess: !allowed } })}
          onCancel={() => setAsked(false)}
          onDone={() => {
            setAsked(false);
            onDone();
          }}
        />
      )}
    </>
  );
}

const where = (consumer: Consumer) => (consumer.kind === 'workspace' ? consumer.workspaceName : `${consumer.workspaceName} / ${consumer.datastoreName}`);

/** One account: its keys behind a Show button, and every consumer of them with the key it holds. */
export function AccountPage({ session, accountId, onBack, onBrowse }: { session: Session; accountId: string; onBack: () => void; onBrowse: () => void }) {
  const [account, setAccount] = useState<{ name: string; properties: AccountProperties } | undefined>();
  const [consumers, setConsumers] = useState<Consumer[] | ApiError | undefined>();
  const [error, setError] = useState<string | undefined>();

  const role = session.principal.role;
  // Keys shown before a rotation or regeneration are stale: each hides them again (a new Keys), and rereads the consumers.
  const [keysChanged, setKeysChanged] = useState(0);
  const readConsumers = () =>
    api<{ value: Consumer[] }>('POST', `${accountId}/listConsumers?${STORAGE_API}`).then(
      (answer) => setConsumers(answer.value),
      (failure: ApiError) => setConsumers(failure),
    );
  const keysMoved = () => {
    setKeysChanged((count) => count + 1);
    readConsumers();
  };
  const readAccount = () => api<{ name: string; properties: AccountProperties }>('GET', `${accountId}?${STORAGE_API}`).then(setAccount, (failure: Error) => setError(failure.message));
  useEffect(() => {
    readAccount();
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
      {mayBrowseStorage(role) && (
        <p>
          <button class="secondary" onClick={onBrowse}>
            Browse storage
          </button>
        </p>
      )}
      <h2>Access keys</h2>
      {mayReadKeys(role) ? (
        <>
          <Keys key={keysChanged} accountId={accountId} name={account.name} endpoints={account.properties.primaryEndpoints} />
          <RegenerateKey accountId={accountId} consumers={Array.isArray(consumers) ? consumers : undefined} onDone={keysMoved} />
        </>
      ) : (
        <p class="muted">Your role ({role}) may not see this account's keys.</p>
      )}
      {mayRotate(role) ? (
        <SharedKeySwitch accountId={accountId} allowed={account.properties.allowSharedKeyAccess !== false} consumers={Array.isArray(consumers) ? consumers : undefined} onDone={readAccount} />
      ) : (
        <p>Shared Key access: {account.properties.allowSharedKeyAccess === false ? 'off' : 'on'}</p>
      )}
      {mayRotate(role) && (
        <>
          <h2>Rotate keys</h2>
          <RotatePanel accountId={accountId} onFinished={keysMoved} />
        </>
      )}
      <h2>Consumers</h2>
      {consumers === undefined && <p class="muted">Loading…</p>}
      {consumers instanceof ApiError && <p class="muted">{consumers.message}</p>}
      {Array.isArray(consumers) && consumers.length === 0 && <p class="muted">Nothing registered here holds a key of this account.</p>}
      {Array.isArray(consumers) && consumers.length > 0 && (
        <StackTable headings={[{ label: 'Consumer' }, { label: 'Kind' }, { label: 'Resource group' }, { label: 'Credential' }, { label: 'Holds' }, { label: 'SAS expiry' }]}>
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
        </StackTable>
      )}
    </section>
  );
}
