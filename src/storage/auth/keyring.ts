import type { StorageAccountRecord } from '../../db/records.js';
import type { AccountKeys } from './types.js';

/**
 * The in-memory view of every account's two keys that the data plane checks
 * signatures against. It is a cache of the metadata store: whoever changes a key
 * in the store calls `load` with the new record before answering, so the old
 * value fails from the very next request on.
 */
export class KeyRing {
  private readonly accounts = new Map<string, AccountKeys>();

  get(account: string): AccountKeys | undefined {
    return this.accounts.get(account);
  }

  load(record: StorageAccountRecord): void {
    const tier = record.settings.properties.accessTier;
    const { isVersioningEnabled, deleteRetentionPolicy, containerDeleteRetentionPolicy } = record.settings.blobService ?? {};
    this.accounts.set(record.name, {
      account: record.name,
      keys: [Buffer.from(record.keys[0], 'base64'), Buffer.from(record.keys[1], 'base64')],
      allowSharedKeyAccess: record.allowSharedKeyAccess,
      defaultAccessTier: tier === 'Cool' || tier === 'Cold' ? tier : 'Hot',
      versioning: isVersioningEnabled === true,
      deleteRetentionDays: deleteRetentionPolicy?.enabled ? deleteRetentionPolicy.days : undefined,
      containerDeleteRetentionDays: containerDeleteRetentionPolicy?.enabled ? containerDeleteRetentionPolicy.days : undefined,
    });
  }

  remove(account: string): void {
    this.accounts.delete(account);
  }
}
