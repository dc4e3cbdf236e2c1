import http from 'node:http';
import type { DatastoreRecord } from '../../db/datastores.js';
import { issueServiceSas, sasTime } from '../../storage/auth/sas-issue.js';
import type { ManagementDeps } from '../deps.js';
import { ArmError } from '../http/errors.js';

const PROBE_TIMEOUT_MS = 10_000;

function refused(datastore: DatastoreRecord, why: string): ArmError {
  return new ArmError(
    400,
    'DatastoreValidationFailed',
    `The credentials of datastore '${datastore.name}' were refused: ${why} Register it with a current key of account '${datastore.accountName}' (listKeys), or pass skipValidation=true.`,
  );
}

/**
 * Checks a datastore's credential the way a client would use it: against the
 * data plane. An account key signs a short-lived SAS and a SAS is used as given,
 * to list one entry of the container (Blob service) or share (File service); its
 * refusal (a regenerated key, a disabled shared key, a missing container or
 * share) becomes a 400 naming the cause.
 */
export async function validateDatastore(deps: ManagementDeps, datastore: DatastoreRecord): Promise<void> {
  const account = deps.accounts.get(datastore.accountName);
  if (!account) throw refused(datastore, `the storage account '${datastore.accountName}' does not exist on this server.`);
  if (datastore.credentialsType === 'None') return;
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
  if (status === 200) return;
  if (code === 'ContainerNotFound' || code === 'ShareNotFound') {
    throw refused(datastore, `the ${target.kind} '${datastore.containerName}' does not exist in account '${account.name}'.`);
  }
  if (code === 'KeyBasedAuthenticationNotPermitted') throw refused(datastore, `account '${account.name}' does not allow shared key access (allowSharedKeyAccess is false).`);
  if (code === 'AuthenticationFailed') {
    throw refused(datastore, datastore.credentialsType === 'AccountKey' ? `the key is not a current key of account '${account.name}' (it may have been regenerated).` : 'the SAS token is not valid (expired, or signed with a key that was regenerated).');
  }
  throw refused(datastore, `listing the ${target.kind} answered ${status}${code ? ` ${code}` : ''}.`);
}

function probe(url: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'x-ms-version': '2021-08-06' }, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, code: res.headers['x-ms-error-code'] as string | undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('the data plane did not answer the validation request in time')));
    req.on('error', reject);
  });
}
