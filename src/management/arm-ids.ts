import type { StorageAccountRecord } from '../db/records.js';

/** The subscription every ARM id of this server starts with. */
interface Subscription {
  subscriptionId: string;
}

export function groupId(deps: Subscription, group: string): string {
  return `/subscriptions/${deps.subscriptionId}/resourceGroups/${group}`;
}

export function accountId(deps: Subscription, account: StorageAccountRecord): string {
  return `${groupId(deps, account.resourceGroup)}/providers/Microsoft.Storage/storageAccounts/${account.name}`;
}
