import http from 'node:http';
import type { DatastoreRecord } from '../../db/datastores.js';
import { issueAccountSas, issueServiceSas, sasTime } from '../../storage/auth/sas-issue.js';
import type { ManagementDeps } from '../deps.js';
import { ArmError } from '../http/errors.js';

const PROBE_TIMEOUT_MS = 10_000;
/** Probes are many during a rotation (one per distinct credential and container); keep their connections. */
const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** What a credential check needs of a datastore. */
export type DatastoreCredential = Pick<DatastoreRecord, 'name' | 'accountName' | 'type' | 'containerName' | 'credentialsType' | 'secret'>;

/**
 * Checks a datastore's credential the way a client would use it: against the
 * data plane. An account key signs a short-lived SAS and a SAS is used as given,
 * to list one entry of the container (Blob service) or share (File service); its
 * refusal (a regenerated key, a disabled shared key, a missing container or
 * share) becomes a 400 naming the cause.
 */
export async function validateDatastore(deps: ManagementDeps, datastore: DatastoreCredential): Promise<void> {
  const why = await checkDatastore(deps, datastore);
  if (why !== undefined) {
    throw new ArmError(
      400,
      'DatastoreValidationFailed',
      `The credentials of datastore '${datastore.name}' were refused: ${why} Register it with a current key of account '${datastore.accountName}' (listKeys), or pass skipValidation=true.`,
    );
  }
}

/** Why the data plane refuses the datastore's credential, or undefined when it accepts it (see validateDatastore). */
export async function checkDatastore(deps: ManagementDeps, datastore: DatastoreCredential): Promise<string | undefined> {
  const account = deps.accounts.get(datastore.accountName);
  if (!account) return `the storage account '${datastore.accountName}' does not exist on this server.`;
  if (datastore.credentialsType === 'None') return undefined;
  const isBlob = datastore.type === 'AzureBlob';
  const target = isBlob
    ? { service: 'blob' as const, resource: 'c', endpoint: deps.blob.endpoint, listing: 'restype=container&comp=list', kind: 'container' }
    : { service: 'file' as const, resource: 's', endpoint: deps.file.endpoint, listing: 'restype=directory&comp=list', kind: 'share' };
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
export async function checkAccountKey(deps: ManagementDeps, accountName: string, key: string): Promise<string | undefined> {
  const sas = issueAccountSas(accountName, key, { services: 'b', resourceTypes: 's', permissions: 'l', expiry: sasTime(Date.now() + 5 * 60_000) });
  const { status, code } = await probe(`${deps.blob.endpoint}/${accountName}?comp=list&maxresults=1&${sas}`);
  if (status === 200) return undefined;
  if (code === 'AuthenticationFailed') return `the key is not a current key of account '${accountName}' (it may have been regenerated).`;
  if (code === 'KeyBasedAuthenticationNotPermitted') return `account '${accountName}' does not allow shared key access (allowSharedKeyAccess is false).`;
  return `listing the account's containers answered ${status}${code ? ` ${code}` : ''}.`;
}

function probe(url: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: probeAgent, headers: { 'x-ms-version': '2021-08-06' }, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, code: res.headers['x-ms-error-code'] as string | undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('the data plane did not answer the validation request in time')));
    req.on('error', reject);
  });
}
