import { useEffect, useState } from 'preact/hooks';
import { api, ML_API, STORAGE_API, type Session } from './api';
import { groupOf } from './accounts';
import { Confirm } from './confirm';
import { WorkspaceJobs } from './jobs';
import { maySyncWorkspaces } from './roles';
import { StackTable } from './stack-table';


interface Workspace {
  id: string;
  name: string;
  properties: { storageAccount?: string };
}

interface Datastore {
  id: string;
  name: string;
  properties: {
    datastoreType: string;
    accountName: string;
    containerName?: string;
    fileShareName?: string;
    credentials: { credentialsType: string };
    isDefault?: boolean;
  };
}

/** Whether each consumer's credential still works, by its ARM id, from its account's listConsumers. */
type KeyMatch = 'key1' | 'key2' | 'stale' | 'unknown' | 'keyless';
type Health = Map<string, KeyMatch>;

function HealthCell({ datastore, health }: { datastore: Datastore; health: Health }) {
  const type = datastore.properties.credentials.credentialsType;
  if (type === 'None') return <td class="muted">keyless: identity access</td>;
  const matches = health.get(datastore.id.toLowerCase());
  if (matches === 'stale') return <td><span class="badge bad">stale — re-register it</span></td>;
  if (matches === 'key1' || matches === 'key2') return <td><span class="badge ok">works</span> holds {matches}</td>;
  return <td class="muted">{matches === 'unknown' ? 'cannot tell' : '—'}</td>;
}

const SYSTEM = new Set(['workspaceblobstore', 'workspacefilestore', 'workspaceartifactstore']);

/** sync-keys, after a confirmation that says what it updates and what it leaves. */
function SyncKeys({ workspace, datastores, onDone }: { workspace: Workspace; datastores: Datastore[]; onDone: () => void }) {
  const [asked, setAsked] = useState(false);
  if (!asked) {
    return (
      <button class="secondary" onClick={() => setAsked(true)}>
        Sync keys…
      </button>
    );
  }
  const own = datastores.filter((datastore) => !SYSTEM.has(datastore.name) && datastore.properties.credentials.credentialsType !== 'None');
  return (
    <Confirm
      label={`Sync keys of ${workspace.name}`}
      message={
        `Re-reads the keys of ${workspace.properties.storageAccount?.split('/').pop()} into ${workspace.name} and its system datastores.` +
        (own.length > 0 ? ` Datastores you registered are not updated: ${own.map((datastore) => datastore.name).join(', ')}; re-register them with the new key.` : '')
      }
      confirm="Sync keys"
      run={() => api('POST', `${workspace.id}/resyncKeys?${ML_API}`)}
      onCancel={() => setAsked(false)}
      onDone={() => {
        setAsked(false);
        onDone();
      }}
    />
  );
}

const DATASTORE_HEADINGS = [
  { label: 'Datastore' },
  { label: 'Type' },
  { label: 'Account' },
  { label: 'Container or share' },
  { label: 'Credential' },
  { label: 'Still works?' },
];

/** Every workspace with its datastores (type, account, container or share, credential, and whether it still works) and its recent jobs. */
export function WorkspacesPage({ session }: { session: Session }) {
  const [workspaces, setWorkspaces] = useState<{ workspace: Workspace; datastores: Datastore[] }[] | undefined>();
  const [health, setHealth] = useState<Health>(new Map());
  const [error, setError] = useState<string | undefined>();
  const [reads, setReads] = useState(0);

  useEffect(() => {
    (async () => {
      const sub = `/subscriptions/${session.subscriptionId}`;
      const { value } = await api<{ value: Workspace[] }>('GET', `${sub}/providers/Microsoft.MachineLearningServices/workspaces?${ML_API}`);
      const found = await Promise.all(
        value
          .sort((a, b) => a.name.localeCompare(b.name))
          .map(async (workspace) => ({ workspace, datastores: (await api<{ value: Datastore[] }>('GET', `${workspace.id}/datastores?${ML_API}`)).value })),
      );
      setWorkspaces(found);
      // Which key each datastore holds is known to its account: one listConsumers per account they use.
      const { value: accounts } = await api<{ value: { id: string; name: string }[] }>('GET', `${sub}/providers/Microsoft.Storage/storageAccounts?${STORAGE_API}`);
      const used = new Set(found.flatMap(({ datastores }) => datastores.map((datastore) => datastore.properties.accountName)));
      const next: Health = new Map();
      await Promise.all(
        accounts
          .filter((account) => used.has(account.name))
          .map(async (account) => {
            const consumers = await api<{ value: { id: string; matches: KeyMatch }[] }>('POST', `${account.id}/listConsumers?${STORAGE_API}`).catch(() => ({ value: [] }));
            for (const consumer of consumers.value) next.set(consumer.id.toLowerCase(), consumer.matches);
          }),
      );
      setHealth(next);
    })().catch((failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)));
  }, [session.subscriptionId, reads]);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!workspaces) return <p class="muted">Loading workspaces…</p>;
  return (
    <section>
      <h1>Workspaces, datastores and jobs</h1>
      {workspaces.length === 0 && <p class="muted">No workspaces yet: mlspace ml workspace create -n NAME -g GROUP.</p>}
      {workspaces.map(({ workspace, datastores }) => (
        <section key={workspace.id} aria-label={workspace.name}>
          <h2>
            {workspace.name} <span class="muted">· {groupOf(workspace.id)} · storage {workspace.properties.storageAccount?.split('/').pop()}</span>
          </h2>
          {maySyncWorkspaces(session.principal.role) && <SyncKeys workspace={workspace} datastores={datastores} onDone={() => setReads((count) => count + 1)} />}
          <StackTable headings={DATASTORE_HEADINGS}>
            {datastores.map((datastore) => (
              <tr key={datastore.id}>
                <td>
                  {datastore.name} {datastore.properties.isDefault && <span class="badge">default</span>}
                </td>
                <td>{datastore.properties.datastoreType}</td>
                <td>{datastore.properties.accountName}</td>
                <td>{datastore.properties.containerName ?? datastore.properties.fileShareName}</td>
                <td>{datastore.properties.credentials.credentialsType}</td>
                <HealthCell datastore={datastore} health={health} />
              </tr>
            ))}
          </StackTable>
          <WorkspaceJobs
            workspace={workspace}
            session={session}
            artifacts={datastores.find((datastore) => datastore.name === 'workspaceartifactstore')?.properties.containerName}
            reads={reads}
          />
        </section>
      ))}
    </section>
  );
}
