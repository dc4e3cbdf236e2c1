// Official-client plumbing shared by the storage scenarios.
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

/** Azurite's well-known development account, which mlspace also creates by default. */
export const DEV_ACCOUNT = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export const devCredential = new StorageSharedKeyCredential(DEV_ACCOUNT.name, DEV_ACCOUNT.key);

/** A container client on `server`'s Blob endpoint, creating the container if it does not exist yet. */
export async function benchContainer(server, name) {
  const service = new BlobServiceClient(`${server.endpoints.blob}/${DEV_ACCOUNT.name}`, devCredential);
  const container = service.getContainerClient(name);
  await container.createIfNotExists();
  return container;
}
