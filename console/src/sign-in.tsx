import { useState } from 'preact/hooks';
import { signIn, type Session } from './api';

/** Sign in with a client id and secret; `mlspace console` prints a link that signs in without them. */
export function SignInPage({ onSignedIn, message }: { onSignedIn: (session: Session) => void; message?: string }) {
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [error, setError] = useState(message);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    try {
      onSignedIn(await signIn({ clientId: clientId.trim(), clientSecret }));
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="sign-in" onSubmit={submit}>
      <h1>Sign in to mlspace</h1>
      <p class="muted">
        Run <code>mlspace console</code> for a sign-in link, or sign in as a service principal.
      </p>
      <label>
        Client id
        <input name="clientId" value={clientId} onInput={(e) => setClientId(e.currentTarget.value)} autoComplete="username" required />
      </label>
      <label>
        Client secret
        <input name="clientSecret" type="password" value={clientSecret} onInput={(e) => setClientSecret(e.currentTarget.value)} autoComplete="current-password" required />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}
