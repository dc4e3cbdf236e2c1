import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AccountsPage } from './accounts';
import { currentSession, signIn, signOut, type Session } from './api';
import { SignInPage } from './sign-in';
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

function App() {
  const [session, setSession] = useState<Session | null | undefined>();
  const [message, setMessage] = useState<string | undefined>();

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
  if (session === null) return <SignInPage onSignedIn={setSession} message={message} />;
  return (
    <>
      <header>
        <span class="brand">mlspace</span>
        <span class="who">
          {session.principal.displayName} <span class="badge">{session.principal.role}</span>
        </span>
        <button class="link" onClick={() => signOut().then(() => setSession(null))}>
          Sign out
        </button>
      </header>
      <main>
        <AccountsPage session={session} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
