import { timingSafeEqual } from 'node:crypto';
import type { ConsumerStore, CredentialHolder, KeylessHolder } from '../db/consumers.js';
import type { AccountRecord, StorageAccountRecord } from '../db/records.js';
import { readHeldSas, type HeldSas, type SasScope } from './sas-token.js';

export type KeyName = 'key1' | 'key2';
/** Which key a credential currently matches; `unknown` only for a SAS whose signed path is not recorded. */
export type KeyMatch = KeyName | 'stale' | 'unknown';

/** A credential holder, classified against the account's current keys. */
export interface Consumer {
  holder: CredentialHolder;
  resourceId: string;
  matches: KeyMatch;
  sas?: HeldSas;
}

const DAY_MS = 86_400_000;
const WORKSPACES = 'Microsoft.MachineLearningServices/workspaces';

export function keyName(index: 0 | 1): KeyName {
  return index === 0 ? 'key1' : 'key2';
}

export function keyIndex(name: KeyName): 0 | 1 {
  return name === 'key1' ? 0 : 1;
}

/** The account's keys as the checks need them: decoded for SAS signatures, and their sealing fingerprints for account keys. */
interface AccountKeyViews {
  keys: readonly [Buffer, Buffer];
  digests: readonly [Buffer, Buffer];
}

function keyViews(repo: ConsumerStore, account: AccountRecord): AccountKeyViews {
  const keys = [Buffer.from(account.keys[0], 'base64'), Buffer.from(account.keys[1], 'base64')] as const;
  return { keys, digests: [repo.fingerprintOfSecret(account.keys[0]), repo.fingerprintOfSecret(account.keys[1])] };
}

/** Compares with both keys' digests, always, in constant time: which one matched must not show in the timing. */
function matchAccountKey(held: Buffer, digests: readonly [Buffer, Buffer]): KeyMatch {
  const equal = digests.map((digest) => timingSafeEqual(digest, held));
  return equal[0] ? 'key1' : equal[1] ? 'key2' : 'stale';
}

export function sasScope(account: string, holder: CredentialHolder): SasScope {
  return { account, service: holder.datastoreType === 'AzureFile' ? 'file' : 'blob', container: holder.containerName ?? '' };
}

/** The ARM id of a consumer: its workspace, or the datastore in it. */
export function holderResourceId(subscriptionId: string, holder: Pick<CredentialHolder, 'resourceGroup' | 'workspaceName' | 'datastoreName'>): string {
  const workspace = `/subscriptions/${subscriptionId}/resourceGroups/${holder.resourceGroup}/providers/${WORKSPACES}/${holder.workspaceName}`;
  return holder.datastoreName === undefined ? workspace : `${workspace}/datastores/${holder.datastoreName}`;
}

function classify(repo: ConsumerStore, holder: CredentialHolder, account: AccountRecord, views: AccountKeyViews, subscriptionId: string, now: number): Consumer {
  const resourceId = holderResourceId(subscriptionId, holder);
  if (holder.credentialsType === 'AccountKey') return { holder, resourceId, matches: matchAccountKey(repo.fingerprint(holder), views.digests) };
  const sas = readHeldSas(holder.secret, sasScope(account.name, holder), views.keys, now);
  const matches: KeyMatch = sas.signedWith === undefined ? 'unknown' : sas.signedWith === -1 ? 'stale' : keyName(sas.signedWith);
  return { holder, resourceId, matches, sas };
}

/** Every consumer of the account's credentials, in every resource group. */
export async function discoverConsumers(repo: ConsumerStore, account: AccountRecord, subscriptionId: string, now = Date.now()): Promise<Consumer[]> {
  return classifyHolders(repo, await repo.byAccount(account.name), account, subscriptionId, now);
}

/** The account's credential holders, each with the key its credential matches. */
export function classifyHolders(repo: ConsumerStore, holders: CredentialHolder[], account: AccountRecord, subscriptionId: string, now = Date.now()): Consumer[] {
  const views = keyViews(repo, account);
  return holders.map((holder) => classify(repo, holder, account, views, subscriptionId, now));
}

/** A consumer relies on a key when its credential matches it and still works (an expired SAS relies on nothing). */
export function reliesOn(consumer: Consumer, key: KeyName): boolean {
  return consumer.matches === key && !consumer.sas?.expired;
}

/**
 * The key the consumers use: the one a default rotation retires. With no
 * consumer at all, the older key, so that rotating an unused account still
 * renews its oldest secret.
 */
export function activeKey(consumers: Consumer[], account: AccountRecord): KeyName | 'both' {
  const on1 = consumers.some((consumer) => reliesOn(consumer, 'key1'));
  const on2 = consumers.some((consumer) => reliesOn(consumer, 'key2'));
  if (on1 && on2) return 'both';
  if (on1) return 'key1';
  if (on2) return 'key2';
  return account.keyCreated[1] < account.keyCreated[0] ? 'key2' : 'key1';
}

export function keyAgeDays(account: AccountRecord, key: KeyName, now = Date.now()): number {
  return (now - account.keyCreated[keyIndex(key)]) / DAY_MS;
}

/** Each key's creation time and age, and its expiry under the account's key policy. */
export function keyAges(account: StorageAccountRecord, now = Date.now()) {
  const period = account.settings.keyExpirationPeriodInDays;
  const age = (key: KeyName) => {
    const created = account.keyCreated[keyIndex(key)];
    const expiresOn = period === undefined ? undefined : created + period * DAY_MS;
    return {
      creationTime: new Date(created).toISOString(),
      ageInDays: Math.floor(keyAgeDays(account, key, now) * 100) / 100,
      ...(expiresOn === undefined ? {} : { expiresOn: new Date(expiresOn).toISOString(), expired: expiresOn <= now }),
    };
  };
  return { key1: age('key1'), key2: age('key2') };
}

/** Where a datastore is, as listConsumers shows it. */
function datastoreWhere(holder: Pick<CredentialHolder, 'datastoreName' | 'system' | 'datastoreType' | 'containerName'>) {
  return {
    type: `${WORKSPACES}/datastores`,
    datastoreName: holder.datastoreName,
    system: holder.system,
    datastoreType: holder.datastoreType,
    ...(holder.datastoreType === 'AzureFile' ? { fileShareName: holder.containerName } : { containerName: holder.containerName }),
  };
}

/** What listConsumers shows of a datastore that holds no key (none at all, or a service principal's secret): `keyless`, which no key change affects. */
export function keylessJson(subscriptionId: string, holder: KeylessHolder) {
  return {
    id: holderResourceId(subscriptionId, holder),
    kind: 'datastore' as const,
    resourceGroup: holder.resourceGroup,
    workspaceName: holder.workspaceName,
    ...datastoreWhere(holder),
    credentialsType: holder.credentialsType,
    ...(holder.clientId !== undefined && { servicePrincipal: { clientId: holder.clientId } }),
    matches: 'keyless' as const,
  };
}

/**
 * What would break if the account's Shared Key access were turned off: every
 * consumer whose credential works now (an account key or a key-signed SAS; all
 * of them are key-based), each with what to do instead.
 */
export function keylessReadiness(consumers: Consumer[], keyless: KeylessHolder[]) {
  const blocking = consumers
    .filter((consumer) => consumer.matches === 'key1' || consumer.matches === 'key2' || consumer.matches === 'unknown')
    .filter((consumer) => !consumer.sas?.expired)
    .map((consumer) => ({
      id: consumer.resourceId,
      credentialsType: consumer.holder.credentialsType,
      fix:
        consumer.holder.kind === 'workspace'
          ? 'give its identity Blob and File data roles on the account; switch it to identity access'
          : 're-register it without credentials (identity access); give its readers a data role',
    }));
  return { ready: blocking.length === 0, keyBased: blocking.length, keyless: keyless.length, blocking };
}

/** What listConsumers shows of a consumer: where it is and which key its credential matches, never the credential. */
export function consumerJson(consumer: Consumer) {
  const { holder, sas } = consumer;
  const where = holder.kind === 'workspace' ? { type: WORKSPACES } : datastoreWhere(holder);
  return {
    id: consumer.resourceId,
    kind: holder.kind,
    resourceGroup: holder.resourceGroup,
    workspaceName: holder.workspaceName,
    ...where,
    credentialsType: holder.credentialsType,
    matches: consumer.matches,
    ...(sas
      ? {
          sas: {
            kind: sas.kind,
            signedResource: sas.resource,
            permissions: sas.permissions,
            expiry: sas.expiry ?? null,
            expired: sas.expired,
            signedWith: consumer.matches,
            ...(sas.why ? { note: `The signing key cannot be told: ${sas.why}.` } : {}),
          },
        }
      : {}),
  };
}
