/** The API versions the console sends, as Azure's own clients do for these providers (mlspace accepts any). */
export const STORAGE_API = 'api-version=2023-01-01';
export const ML_API = 'api-version=2023-04-01';

/** What the server says of the signed-in session (GET /console/api/session). */
export interface Session {
  principal: { clientId: string; displayName: string; role: string };
  tenantId: string;
  subscriptionId: string;
  csrfToken: string;
  expiresOn: string;
  /** The Blob and File services' TLS ports, which the storage browser calls at this page's host name. */
  dataPlaneHttpsPorts: { blob: number; file: number };
}

/** An answer the server refused, with its error code and the message that says what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';

/** Calls the management endpoint with the session cookie (and, for changes, the CSRF token). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await response.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(response.status, error.code ?? String(response.status), error.message ?? `The server answered ${response.status}.`);
  }
  return json as T;
}

export async function signIn(credentials: { code: string } | { clientId: string; clientSecret: string }): Promise<Session> {
  return remember(await api<Session>('POST', '/console/api/session', credentials));
}

export async function currentSession(): Promise<Session | undefined> {
  try {
    return remember(await api<Session>('GET', '/console/api/session'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return undefined;
    throw error;
  }
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/console/api/session');
  csrfToken = '';
}

function remember(session: Session): Session {
  csrfToken = session.csrfToken;
  return session;
}
