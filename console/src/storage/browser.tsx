import { useEffect, useMemo, useState } from 'preact/hooks';
import { type Session } from '../api';
import { Confirm } from '../confirm';
import { mayBrowseStorage } from '../roles';
import { DataPlane, type Service } from './data-plane';
import { ItemPanel, SasForm } from './item-panel';
import { blobStore, fileStore, type Entry, type Page, type Root, type Store } from './stores';
import { Uploads } from './uploads';

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const size = (bytes?: number) =>
  bytes === undefined ? '' : bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KiB` : bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
const when = (http?: string) => (http ? new Date(http).toISOString().slice(0, 16).replace('T', ' ') : '');

/** A listing read a page at a time: "Load more" asks for the next, and nothing loads everything at once. */
function usePages<T>(read: (marker?: string) => Promise<Page<T>>, deps: unknown[]) {
  const [items, setItems] = useState<T[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = (marker?: string) =>
    read(marker).then(
      (page) => {
        setItems((before) => (marker ? [...(before ?? []), ...page.items] : page.items));
        setNext(page.next);
        setError(undefined);
      },
      (failure) => setError(errorText(failure)),
    );
  useEffect(() => {
    setItems(undefined);
    load();
  }, deps);
  return { items, next, error, reload: () => load(), more: () => load(next) };
}

function LoadMore({ next, onMore }: { next?: string; onMore: () => void }) {
  return next ? (
    <p>
      <button class="secondary" onClick={onMore}>
        Load more
      </button>
    </p>
  ) : null;
}

/** A one-field form: the name of a new container, share or directory. */
function NameForm({ label, onSubmit }: { label: string; onSubmit: (name: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(name.trim()).then(
          () => {
            setName('');
            setError(undefined);
          },
          (failure) => setError(errorText(failure)),
        );
      }}
    >
      <label>
        {label} <input value={name} required onInput={(event) => setName(event.currentTarget.value)} />
      </label>{' '}
      <button class="secondary" type="submit">
        Create
      </button>
      {error && (
        <span class="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </form>
  );
}

/** A delete's confirmation, in a table row of its own right below the row it deletes. */
function ConfirmRow(props: { columns: number; label: string; message: string; confirm: string; run: () => Promise<unknown>; onClose: (done: boolean) => void }) {
  return (
    <tr>
      <td colSpan={props.columns}>
        <Confirm label={props.label} message={props.message} confirm={props.confirm} danger run={props.run} onCancel={() => props.onClose(false)} onDone={() => props.onClose(true)} />
      </td>
    </tr>
  );
}

/** Every container (or share) of the account, a page at a time, with create and delete. */
function RootList({ store, onOpen }: { store: Store; onOpen: (root: string) => void }) {
  const pages = usePages<Root>((marker) => store.listRoots(marker), [store]);
  const [deleting, setDeleting] = useState<string | undefined>();
  return (
    <>
      <NameForm label={`New ${store.rootNoun}`} onSubmit={(name) => store.createRoot(name).then(pages.reload)} />
      {pages.error && <p class="error" role="alert">{pages.error}</p>}
      {pages.items?.length === 0 && <p class="muted">No {store.rootNoun}s yet.</p>}
      {pages.items && pages.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Last modified (UTC)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {pages.items.map((root) => [
              <tr key={root.name}>
                <td>
                  <button class="link" onClick={() => onOpen(root.name)}>
                    {root.name}
                  </button>
                </td>
                <td>{when(root.modified)}</td>
                <td class="actions">
                  <button class="secondary" aria-label={`Delete ${store.rootNoun} ${root.name}`} onClick={() => setDeleting(root.name)}>
                    Delete…
                  </button>
                </td>
              </tr>,
              deleting === root.name && (
                <ConfirmRow
                  key={`${root.name} delete`}
                  columns={3}
                  label={`Delete ${store.rootNoun} ${deleting}`}
                  message={`Deleting ${store.rootNoun} ${deleting} deletes everything in it.`}
                  confirm={`Delete ${deleting}`}
                  run={() => store.deleteRoot(deleting)}
                  onClose={(done) => {
                    setDeleting(undefined);
                    if (done) pages.reload();
                  }}
                />
              ),
            ])}
          </tbody>
        </table>
      )}
      <LoadMore next={pages.next} onMore={pages.more} />
    </>
  );
}

/** One folder of a container or share: its folders and items, a page at a time, with upload, download, properties and delete. */
function FolderView({ store, plane, root, folder, onFolder }: { store: Store; plane: DataPlane; root: string; folder: string; onFolder: (folder: string) => void }) {
  const pages = usePages<Entry>((marker) => store.list(root, folder, marker), [store, root, folder]);
  const [selected, setSelected] = useState<Entry | undefined>();
  const [deleting, setDeleting] = useState<Entry | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [rootSas, setRootSas] = useState(false);
  useEffect(() => setSelected(undefined), [root, folder]);
  const download = (entry: Entry) =>
    plane
      .serviceSas(store.service, root, entry.path, 'r', new Date(Date.now() + 10 * 60_000), `attachment; filename*=UTF-8''${encodeURIComponent(entry.name)}`)
      .then((url) => location.assign(url), (failure) => setError(errorText(failure)));
  const crumbs = folder.split('/').filter(Boolean);
  return (
    <>
      <nav class="crumbs" aria-label="Folder">
        <button class="link" onClick={() => onFolder('')}>
          {root}
        </button>
        {crumbs.map((name, index) => (
          <span key={index}>
            {' / '}
            <button class="link" onClick={() => onFolder(`${crumbs.slice(0, index + 1).join('/')}/`)}>
              {name}
            </button>
          </span>
        ))}
      </nav>
      <div class="toolbar">
        <Uploads store={store} root={root} folder={folder} onUploaded={pages.reload} />
        {store.realFolders && <NameForm label="New directory" onSubmit={(name) => store.createFolder(root, `${folder}${name}`).then(pages.reload)} />}
        <button class="secondary" aria-expanded={rootSas} onClick={() => setRootSas(!rootSas)}>
          SAS for {store.rootNoun} {root}…
        </button>
      </div>
      {rootSas && <SasForm store={store} plane={plane} root={root} path="" />}
      {(pages.error || error) && (
        <p class="error" role="alert">
          {pages.error ?? error}
        </p>
      )}
      {pages.items?.length === 0 && <p class="muted">This folder is empty.</p>}
      {pages.items && pages.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Size</th>
              <th>Last modified (UTC)</th>
              {store.service === 'blob' && <th>Type</th>}
              <th />
            </tr>
          </thead>
          <tbody>
            {pages.items.map((entry) => [
              <tr key={entry.path} aria-selected={selected?.path === entry.path}>
                <td>
                  <button class="link" onClick={() => (entry.folder ? onFolder(entry.path) : setSelected(entry))}>
                    {entry.folder ? `${entry.name}/` : entry.name}
                  </button>
                </td>
                <td class="num">{size(entry.size)}</td>
                <td>{when(entry.modified)}</td>
                {store.service === 'blob' && <td>{entry.detail}</td>}
                <td class="actions">
                  {!entry.folder && (
                    <button class="secondary" aria-label={`Download ${entry.name}`} onClick={() => download(entry)}>
                      Download
                    </button>
                  )}
                  {(!entry.folder || store.realFolders) && (
                    <button class="secondary" aria-label={`Delete ${entry.name}`} onClick={() => setDeleting(entry)}>
                      Delete…
                    </button>
                  )}
                </td>
              </tr>,
              deleting?.path === entry.path && (
                <ConfirmRow
                  key={`${entry.path} delete`}
                  columns={5}
                  label={`Delete ${deleting.path}`}
                  message={deleting.folder ? `Deleting directory ${deleting.path} works only once it is empty.` : `Deleting ${deleting.path} cannot be undone here${store.service === 'blob' ? ', and deletes its snapshots too' : ''}.`}
                  confirm={`Delete ${deleting.name}`}
                  run={() => store.delete(root, deleting)}
                  onClose={(done) => {
                    setDeleting(undefined);
                    if (!done) return;
                    setSelected(undefined);
                    pages.reload();
                  }}
                />
              ),
            ])}
          </tbody>
        </table>
      )}
      <LoadMore next={pages.next} onMore={pages.more} />
      {selected && <ItemPanel key={selected.path} store={store} plane={plane} root={root} entry={selected} onClose={() => setSelected(undefined)} />}
    </>
  );
}

/** The storage browser of one account: its containers and shares, their folders, and their blobs and files. */
export function StorageBrowserPage({ session, accountId, onBack }: { session: Session; accountId: string; onBack: () => void }) {
  const name = accountId.split('/').pop()!;
  const plane = useMemo(() => new DataPlane(accountId, name, session.dataPlaneHttpsPorts), [accountId]);
  const stores = useMemo(() => ({ blob: blobStore(plane), file: fileStore(plane) }), [plane]);
  const [service, setService] = useState<Service>('blob');
  const [root, setRoot] = useState<string | undefined>();
  const [folder, setFolder] = useState('');
  const store = stores[service];
  const open = (next?: string) => {
    setRoot(next);
    setFolder('');
  };
  return (
    <section>
      <p>
        <button class="link" onClick={onBack}>
          ← {name}
        </button>
      </p>
      <h1>{name}: storage browser</h1>
      {!mayBrowseStorage(session.principal.role) ? (
        <p class="muted">Your role ({session.principal.role}) may not read this account's data: browsing uses an account SAS, which takes key access.</p>
      ) : (
        <>
          <div class="tabs" role="group" aria-label="Service">
            {(['blob', 'file'] as const).map((each) => (
              <button
                key={each}
                class={each === service ? undefined : 'secondary'}
                aria-pressed={each === service}
                onClick={() => {
                  setService(each);
                  open(undefined);
                }}
              >
                {each === 'blob' ? 'Blob containers' : 'File shares'}
              </button>
            ))}
          </div>
          {root === undefined ? (
            <RootList store={store} onOpen={open} />
          ) : (
            <>
              <p>
                <button class="link" onClick={() => open(undefined)}>
                  ← All {store.rootNoun}s
                </button>
              </p>
              <FolderView store={store} plane={plane} root={root} folder={folder} onFolder={setFolder} />
            </>
          )}
        </>
      )}
    </section>
  );
}
