import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AccountPage } from './account';
import { AccountsPage, accountPath } from './accounts';
import { currentSession, signIn, signOut, type Session } from './api';
import { SignInPage } from './sign-in';
import { WorkspacesPage } from './workspaces';
import { ActivityPage } from './activity';
import { StorageBrowserPage } from './storage/browser';
import './styles.css';

/** A sign-in link carries its one-time code in the fragment, which never reaches a server log. */
async function start(): Promise<Session | undefined> {
  const code = new URLSearchParams(location.hash.slice(1)).get('code');
  if (code) {
    history.replaceState(null, '', location.pathname);
    return signIn({ code });
  }
  return currentSession();
}

/** The account a page path names (/console/accounts/{group}/{name}[/storage]), as its ARM id, and whether it is the storage browser. */
function accountAt(pathname: string, subscriptionId: string): { id: string; storage: boolean } | undefined {
  const match = /^\/console\/accounts\/([^/]+)\/([^/]+)(\/storage)?$/.exec(pathname);
  if (!match) return undefined;
  return { id: `/subscriptions/${subscriptionId}/resourceGroups/${decodeURIComponent(match[1]!)}/providers/Microsoft.Storage/storageAccounts/${decodeURIComponent(match[2]!)}`, storage: match[3] !== undefined };
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [pathname, setPathname] = useState(location.pathname);
  const go = (path: string) => {
    history.pushState(null, '', path);
    setPathname(path);
  };
  useEffect(() => {
    const back = () => setPathname(location.pathname);
    addEventListener('popstate', back);
    return () => removeEventListener('popstate', back);
  }, []);

  useEffect(() => {
    start().then(
      (found) => setSession(found ?? null),
      (error: unknown) => {
        setMessage(error instanceof Error ? error.message : String(error));
        setSession(null);
      },
    );
  }, []);

  if (session === undefined) return <p class="muted">Loading…</p>;
  const account = session && accountAt(pathname, session.subscriptionId);
  if (session === null) return <SignInPage onSignedIn={setSession} message={message} />;
  return (
    <>
      <header>
        <span class="brand">mlspace</span>
        <nav>
          {[
            ['/console/', 'Storage accounts'],
            ['/console/workspaces', 'Workspaces'],
            ['/console/activity', 'Activity log'],
          ].map(([path, label]) => (
            <a
              key={path}
              href={path}
              aria-current={pathname === path || (path === '/console/' && pathname.startsWith('/console/accounts/')) ? 'page' : undefined}
              onClick={(event) => {
                event.preventDefault();
                go(path!);
              }}
            >
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.principal.displayName} <span class="badge">{session.principal.role}</span>
        </span>
        <button class="link" onClick={() => signOut().then(() => setSession(null))}>
          Sign out
        </button>
      </header>
      <main>
        {pathname === '/console/activity' ? (
          <ActivityPage session={session} onOpenAccount={(id) => go(accountPath(id))} />
        ) : pathname === '/console/workspaces' ? (
          <WorkspacesPage session={session} />
        ) : account?.storage ? (
          <StorageBrowserPage key={account.id} session={session} accountId={account.id} onBack={() => go(accountPath(account.id))} />
        ) : account ? (
          <AccountPage session={session} accountId={account.id} onBack={() => go('/console/')} onBrowse={() => go(`${accountPath(account.id)}/storage`)} />
        ) : (
          <AccountsPage session={session} onOpen={(account) => go(accountPath(account.id))} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
