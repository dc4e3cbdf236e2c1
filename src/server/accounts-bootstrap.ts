import { randomBytes } from 'node:crypto';
import type { AccountRepo } from '../db/accounts.js';
import type { DeclaredAccount } from './config.js';

export function newAccountKey(): string {
  return randomBytes(64).toString('base64');
}

/**
 * Makes sure the declared accounts exist with the declared keys. A key the
 * declaration leaves out (key2, usually) is generated once and then kept, so
 * restarts do not change it.
 */
export function ensureAccounts(repo: AccountRepo, declared: DeclaredAccount[], now = Date.now()): void {
  for (const account of declared) {
    const existing = repo.get(account.name);
    const key2 = account.key2 ?? existing?.keys[1] ?? newAccountKey();
    if (existing && existing.keys[0] === account.key1 && existing.keys[1] === key2) continue;
    repo.put({
      name: account.name,
      keys: [account.key1, key2],
      keyCreated: [existing?.keys[0] === account.key1 ? existing.keyCreated[0] : now, existing?.keys[1] === key2 ? existing.keyCreated[1] : now],
      allowSharedKeyAccess: existing?.allowSharedKeyAccess ?? true,
      created: existing?.created ?? now,
    });
  }
}
