import type { Command } from 'commander';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { ShareServiceClient } from '@azure/storage-file-share';
import type { HeldCredential } from '../../../sdk/datastore-types.js';
import { storageAccountsPath } from '../../arm-paths.js';
import { CliError } from '../../errors.js';
import { groupOf, session } from '../common.js';
import { parseConnectionString } from './connection-string.js';
import { listKeys } from '../storage-account.js';

export type StorageService = 'blob' | 'file';

/** az's storage account arguments, which every data command takes. */
export interface StorageAuthOptions {
  accountName?: string;
  accountKey?: string;
  connectionString?: string;
  sasToken?: string;
  blobEndpoint?: string;
  fileEndpoint?: string;
}

/** How a command reaches one service of one account. */
export interface StorageAccess {
  /** The service's URL without a trailing slash or a SAS: `http://127.0.0.1:10000/myaccount`. */
  serviceUrl: string;
  account: string;
  credential: HeldCredential;
  /** Where the credential came from, for the hint when the service refuses it. */
  source: 'option' | 'connection string' | 'login' | 'environment';
}

/**
 * What the command needs: a credential (a key or a SAS, or none for public
 * data), an account key (to sign a SAS), or only the endpoint (to print a URL).
 */
export type Need = 'credential' | 'key' | 'endpoint';

/** Adds az's storage account arguments; blob commands also take --blob-endpoint, file commands --file-endpoint. */
export function withStorageAuth(command: Command, service: StorageService): Command {
  return command
    .option('--account-name <name>', 'storage account name; alone, its key is looked up through your login, as az does (env: AZURE_STORAGE_ACCOUNT)')
    .option('--account-key <key>', 'storage account key, with --account-name (env: AZURE_STORAGE_KEY)')
    .option('--sas-token <token>', 'a shared access signature, with --account-name (env: AZURE_STORAGE_SAS_TOKEN)')
    .option('--connection-string <string>', 'storage account connection string, instead of the three above (env: AZURE_STORAGE_CONNECTION_STRING)')
    .option(`--${service}-endpoint <url>`, `the account's ${service === 'blob' ? 'Blob' : 'File'} service URL, with --account-name (default: looked up through your login)`);
}

const ENV = {
  accountName: 'AZURE_STORAGE_ACCOUNT',
  accountKey: 'AZURE_STORAGE_KEY',
  sasToken: 'AZURE_STORAGE_SAS_TOKEN',
  connectionString: 'AZURE_STORAGE_CONNECTION_STRING',
} as const;

/** The command line's credentials, or when it names none, the environment's (as az reads them). */
function givenAuth(options: StorageAuthOptions): { auth: StorageAuthOptions; fromEnvironment: boolean } {
  const keys = Object.keys(ENV) as (keyof typeof ENV)[];
  if (keys.some((key) => options[key] !== undefined)) return { auth: options, fromEnvironment: false };
  const fromEnv = Object.fromEntries(keys.map((key) => [key, process.env[ENV[key]] || undefined]));
  return { auth: { ...options, ...fromEnv }, fromEnvironment: keys.some((key) => fromEnv[key] !== undefined) };
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The one place a storage data command's credentials are resolved, as az
 * resolves them: --connection-string; or --account-name with --account-key or
 * --sas-token; or --account-name alone, whose key is looked up with the
 * login's rights (ARM listKeys). The endpoint comes from the connection
 * string, from --blob-endpoint/--file-endpoint, or from the account as the
 * management API describes it.
 */
export async function accountAccess(options: StorageAuthOptions, service: StorageService, need: Need = 'credential'): Promise<StorageAccess> {
  const { auth, fromEnvironment } = givenAuth(options);
  const endpointOption = service === 'blob' ? auth.blobEndpoint : auth.fileEndpoint;
  if (auth.connectionString !== undefined) {
    if (auth.accountName || auth.accountKey || auth.sasToken) {
      throw new CliError('--connection-string names the account and its credential: give it alone, or --account-name with --account-key or --sas-token instead.', 2);
    }
    const parsed = parseConnectionString(auth.connectionString, service);
    const credential: HeldCredential = parsed.accountKey
      ? { type: 'AccountKey', key: parsed.accountKey }
      : parsed.sasToken
        ? { type: 'Sas', sasToken: parsed.sasToken }
        : { type: 'None' };
    const access: StorageAccess = { serviceUrl: trimSlash(endpointOption ?? parsed.endpoint), account: parsed.accountName, credential, source: fromEnvironment ? 'environment' : 'connection string' };
    return requireKey(access, need);
  }
  if (!auth.accountName) {
    if (auth.accountKey || auth.sasToken) throw new CliError(`${auth.accountKey ? '--account-key' : '--sas-token'} needs --account-name: give the account it belongs to.`, 2);
    throw new CliError(
      'Give the storage account: --account-name NAME (its key is then looked up through your login), with --account-key or --sas-token if you have one, or --connection-string.',
      2,
    );
  }
  if (auth.accountKey && auth.sasToken) throw new CliError('Give --account-key or --sas-token, not both.', 2);
  const credential: HeldCredential | undefined = auth.accountKey
    ? { type: 'AccountKey', key: auth.accountKey }
    : auth.sasToken
      ? { type: 'Sas', sasToken: auth.sasToken.replace(/^\?/, '') }
      : undefined;
  const source = fromEnvironment ? 'environment' : 'option';
  // Refused before any lookup: a SAS cannot sign another SAS.
  if (need === 'key' && credential?.type === 'Sas') return requireKey({ serviceUrl: '', account: auth.accountName, credential, source }, need);
  if (endpointOption && (credential || need === 'endpoint')) {
    return requireKey({ serviceUrl: trimSlash(endpointOption), account: auth.accountName, credential: credential ?? { type: 'None' }, source }, need);
  }
  const found = await accountThroughLogin(auth.accountName, service, !credential && need !== 'endpoint');
  return requireKey(
    { serviceUrl: trimSlash(endpointOption ?? found.url), account: auth.accountName, credential: credential ?? (found.key ? { type: 'AccountKey', key: found.key } : { type: 'None' }), source: credential ? source : 'login' },
    need,
  );
}

/** The account's endpoint through the management API, and with `withKey`, its first key (listKeys), as az looks it up. */
async function accountThroughLogin(name: string, service: StorageService, withKey: boolean): Promise<{ url: string; key?: string }> {
  const current = await session().catch((error: unknown) => {
    if (!(error instanceof CliError)) throw error;
    throw new CliError(
      `${error.message.replace(/\.$/, '')}: --account-name is looked up through the login. Or give --connection-string, or --account-key (or --sas-token) with --${service}-endpoint.`,
      error.exitCode,
    );
  });
  const accounts = await current.rest.list<{ id?: string; name?: string; properties?: { primaryEndpoints?: Partial<Record<StorageService, string>> } }>(storageAccountsPath(current.subscriptionId));
  const found = accounts.find((account) => account.name === name);
  if (!found) {
    throw new CliError(`Storage account '${name}' was not found in subscription ${current.subscriptionId}; check the name, or give --connection-string (or --${service}-endpoint with a key).`, 3);
  }
  const url = found.properties?.primaryEndpoints?.[service];
  if (!url) throw new CliError(`Storage account '${name}' has no ${service} endpoint on this server.`);
  if (!withKey) return { url };
  const key = (await listKeys(current, groupOf(found.id)!, name))[0]?.value;
  if (!key) throw new CliError(`Could not get a key of storage account '${name}'; give --account-key or --sas-token.`);
  return { url, key };
}

function requireKey(access: StorageAccess, need: Need): StorageAccess {
  if (need === 'key' && access.credential.type !== 'AccountKey') {
    throw new CliError(
      'Signing a SAS needs the account key: give --account-key, or --account-name alone (the key is then looked up through your login), or a connection string with AccountKey.',
      2,
    );
  }
  return access;
}

/** The SAS query to append to a URL, or ''. */
export function sasQuery(access: StorageAccess): string {
  return access.credential.type === 'Sas' ? `?${access.credential.sasToken}` : '';
}

/** The Blob service client for the access; the package is loaded only when a command runs, so start-up stays fast. */
export async function blobServiceClient(access: StorageAccess): Promise<BlobServiceClient> {
  const { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const credential = access.credential.type === 'AccountKey' ? new StorageSharedKeyCredential(access.account, access.credential.key) : new AnonymousCredential();
  return new BlobServiceClient(access.serviceUrl + sasQuery(access), credential);
}

/** The File service client for the access, loaded as the Blob one is. */
export async function shareServiceClient(access: StorageAccess): Promise<ShareServiceClient> {
  const { AnonymousCredential, ShareServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-file-share');
  const credential = access.credential.type === 'AccountKey' ? new StorageSharedKeyCredential(access.account, access.credential.key) : new AnonymousCredential();
  return new ShareServiceClient(access.serviceUrl + sasQuery(access), credential);
}
