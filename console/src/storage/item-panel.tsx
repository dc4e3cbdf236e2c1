import { useEffect, useState } from 'preact/hooks';
import type { DataPlane } from './data-plane';
import type { Entry, Properties, Store } from './stores';

const LETTERS: Record<string, string> = { r: 'Read', a: 'Add', c: 'Create', w: 'Write', d: 'Delete', l: 'List' };
const DAY_MS = 24 * 60 * 60 * 1000;
/** `<input type=datetime-local>` speaks local time without a zone. */
const localInput = (time: Date) => new Date(time.getTime() - time.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/** Generate a service SAS for a blob, file, container or share, with the permissions and expiry chosen. */
export function SasForm({ store, plane, root, path }: { store: Store; plane: DataPlane; root: string; path: string }) {
  const offered = path ? store.sasPermissions.item : store.sasPermissions.root;
  const [permissions, setPermissions] = useState('r');
  const [expiry, setExpiry] = useState(localInput(new Date(Date.now() + DAY_MS)));
  const [url, setUrl] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const toggle = (letter: string) => setPermissions((now) => [...offered].filter((each) => (each === letter ? !now.includes(each) : now.includes(each))).join(''));
  return (
    <form
      class="sas"
      onSubmit={(event) => {
        event.preventDefault();
        plane.serviceSas(store.service, root, path, permissions, new Date(expiry)).then(
          (answer) => {
            setUrl(answer);
            setError(undefined);
          },
          (failure: Error) => setError(failure.message),
        );
      }}
    >
      <fieldset>
        <legend>Permissions</legend>
        {[...offered].map((letter) => (
          <label key={letter}>
            <input type="checkbox" checked={permissions.includes(letter)} onChange={() => toggle(letter)} /> {LETTERS[letter]}
          </label>
        ))}
      </fieldset>
      <label>
        Expiry (local time) <input type="datetime-local" value={expiry} required onInput={(event) => setExpiry(event.currentTarget.value)} />
      </label>{' '}
      <button type="submit" disabled={!permissions}>
        Generate SAS
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {url && (
        <p>
          <label>
            SAS URL <input class="sas-url" readonly value={url} onFocus={(event) => event.currentTarget.select()} />
          </label>{' '}
          <button type="button" class="secondary" onClick={() => navigator.clipboard.writeText(url)}>
            Copy URL
          </button>
        </p>
      )}
    </form>
  );
}

/** Metadata as name/value rows that can be edited, added and removed, then saved in one Set Metadata. */
function MetadataEditor({ initial, onSave }: { initial: [string, string][]; onSave: (metadata: [string, string][]) => Promise<void> }) {
  const [rows, setRows] = useState(initial);
  const [state, setState] = useState<string | undefined>();
  const edit = (index: number, column: 0 | 1, value: string) => setRows((all) => all.map((row, at) => (at === index ? ((column === 0 ? [value, row[1]] : [row[0], value]) as [string, string]) : row)));
  return (
    <form
      class="metadata"
      onSubmit={(event) => {
        event.preventDefault();
        onSave(rows.filter(([name]) => name.trim())).then(
          () => setState('Saved'),
          (failure: Error) => setState(failure.message),
        );
      }}
    >
      {rows.map(([name, value], index) => (
        <div key={index}>
          <input aria-label="Metadata name" value={name} onInput={(event) => edit(index, 0, event.currentTarget.value)} />{' '}
          <input aria-label="Metadata value" value={value} onInput={(event) => edit(index, 1, event.currentTarget.value)} />{' '}
          <button type="button" class="secondary" aria-label={`Remove ${name || 'row'}`} onClick={() => setRows((all) => all.filter((_, at) => at !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="secondary" onClick={() => setRows((all) => [...all, ['', '']])}>
        Add metadata
      </button>{' '}
      <button type="submit">Save metadata</button> {state && <span role="status">{state}</span>}
    </form>
  );
}

/** A blob's or file's properties and metadata, and a SAS for it. */
export function ItemPanel({ store, plane, root, entry, onClose }: { store: Store; plane: DataPlane; root: string; entry: Entry; onClose: () => void }) {
  const [properties, setProperties] = useState<Properties | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    store.properties(root, entry.path).then(setProperties, (failure: Error) => setError(failure.message));
  }, [entry.path]);
  return (
    <aside class="panel" aria-label={`Properties of ${entry.name}`}>
      <h2>
        {entry.name}{' '}
        <button class="link" onClick={onClose}>
          Close
        </button>
      </h2>
      {error && <p class="error" role="alert">{error}</p>}
      {properties && (
        <>
          <table class="properties">
            <tbody>
              {properties.system.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td>{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Metadata</h3>
          <MetadataEditor initial={properties.metadata} onSave={(metadata) => store.setMetadata(root, entry.path, metadata)} />
        </>
      )}
      <h3>Shared access signature</h3>
      <SasForm store={store} plane={plane} root={root} path={entry.path} />
    </aside>
  );
}
