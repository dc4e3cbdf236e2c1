import type { AccountDeclarationStore } from '../db/account-declarations.js';
import type { AccountStore } from '../db/accounts.js';
import { newAccountKey } from '../keys/account-keys.js';
import type { DeclaredAccount } from './config.js';

/**
 * Makes sure the declared accounts exist. A declaration is applied when the account
 * is new or the declaration changed since the last start; an unchanged declaration
 * leaves the stored keys alone, so a key regenerated through the management plane
 * stays regenerated across restarts. A key the declaration leaves out (key2,
 * usually) is generated once and then kept.
 */
export async function ensureAccounts(repo: AccountStore, declarations: AccountDeclarationStore, declared: DeclaredAccount[], now = Date.now()): Promise<void> {
  for (const account of declared) {
    const declaration = `${account.key1}:${account.key2 ?? ''}`;
    const existing = await repo.get(account.name);
    if (existing && (await declarations.get(account.name)) === declaration) continue;
    const key2 = account.key2 ?? existing?.keys[1] ?? newAccountKey();
    await repo.put({
      name: account.name,
      keys: [account.key1, key2],
      keyCreated: [existing?.keys[0] === account.key1 ? existing.keyCreated[0] : now, existing?.keys[1] === key2 ? existing.keyCreated[1] : now],
      allowSharedKeyAccess: existing?.allowSharedKeyAccess ?? true,
      created: existing?.created ?? now,
    });
    await declarations.set(account.name, declaration);
  }
}
