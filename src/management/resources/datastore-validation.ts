import { timingSafeEqual } from 'node:crypto';
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
 * data plane. For a blob container, an account key signs a short-lived SAS and
 * a SAS is used as given, to list one blob of the container through the Blob
 * service; its refusal (a regenerated key, a disabled shared key, a missing
 * container) becomes a 400 naming the cause. Until the File service is wired in
 * (see FileServiceHook), a file share's account key is checked against the
 * account's current keys.
 */
export async function validateDatastore(deps: ManagementDeps, datastore: DatastoreRecord): Promise<void> {
  const account = deps.accounts.get(datastore.accountName);
  if (!account) throw refused(datastore, `the storage account '${datastore.accountName}' does not exist on this server.`);
  if (datastore.credentialsType === 'None') return;
  if (datastore.type === 'AzureFile') {
    if (datastore.credentialsType === 'AccountKey' && !account.keys.some((key) => sameSecret(key, datastore.secret!))) {
      throw refused(datastore, `the key is not a current key of account '${account.name}' (it may have been regenerated).`);
    }
    return;
  }
  const sas =
    datastore.credentialsType === 'AccountKey'
      ? issueServiceSas(account.name, datastore.secret!, {
          service: 'blob',
          container: datastore.containerName,
          path: '',
          resource: 'c',
          permissions: 'l',
          expiry: sasTime(Date.now() + 5 * 60_000),
        })
      : datastore.secret!.replace(/^\?/, '');
  const url = `${deps.blob.endpoint}/${account.name}/${encodeURIComponent(datastore.containerName)}?restype=container&comp=list&maxresults=1&${sas}`;
  const { status, code } = await probe(url);
  if (status === 200) return;
  if (code === 'ContainerNotFound') throw refused(datastore, `the container '${datastore.containerName}' does not exist in account '${account.name}'.`);
  if (code === 'KeyBasedAuthenticationNotPermitted') throw refused(datastore, `account '${account.name}' does not allow shared key access (allowSharedKeyAccess is false).`);
  if (code === 'AuthenticationFailed') {
    throw refused(datastore, datastore.credentialsType === 'AccountKey' ? `the key is not a current key of account '${account.name}' (it may have been regenerated).` : 'the SAS token is not valid (expired, or signed with a key that was regenerated).');
  }
  throw refused(datastore, `listing the container answered ${status}${code ? ` ${code}` : ''}.`);
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function probe(url: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'x-ms-version': '2021-08-06' }, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, code: res.headers['x-ms-error-code'] as string | undefined }));
    });
    req.on('timeout', () => req.destroy(new Error('the Blob service did not answer the validation request in time')));
    req.on('error', reject);
  });
}
