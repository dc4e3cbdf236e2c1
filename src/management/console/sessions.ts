import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A console session lasts a working day; signing in again starts a new one. */
export const SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000;
/** A sign-in code from `mlspace console` is for opening the URL now, once. */
const CODE_LIFETIME_MS = 2 * 60 * 1000;

export interface ConsoleSession {
  clientId: string;
  /** Sent back by the page on every state-changing request (X-CSRF-Token); a cross-site form cannot know it. */
  csrfToken: string;
  expires: number;
}

const secret = () => randomBytes(32).toString('base64url');
/** Secrets are kept by their hash: a lookup then compares hashes, never the secret itself, so its timing says nothing. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * The web console's one-time sign-in codes and its sessions, in this process's
 * memory: a restart signs everyone out, which a bounded session allows. (With
 * several nodes they will have to live in the metadata store.)
 */
export class ConsoleSessions {
  private readonly codes = new Map<string, { clientId: string; expires: number }>();
  private readonly sessions = new Map<string, ConsoleSession>();

  /** A code that signs `clientId` in once, within two minutes. */
  issueCode(clientId: string, now = Date.now()): { code: string; expiresOn: number } {
    this.sweep(now);
    const code = secret();
    this.codes.set(digest(code), { clientId, expires: now + CODE_LIFETIME_MS });
    return { code, expiresOn: now + CODE_LIFETIME_MS };
  }

  /** The client a code signs in, consuming it; undefined for an unknown, used or expired code. */
  redeemCode(code: string, now = Date.now()): string | undefined {
    const key = digest(code);
    const entry = this.codes.get(key);
    this.codes.delete(key);
    return entry && entry.expires > now ? entry.clientId : undefined;
  }

  /** A new session; its id goes only into the HttpOnly cookie. */
  start(clientId: string, now = Date.now()): { id: string; session: ConsoleSession } {
    this.sweep(now);
    const id = secret();
    const session = { clientId, csrfToken: secret(), expires: now + SESSION_LIFETIME_MS };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  find(id: string, now = Date.now()): ConsoleSession | undefined {
    const session = this.sessions.get(digest(id));
    return session && session.expires > now ? session : undefined;
  }

  end(id: string): void {
    this.sessions.delete(digest(id));
  }

  /** Whether a request's X-CSRF-Token is the session's. */
  static csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
    if (given === undefined) return false;
    const [a, b] = [Buffer.from(digest(given)), Buffer.from(digest(session.csrfToken))];
    return timingSafeEqual(a, b);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.codes) if (entry.expires <= now) this.codes.delete(key);
    for (const [key, entry] of this.sessions) if (entry.expires <= now) this.sessions.delete(key);
  }
}
