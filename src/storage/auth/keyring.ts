import type { StorageAccountRecord } from '../../db/records.js';
import type { AccountKeys } from './types.js';
import { delegationRoot } from './user-delegation.js';

/**
 * The in-memory view of every account's two keys that the data plane checks
 * signatures against. It is a cache of the metadata store: whoever changes an
 * account in the store calls `changed` with the new record before answering,
 * so the old value fails from the very next request on, on this node at once
 * and, once `changed` resolves, on every node of the deployment.
 */
export class KeyRing {
  private readonly accounts = new Map<string, AccountKeys>();

  /** `delegationSecret`: the deployment's root of user delegation keys (from the master key, so every node derives the same). */
  constructor(private readonly delegationSecret: Buffer) {}
  /** Until when (performance.now()) this view is known to be current; a single node's always is. */
  private confirmedUntil = Infinity;
  /** Resolves once every other node has loaded the accounts as they are now (see ClusterNode). */
  private settle: () => Promise<void> = () => Promise.resolve();

  /** False once a node of a deployment has gone a lease without confirming its view: it must not authenticate. */
  current(): boolean {
    return this.confirmedUntil === Infinity || performance.now() < this.confirmedUntil;
  }

  /** Joins a deployment: the view is current only as far as `confirm` says, and changes wait for `settle`. */
  joinCluster(settle: () => Promise<void>): void {
    this.settle = settle;
    this.confirmedUntil = 0;
  }

  confirm(until: number): void {
    this.confirmedUntil = until;
  }

  /** Loads a changed account and waits until every node has. */
  async changed(record: StorageAccountRecord): Promise<void> {
    this.load(record);
    await this.settle();
  }

  /** Waits until every node has loaded the store as it is now (after a change to what the data plane checks besides keys: roles). */
  propagate(): Promise<void> {
    return this.settle();
  }

  /** Forgets a deleted account and waits until every node has. */
  async removed(account: string): Promise<void> {
    this.remove(account);
    await this.settle();
  }

  /** The whole view again, from the store: accounts missing from `records` are dropped. */
  loadAll(records: Iterable<StorageAccountRecord>): void {
    const seen = new Set<string>();
    for (const record of records) {
      this.load(record);
      seen.add(record.name);
    }
    for (const name of this.accounts.keys()) if (!seen.has(name)) this.accounts.delete(name);
  }

  get(account: string): AccountKeys | undefined {
    return this.accounts.get(account);
  }

  load(record: StorageAccountRecord): void {
    const tier = record.settings.properties.accessTier;
    const { isVersioningEnabled, deleteRetentionPolicy, containerDeleteRetentionPolicy } = record.settings.blobService ?? {};
    this.accounts.set(record.name, {
      account: record.name,
      resourceGroup: record.resourceGroup,
      delegationRoot: delegationRoot(this.delegationSecret, record.name, record.settings.delegationKeyRevocations ?? 0),
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
