import type { IncomingMessage } from 'node:http';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { authenticateBearer } from '../identity/authenticate.js';
import { headlineRole, loadPrincipal } from '../identity/principal.js';
import { clientSecretMatches } from '../identity/client-secret.js';
import { ConsoleSessions, SESSION_LIFETIME_MS, type ConsoleSession } from './sessions.js';

/** The session cookie: HttpOnly (no script reads it), Secure, and SameSite=Strict (no other site's request carries it). */
export const SESSION_COOKIE = 'mlspace_console';

/** The console session a request's cookie names, if any and still valid. */
export function sessionOf(sessions: ConsoleSessions, req: IncomingMessage): { id: string; session: ConsoleSession } | undefined {
  const id = cookie(req, SESSION_COOKIE);
  const session = id === undefined ? undefined : sessions.find(id);
  return session && { id: id!, session };
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

const signedOut = () => new ArmError(401, 'NotSignedIn', "The console session is missing or has expired; sign in again (run 'mlspace console' for a sign-in link).");

/** What the page needs to know of its session: who it acts as, where, and the CSRF token it must send back. */
async function sessionAnswer(deps: ManagementDeps, session: ConsoleSession, headers?: Record<string, string>): Promise<ArmResult> {
  const principal = await loadPrincipal(deps.directory, session.clientId);
  if (!principal) throw signedOut();
  return {
    status: 200,
    headers: { 'cache-control': 'no-store', ...headers },
    body: {
      principal: { clientId: principal.clientId, displayName: principal.displayName, role: headlineRole(principal, `/subscriptions/${deps.subscriptionId}`) },
      tenantId: deps.tenantId,
      subscriptionId: deps.subscriptionId,
      csrfToken: session.csrfToken,
      expiresOn: new Date(session.expires).toISOString(),
      dataPlaneHttpsPorts: deps.dataPlaneHttpsPorts,
    },
  };
}

/** POST /console/api/sign-in-codes with a bearer token: a one-time code that signs the caller in to the console. */
async function issueSignInCode(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const principal = await authenticateBearer(ctx.req, deps.tokens, deps.directory, `${deps.armEndpoint}/${deps.tenantId}`);
  const { code, expiresOn } = deps.consoleSessions.issueCode(principal.clientId);
  return { status: 201, headers: { 'cache-control': 'no-store' }, body: { code, expiresOn: new Date(expiresOn).toISOString() } };
}

/** POST /console/api/session: sign in with a one-time code, or with a client id and secret. */
async function signIn(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const body = new Fields(await readJsonObject(ctx.req));
  const code = body.string('code');
  let clientId: string | undefined;
  if (code !== undefined) {
    clientId = deps.consoleSessions.redeemCode(code);
    if (!clientId) throw new ArmError(401, 'InvalidSignInCode', "The sign-in link has been used or has expired (it works once, for two minutes); run 'mlspace console' for a new one.");
  } else {
    clientId = body.requiredString('clientId');
    const secret = body.requiredString('clientSecret');
    const principal = await deps.directory.getPrincipal(clientId);
    // One answer for an unknown client and a wrong secret: the form must not tell which client ids exist.
    if (!principal || !clientSecretMatches(secret, principal.secretHash)) {
      throw new ArmError(401, 'InvalidClientCredentials', 'The client id or secret is wrong; check both (mlspace ad sp create prints them).');
    }
  }
  const { id, session } = deps.consoleSessions.start(clientId);
  deps.logger.info({ clientId }, 'console sign-in');
  const cookieHeader = `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${SESSION_LIFETIME_MS / 1000}`;
  return sessionAnswer(deps, session, { 'set-cookie': cookieHeader });
}

function currentSession(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const found = sessionOf(deps.consoleSessions, ctx.req);
  if (!found) throw signedOut();
  return sessionAnswer(deps, found.session);
}

function signOut(deps: ManagementDeps, ctx: ArmRequest): ArmResult {
  const found = sessionOf(deps.consoleSessions, ctx.req);
  if (found) {
    requireCsrf(found.session, ctx.req);
    deps.consoleSessions.end(found.id);
  }
  return { status: 204, headers: { 'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0` } };
}

/** A state-changing request in a console session must carry the session's CSRF token. */
export function requireCsrf(session: ConsoleSession, req: IncomingMessage): void {
  const given = req.headers['x-csrf-token'];
  if (!ConsoleSessions.csrfMatches(session, typeof given === 'string' ? given : undefined)) {
    throw new ArmError(403, 'CsrfTokenMismatch', "A console request that changes something must send the session's CSRF token in the X-CSRF-Token header.");
  }
}

/** The console's own API; its ARM calls go to the ordinary routes, authenticated by the session cookie. */
export function consoleRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    { method: 'POST', pattern: '/console/api/sign-in-codes', handler: (ctx) => issueSignInCode(deps, ctx) },
    { method: 'POST', pattern: '/console/api/session', handler: (ctx) => signIn(deps, ctx) },
    { method: 'GET', pattern: '/console/api/session', handler: (ctx) => currentSession(deps, ctx) },
    { method: 'DELETE', pattern: '/console/api/session', handler: (ctx) => signOut(deps, ctx) },
  ];
}
