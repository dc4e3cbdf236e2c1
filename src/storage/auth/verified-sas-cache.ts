import { parseSasTime } from './sas-conditions.js';
import type { AccountKeys, AuthOutcome, OperationAccess } from './types.js';

type SasOutcome = Extract<AuthOutcome, { kind: 'sas' }>;

interface Entry {
  /** The key ring's record the SAS was checked against: a key change replaces it, so the entry stops matching. */
  keys: AccountKeys;
  access: OperationAccess;
  outcome: SasOutcome;
  start: number;
  expiry: number;
}

const MAX_ENTRIES = 10_000;

/**
 * SAS URLs already verified, so a client re-reading a blob through the same SAS
 * pays one map lookup instead of rebuilding the string-to-sign and an HMAC. An
 * entry holds only for the same request URL, service, account keys (a
 * regenerated key makes every entry of the account miss) and operation access,
 * and only inside the token's time window. Tokens bound to a caller IP (sip) or
 * to a stored access policy (si), which can change without the URL changing, are
 * never cached.
 */
export class VerifiedSasCache {
  private readonly entries = new Map<string, Entry>();

  get(key: string, keys: AccountKeys, access: OperationAccess): SasOutcome | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.keys !== keys || entry.access !== access) return undefined;
    const now = Date.now();
    // Outside its window the full check runs again and explains the refusal.
    return now >= entry.start && now < entry.expiry ? entry.outcome : undefined;
  }

  remember(key: string, keys: AccountKeys, access: OperationAccess, query: URLSearchParams, outcome: SasOutcome): void {
    if (query.has('sip') || query.has('si')) return;
    const st = query.get('st');
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, {
      keys,
      access,
      outcome,
      start: st ? parseSasTime(st, 'start (st)') : -Infinity,
      expiry: parseSasTime(query.get('se')!, 'expiry (se)'),
    });
  }
}
