import { randomBytes } from 'node:crypto';
import type { AccountStore } from '../db/accounts.js';
import type { StorageAccountRecord } from '../db/records.js';
import type { Logger } from '../server/log.js';
import type { KeyRing } from '../storage/auth/keyring.js';

/** A new storage account key: 64 random bytes, base64, as Azure's are. */
export function newAccountKey(): string {
  return randomBytes(64).toString('base64');
}

/** What a key change touches: the stored keys, and the ring the data plane checks requests against. */
export interface KeyStores {
  accounts: AccountStore;
  keyring: KeyRing;
  logger: Logger;
}

/**
 * Replaces one key with a new random one, for regenerateKey and a rotation's
 * regenerate step alike. The key ring is reloaded, on every node of the
 * deployment, before this returns, so the old value (and every SAS signed with
 * it) fails from the very next data-plane request on. Undefined when the
 * account is gone.
 */
export async function regenerateAccountKey(stores: KeyStores, account: StorageAccountRecord, index: 0 | 1): Promise<StorageAccountRecord | undefined> {
  const updated = await stores.accounts.setKey(account.name, index, newAccountKey(), Date.now());
  if (!updated) return undefined;
  await stores.keyring.changed(updated);
  stores.logger.info({ account: account.name, keyName: `key${index + 1}` }, 'storage account key regenerated');
  return updated;
}
