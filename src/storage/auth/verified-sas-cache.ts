import { parseSasTime } from './sas-conditions.js';
import type { AccountKeys, AuthOutcome, OperationAccess } from './types.js';

type SasOutcome = Extract<AuthOutcome, { kind: 'sas' }>;

interface Entry {
  access: OperationAccess;
  outcome: SasOutcome;
  start: number;
  expiry: number;
}

/** URLs remembered for one signature: a container SAS read blob by blob, but not an unbounded stream of junk variants. */
const MAX_URLS_PER_SIGNATURE = 1024;
/** Entries remembered for one account, across its signatures. */
const MAX_ENTRIES_PER_ACCOUNT = 10_000;

/** One account's verified URLs, by signature. */
class AccountEntries {
  readonly bySignature = new Map<string, Map<string, Entry>>();
  size = 0;
}

/**
 * SAS URLs already verified, so a client re-reading a blob through the same SAS
 * pays one map lookup instead of rebuilding the string-to-sign and an HMAC. An
 * entry holds only for the same request URL, service, account keys and
 * operation access, and only inside the token's time window. Tokens bound to a
 * caller IP (sip) or to a stored access policy (si), which can change without
 * the URL changing, are never cached.
 *
 * Entries hang off the key ring's record of the account, so a regenerated key
 * (a new record) drops every entry of the account at once, and they are grouped
 * by signature. Anyone holding one SAS can spell endless URLs that it authorizes
 * (extra query parameters cost nothing), but those only ever displace entries of
 * the same signature; filling an account needs new signatures, that is its key,
 * and still leaves every other account's entries alone.
 */
export class VerifiedSasCache {
  private readonly accounts = new WeakMap<AccountKeys, AccountEntries>();

  get(signature: string, url: string, keys: AccountKeys, access: OperationAccess): SasOutcome | undefined {
    const entry = this.accounts.get(keys)?.bySignature.get(signature)?.get(url);
    if (entry === undefined || entry.access !== access) return undefined;
    const now = Date.now();
    // Outside its window the full check runs again and explains the refusal.
    return now >= entry.start && now < entry.expiry ? entry.outcome : undefined;
  }

  remember(signature: string, url: string, keys: AccountKeys, access: OperationAccess, query: URLSearchParams, outcome: SasOutcome): void {
    if (query.has('sip') || query.has('si')) return;
    const st = query.get('st');
    const entry = { access, outcome, start: st ? parseSasTime(st, 'start (st)') : -Infinity, expiry: parseSasTime(query.get('se')!, 'expiry (se)') };
    let account = this.accounts.get(keys);
    if (account === undefined) this.accounts.set(keys, (account = new AccountEntries()));
    if (account.size >= MAX_ENTRIES_PER_ACCOUNT) {
      account.bySignature.clear();
      account.size = 0;
    }
    let urls = account.bySignature.get(signature);
    if (urls === undefined) account.bySignature.set(signature, (urls = new Map()));
    if (urls.size >= MAX_URLS_PER_SIGNATURE) {
      account.size -= urls.size;
      urls.clear();
    }
    if (!urls.has(url)) account.size++;
    urls.set(url, entry);
  }
}
