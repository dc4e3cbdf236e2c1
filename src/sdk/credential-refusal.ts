import type { ArmClients } from './arm-clients.js';
import { parseResourceId } from './arm-clients.js';
import type { DatastoreType, HeldCredential } from './datastore-types.js';
import { MlspaceError } from './errors.js';

/** Who holds a credential that a storage account refused. */
export interface CredentialHolder {
  workspace: string;
  resourceGroup: string;
  /** Left out for the workspace's own copy of its storage account's key (workspace listKeys). */
  datastore?: { name: string; type: DatastoreType };
  /** Whether `sync-keys` renews this credential: the workspace's copy, and the system datastores on its account. */
  renewedBySyncKeys: boolean;
}

/** `stale`: shown to be no longer valid; `unverified`: refused, may be stale, could not be checked; `current`: valid, refused for another reason. */
export type RefusalVerdict = 'stale' | 'unverified' | 'current';

/**
 * A storage account refused (403 AuthenticationFailed) the credential a
 * workspace or datastore holds. The message names the holder, the account,
 * what was found about the credential, and the command that fixes it.
 */
export class CredentialRefusedError extends MlspaceError {
  constructor(
    message: string,
    readonly holder: CredentialHolder,
    readonly accountName: string,
    readonly verdict: RefusalVerdict,
    cause: unknown,
  ) {
    super(message, verdict === 'stale' ? 'StaleCredential' : 'CredentialRefused', { cause });
    this.name = 'CredentialRefusedError';
  }
}

interface StorageRestError {
  statusCode?: number;
  code?: string;
  message: string;
  /** The response headers; a HEAD answer has no body, so its error code is only here. */
  details?: { errorCode?: string; message?: string };
}

/** The data plane's answer to a signature made with a key the account does not have (any more), or a bad SAS. */
export function isCredentialRefusal(error: unknown): error is StorageRestError {
  const candidate = error as StorageRestError | undefined;
  return candidate?.statusCode === 403 && (candidate.code ?? candidate.details?.errorCode) === 'AuthenticationFailed';
}

function remedy(holder: CredentialHolder, accountName: string, credential: HeldCredential): string {
  if (holder.renewedBySyncKeys) return `run: mlspace ml workspace sync-keys -w ${holder.workspace} -g ${holder.resourceGroup} (ws.syncKeys() in the SDK)`;
  const what = credential.type === 'Sas' ? 'SAS token' : 'key';
  const register = holder.datastore?.type === 'AzureFile' ? 'registerAzureFileShare' : 'registerAzureBlobContainer';
  return (
    `re-register the datastore with a current ${what} of '${accountName}': mlspace ml datastore create --file <datastore.yml> -w ${holder.workspace} -g ${holder.resourceGroup}, ` +
    `or Datastore.${register}({ ..., overwrite: true }) in the SDK (sync-keys does not update user datastores)`
  );
}

function describeHolder(holder: CredentialHolder, credential: HeldCredential): string {
  if (!holder.datastore) return `the key workspace '${holder.workspace}' (resource group '${holder.resourceGroup}') holds for its storage`;
  return `the ${credential.type === 'Sas' ? 'SAS token' : 'key'} held by datastore '${holder.datastore.name}' of workspace '${holder.workspace}' (resource group '${holder.resourceGroup}')`;
}

/** Finds the account's resource group: from a known ARM id, else by listing the subscription's accounts. */
async function locateAccount(clients: ArmClients, accountName: string, accountId: string | undefined): Promise<string> {
  const known = accountId ? parseResourceId(accountId) : undefined;
  if (known) return known.resourceGroup;
  for await (const account of clients.storage.storageAccounts.list()) {
    if (account.name === accountName && account.id) return parseResourceId(account.id)!.resourceGroup;
  }
  throw new Error(`no storage account '${accountName}' is visible in subscription ${clients.subscriptionId}`);
}

/** "key1 was regenerated at T", from the account's key creation times; undefined when they cannot be read. */
async function lastRegeneration(clients: ArmClients, resourceGroup: string, accountName: string): Promise<string | undefined> {
  try {
    const account = await clients.storage.storageAccounts.getProperties(resourceGroup, accountName);
    const times = account.keyCreationTime;
    if (!times?.key1 || !times.key2) return undefined;
    const [name, time] = times.key1 >= times.key2 ? ['key1', times.key1] : ['key2', times.key2];
    // Both keys are created with the account; a later creation time is a regeneration.
    if (account.creationTime && time.getTime() <= account.creationTime.getTime()) return 'neither key has been regenerated since the account was created';
    return `${name} was regenerated at ${time.toISOString()}`;
  } catch {
    return undefined;
  }
}

function sasExpiry(sasToken: string): Date | undefined {
  const expiry = new URLSearchParams(sasToken.replace(/^\?/, '')).get('se');
  const date = expiry ? new Date(expiry) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
}

/** The data plane's 403 to a valid token whose identity lacks the data role, or a token refused (401). */
function isTokenRefusal(error: unknown): error is StorageRestError {
  const candidate = error as StorageRestError | undefined;
  const code = candidate?.code ?? candidate?.details?.errorCode;
  return (candidate?.statusCode === 403 && (code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationFailure')) || candidate?.statusCode === 401;
}

/** What @azure/identity throws when the authority issues no token (a wrong or retired secret). */
const SIGN_IN_FAILURES = new Set(['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError']);

/** A token refused, or not issued at all (a service principal's secret the authority no longer takes): who, why, and the fix. */
function explainTokenRefusal(error: unknown, holder: CredentialHolder, account: { name: string; id?: string }, identity: string): unknown {
  const what = holder.datastore ? `datastore '${holder.datastore.name}' of workspace '${holder.workspace}'` : `the storage of workspace '${holder.workspace}'`;
  const data = holder.datastore?.type === 'AzureFile' ? 'File Data Privileged Contributor' : 'Blob Data Contributor';
  const scope = account.id ?? `<the id of storage account '${account.name}'>`;
  const assignee = /^service principal '(.+)'$/.exec(identity)?.[1] ?? '<your client id>';
  if (isTokenRefusal(error)) {
    const answer = `${error.statusCode} ${error.code ?? error.details?.errorCode ?? ''}`.trim();
    return new CredentialRefusedError(
      `Storage account '${account.name}' refused ${identity} access to ${what} (${answer}): it needs a data role there. ` +
        `To fix it: mlspace role assignment create --assignee ${assignee} --role "Storage ${data}" --scope ${scope} (or a narrower scope: its container or share).`,
      holder,
      account.name,
      'current',
      error,
    );
  }
  if (SIGN_IN_FAILURES.has((error as Error | undefined)?.name ?? '') && holder.datastore) {
    return new CredentialRefusedError(
      `${identity} could not sign in to reach ${what}: ${reason(error)}. If its secret was reset, re-register the datastore with the new one ` +
        `(mlspace ad sp credential reset moves every datastore holding the secret for you).`,
      holder,
      account.name,
      'stale',
      error,
    );
  }
  return error;
}

/**
 * Turns a data-plane refusal of a held credential into an error that names
 * the cause. Whether a key is stale is decided honestly, by comparing it with
 * the account's current keys through the management API (listKeys); when the
 * caller may not list keys, the error says the credential was refused and may
 * be stale. Any other error is returned unchanged.
 */
export async function explainRefusal(
  error: unknown,
  clients: ArmClients,
  holder: CredentialHolder,
  account: { name: string; id?: string },
  credential: HeldCredential,
): Promise<unknown> {
  if (credential.type === 'Token') return explainTokenRefusal(error, holder, account, credential.identity);
  if (!isCredentialRefusal(error)) return error;
  const who = describeHolder(holder, credential);
  const fix = remedy(holder, account.name, credential);
  const refusedBy = `Storage account '${account.name}' refused ${who}`;
  const refused = (verdict: RefusalVerdict, message: string) => new CredentialRefusedError(message, holder, account.name, verdict, error);

  if (credential.type === 'Sas') {
    const expiry = sasExpiry(credential.sasToken);
    if (expiry && expiry.getTime() < Date.now()) return refused('stale', `${refusedBy}: the token expired at ${expiry.toISOString()}. To fix it, ${fix}.`);
    return refused('unverified', `${refusedBy} (403 AuthenticationFailed): it may have been signed with a key that was since regenerated. To fix it, ${fix}.`);
  }
  if (credential.type !== 'AccountKey') return error;

  let resourceGroup: string;
  let keys: string[];
  try {
    resourceGroup = await locateAccount(clients, account.name, account.id);
  } catch (lookup) {
    return refused('unverified', `${refusedBy} (403 AuthenticationFailed). The key may have been regenerated, but it could not be compared with the account's keys: ${reason(lookup)}. If it was regenerated, ${fix}.`);
  }
  try {
    keys = ((await clients.storage.storageAccounts.listKeys(resourceGroup, account.name)).keys ?? []).map((key) => key.value ?? '');
  } catch (listing) {
    const why =
      (listing as StorageRestError).statusCode === 403
        ? `the signed-in identity may not list the keys of '${account.name}' (that needs Microsoft.Storage/storageAccounts/listkeys/action, e.g. Contributor)`
        : reason(listing);
    return refused('unverified', `${refusedBy} (403 AuthenticationFailed). The key may have been regenerated, but it could not be compared with the account's keys: ${why}. If it was regenerated, ${fix}.`);
  }
  if (keys.includes(credential.key)) {
    const answer = (error.message || error.details?.message || '403 AuthenticationFailed').split('\n')[0];
    return refused('current', `${refusedBy} although it is a current key of the account: ${answer}`);
  }
  const when = await lastRegeneration(clients, resourceGroup, account.name);
  return refused('stale', `${refusedBy}: that key is no longer key1 or key2 of the account${when ? ` (${when})` : ''}. To fix it, ${fix}.`);
}

function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\.$/, '');
}
