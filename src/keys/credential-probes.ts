import http from 'node:http';
import https from 'node:https';
import type { AccountStore } from '../db/accounts.js';
import type { DatastoreRecord } from '../db/datastores.js';
import type { DirectoryStore } from '../db/directory.js';
import { clientSecretMatches } from '../management/identity/client-secret.js';
import { STORAGE_AUDIENCE, type TokenService } from '../management/identity/tokens.js';
import { issueAccountSas, issueServiceSas, sasTime } from '../storage/auth/sas-issue.js';
import { STORAGE_API_VERSION } from '../storage/http/errors.js';

const PROBE_TIMEOUT_MS = 10_000;
/** Probes are many during a rotation (one per distinct credential and container); keep their connections. */
const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** What a credential check needs of a datastore. */
export type DatastoreCredential = Pick<DatastoreRecord, 'name' | 'accountName' | 'type' | 'containerName' | 'credentialsType' | 'secret' | 'servicePrincipal'>;

/**
 * Where credentials are tried: the accounts, and this server's Blob and File
 * endpoints; a service principal's, with a token from this server's issuer,
 * over the services' TLS ports.
 */
export interface ProbeTargets {
  accounts: AccountStore;
  blob: { endpoint: string };
  file: { endpoint: string };
  directory: DirectoryStore;
  tokens: TokenService;
  tenantId: string;
  armEndpoint: string;
  dataPlaneHttps: { blob: string; file: string; ca: Buffer };
}

/*
 * Credentials checked the way a client would use them: against the data plane.
 * Datastore registration (validateDatastore) and a rotation's verify step both
 * ask here. An account key signs a short-lived SAS and a SAS is used as given,
 * to list one entry; the answer says why the credential is refused, or nothing.
 */
/** Why the data plane refuses the datastore's credential, or undefined when it accepts it. */
export async function checkDatastore(deps: ProbeTargets, datastore: DatastoreCredential): Promise<string | undefined> {
  const account = await deps.accounts.get(datastore.accountName);
  if (!account) return `the storage account '${datastore.accountName}' does not exist on this server.`;
  if (datastore.credentialsType === 'None') return undefined;
  const isBlob = datastore.type === 'AzureBlob';
  const target = isBlob
    ? { service: 'blob' as const, resource: 'c', endpoint: deps.blob.endpoint, listing: 'restype=container&comp=list', kind: 'container' }
    : { service: 'file' as const, resource: 's', endpoint: deps.file.endpoint, listing: 'restype=directory&comp=list', kind: 'share' };
  if (datastore.credentialsType === 'ServicePrincipal') return checkPrincipal(deps, datastore);
  const sas =
    datastore.credentialsType === 'AccountKey'
      ? issueServiceSas(account.name, datastore.secret!, {
          service: target.service,
          container: datastore.containerName,
          path: '',
          resource: target.resource,
          permissions: 'l',
          expiry: sasTime(Date.now() + 5 * 60_000),
        })
      : datastore.secret!.replace(/^\?/, '');
  const url = `${target.endpoint}/${account.name}/${encodeURIComponent(datastore.containerName)}?${target.listing}&maxresults=1&${sas}`;
  const { status, code } = await probe(url);
  if (status === 200) return undefined;
  if (code === 'ContainerNotFound' || code === 'ShareNotFound') return `the ${target.kind} '${datastore.containerName}' does not exist in account '${account.name}'.`;
  if (code === 'KeyBasedAuthenticationNotPermitted') return `account '${account.name}' does not allow shared key access (allowSharedKeyAccess is false).`;
  if (code === 'AuthenticationFailed') {
    return datastore.credentialsType === 'AccountKey'
      ? `the key is not a current key of account '${account.name}' (it may have been regenerated).`
      : 'the SAS token is not valid (expired, or signed with a key that was regenerated).';
  }
  return `listing the ${target.kind} answered ${status}${code ? ` ${code}` : ''}.`;
}

/**
 * Why the Blob service refuses an account key (a workspace's copy), or
 * undefined when it accepts it: the key signs a short-lived account SAS that
 * lists one container, a service-level request that needs no particular
 * container to exist.
 */
export async function checkAccountKey(deps: ProbeTargets, accountName: string, key: string): Promise<string | undefined> {
  const sas = issueAccountSas(accountName, key, { services: 'b', resourceTypes: 's', permissions: 'l', expiry: sasTime(Date.now() + 5 * 60_000) });
  const { status, code } = await probe(`${deps.blob.endpoint}/${accountName}?comp=list&maxresults=1&${sas}`);
  if (status === 200) return undefined;
  if (code === 'AuthenticationFailed') return `the key is not a current key of account '${accountName}' (it may have been regenerated).`;
  if (code === 'KeyBasedAuthenticationNotPermitted') return `account '${accountName}' does not allow shared key access (allowSharedKeyAccess is false).`;
  return `listing the account's containers answered ${status}${code ? ` ${code}` : ''}.`;
}

/**
 * A service principal's datastore: its secret must sign in as the client (the
 * token endpoint's own check), and a token for that client must list the
 * container or share (checkIdentityAccess).
 */
async function checkPrincipal(deps: ProbeTargets, datastore: DatastoreCredential): Promise<string | undefined> {
  const clientId = datastore.servicePrincipal!.clientId;
  const principal = await deps.directory.getPrincipal(clientId);
  if (!principal) return `the service principal '${clientId}' does not exist in this server's directory.`;
  if (!clientSecretMatches(datastore.secret!, principal.secretHash)) return `the client secret is not valid for service principal '${clientId}' (it may have been reset).`;
  return checkIdentityAccess(deps, clientId, datastore);
}

/**
 * Why a token for `principalId` cannot list the datastore's container or share
 * (which takes a data role there), or undefined when it can: the check of every
 * credential that is an identity, over the services' TLS ports.
 */
export async function checkIdentityAccess(deps: ProbeTargets, principalId: string, datastore: Pick<DatastoreCredential, 'type' | 'accountName' | 'containerName'>): Promise<string | undefined> {
  const isBlob = datastore.type === 'AzureBlob';
  const kind = isBlob ? 'container' : 'share';
  const token = (await deps.tokens.issue(principalId, `${deps.armEndpoint}/${deps.tenantId}/v2.0`, STORAGE_AUDIENCE)).accessToken;
  const endpoint = isBlob ? deps.dataPlaneHttps.blob : deps.dataPlaneHttps.file;
  const listing = isBlob ? 'restype=container&comp=list' : 'restype=directory&comp=list';
  const url = `${endpoint}/${datastore.accountName}/${encodeURIComponent(datastore.containerName)}?${listing}&maxresults=1`;
  const headers = { authorization: `Bearer ${token}`, ...(isBlob ? {} : { 'x-ms-file-request-intent': 'backup' }) };
  const { status, code } = await probe(url, { headers, ca: deps.dataPlaneHttps.ca });
  if (status === 200) return undefined;
  if (code === 'ContainerNotFound' || code === 'ShareNotFound') return `the ${kind} '${datastore.containerName}' does not exist in account '${datastore.accountName}'.`;
  if (code === 'AuthorizationPermissionMismatch') {
    return `'${principalId}' has no data role on the ${kind} '${datastore.containerName}': assign it ${isBlob ? 'Storage Blob Data Reader' : 'Storage File Data Privileged Reader'} or above there.`;
  }
  return `listing the ${kind} with a token for '${principalId}' answered ${status}${code ? ` ${code}` : ''}.`;
}

/** One GET of the data plane: over TLS with `tls` (a token's request), else plain HTTP; the status and error code. */
function probe(url: string, tls?: { headers: Record<string, string>; ca: Buffer }): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    // A token needs a recent version: Azure Files take tokens from 2022-11-02 on.
    const headers = { 'x-ms-version': tls ? STORAGE_API_VERSION : '2021-08-06', ...tls?.headers };
    const answered = (res: http.IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, code: res.headers['x-ms-error-code'] as string | undefined }));
    };
    const req = tls ? https.get(url, { ca: tls.ca, headers, timeout: PROBE_TIMEOUT_MS }, answered) : http.get(url, { agent: probeAgent, headers, timeout: PROBE_TIMEOUT_MS }, answered);
    req.on('timeout', () => req.destroy(new Error('the data plane did not answer the validation request in time')));
    req.on('error', reject);
  });
}
