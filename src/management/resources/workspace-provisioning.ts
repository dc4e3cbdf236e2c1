import type { DatastoreRecord } from '../../db/datastores.js';
import type { StorageAccountRecord } from '../../db/records.js';
import { newContainer } from '../../storage/blob/containers.js';
import type { ManagementDeps } from '../deps.js';
import { defaultEndpoint } from './datastore-endpoints.js';

/**
 * What Azure ML sets up in a new workspace's storage account: a blob container
 * for the default datastore, the shared `azureml` container for run artifacts,
 * and a file share, each registered as a system datastore holding the
 * workspace's copy of key1.
 */
function systemStorage(workspaceId: string) {
  return [
    { name: 'workspaceblobstore', type: 'AzureBlob', container: `azureml-blobstore-${workspaceId}`, isDefault: true },
    { name: 'workspacefilestore', type: 'AzureFile', container: `azureml-filestore-${workspaceId}`, isDefault: false },
    { name: 'workspaceartifactstore', type: 'AzureBlob', container: 'azureml', isDefault: false },
  ] as const;
}

/**
 * Creates the containers (straight through the Blob service's repository; an
 * existing one, such as `azureml` shared by several workspaces, is kept) and
 * the file share, and returns the system
 * datastores to register.
 */
export async function provisionWorkspaceStorage(deps: ManagementDeps, workspaceId: string, account: StorageAccountRecord, now: number): Promise<DatastoreRecord[]> {
  const datastores: DatastoreRecord[] = [];
  for (const store of systemStorage(workspaceId)) {
    if (store.type === 'AzureBlob') await deps.blob.repo.createContainer(newContainer(account.name, store.container, {}, now));
    else await deps.file.createShare(account.name, store.container);
    datastores.push({
      workspaceId,
      name: store.name,
      system: true,
      isDefault: store.isDefault,
      type: store.type,
      accountName: account.name,
      containerName: store.container,
      ...defaultEndpoint(deps, store.type),
      credentialsType: 'AccountKey',
      secret: account.keys[0],
      tags: {},
      properties: {},
      created: now,
      modified: now,
    });
  }
  return datastores;
}
