import fs from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from '../secrets/private-file.js';
import { CliError } from './errors.js';
import { httpsText } from './https-text.js';

/** The scope the CLI's own management requests use (ArmRest); the official clients ask for theirs. */
export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';

/** A token is used until this long before it expires, so a command never starts with one about to lapse. */
const REFRESH_BEFORE_MS = 5 * 60 * 1000;

export interface ClientCredentials {
  authority: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  ca?: Buffer;
}

interface CachedToken {
  token: string;
  expiresOn: number;
}

/**
 * Client-credential tokens for the stored login, cached in the config
 * directory (a file only the user may read, beside the client secret it is
 * obtained with), so most commands make no token request at all. It is also a
 * TokenCredential for the official clients, which then need no @azure/identity.
 */
export class TokenSource {
  private readonly memory = new Map<string, CachedToken>();

  constructor(
    private readonly credentials: ClientCredentials,
    /** Where the cache lives; undefined keeps tokens in memory only. */
    private readonly cacheFile?: string,
  ) {}

  /** A token for the management endpoint (the ArmRest `BearerTokens`). */
  token(): Promise<string> {
    return this.tokenFor(MANAGEMENT_SCOPE).then((cached) => cached.token);
  }

  /** @azure/core-auth's TokenCredential. */
  async getToken(scopes: string | string[]): Promise<{ token: string; expiresOnTimestamp: number }> {
    const cached = await this.tokenFor(Array.isArray(scopes) ? scopes[0]! : scopes);
    return { token: cached.token, expiresOnTimestamp: cached.expiresOn };
  }

  private async tokenFor(scope: string): Promise<CachedToken> {
    const key = `${this.credentials.authority} ${this.credentials.tenantId} ${this.credentials.clientId} ${scope}`;
    const fresh = (entry: CachedToken | undefined) => entry && entry.expiresOn - REFRESH_BEFORE_MS > Date.now();
    let entry = this.memory.get(key);
    if (fresh(entry)) return entry!;
    const stored = this.readCache();
    entry = stored[key];
    if (!fresh(entry)) {
      entry = await requestToken(this.credentials, scope);
      stored[key] = entry;
      if (this.cacheFile) writePrivateFile(this.cacheFile, JSON.stringify(withoutExpired(stored)));
    }
    this.memory.set(key, entry!);
    return entry!;
  }

  private readCache(): Record<string, CachedToken> {
    if (!this.cacheFile) return {};
    try {
      return JSON.parse(fs.readFileSync(this.cacheFile, 'utf8')) as Record<string, CachedToken>;
    } catch {
      // No cache yet, or one cut short: either way, a new token is fetched.
      return {};
    }
  }
}

function withoutExpired(entries: Record<string, CachedToken>): Record<string, CachedToken> {
  return Object.fromEntries(Object.entries(entries).filter(([, entry]) => entry.expiresOn > Date.now()));
}

/** The token cache beside a login's client secret. */
export function tokenCacheFile(configDir: string): string {
  return path.join(configDir, 'token-cache.json');
}

/** The OAuth 2.0 client-credentials grant, as @azure/identity sends it, against the authority's v2.0 token endpoint. */
export async function requestToken(credentials: ClientCredentials, scope: string): Promise<CachedToken> {
  const url = new URL(`/${encodeURIComponent(credentials.tenantId)}/oauth2/v2.0/token`, credentials.authority);
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret, scope }).toString();
  const answer = await httpsText(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...(credentials.ca ? { ca: credentials.ca } : {}) }, form);
  let json: { access_token?: string; expires_in?: number | string; error?: string; error_description?: string } = {};
  try {
    json = JSON.parse(answer.text);
  } catch {
    // Said below, with the status.
  }
  if (answer.status === 200 && json.access_token) return { token: json.access_token, expiresOn: Date.now() + Number(json.expires_in ?? 3600) * 1000 };
  // The token endpoint's own words, without the AADSTS number and trace ids.
  const description = json.error_description?.replace(/^AADSTS\d+: /, '').split(/ Trace ID:| Correlation ID:/)[0];
  const why = json.error ? `(${json.error}) ${description ?? ''}`.trim() : `the token endpoint ${url.origin} answered ${answer.status}.`;
  throw new CliError(`Signing in failed: ${why} Run 'mlspace login' again.`);
}
