// Official-client plumbing shared by the storage scenarios.
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileSharedKeyCredential } from '@azure/storage-file-share';

/** Azurite's well-known development account, which mlspace also creates by default. */
export const DEV_ACCOUNT = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export const devCredential = new StorageSharedKeyCredential(DEV_ACCOUNT.name, DEV_ACCOUNT.key);
/** The same key for the File client, whose package has its own credential class. */
export const devFileCredential = new FileSharedKeyCredential(DEV_ACCOUNT.name, DEV_ACCOUNT.key);

/** A container client on `server`'s Blob endpoint, creating the container if it does not exist yet. */
export async function benchContainer(server, name) {
  const service = new BlobServiceClient(`${server.endpoints.blob}/${DEV_ACCOUNT.name}`, devCredential);
  const container = service.getContainerClient(name);
  await container.createIfNotExists();
  return container;
}

/** A share client on `server`'s File endpoint, creating the share if it does not exist yet. */
export async function benchShare(server, name) {
  const share = new ShareServiceClient(`${server.endpoints.file}/${DEV_ACCOUNT.name}`, devFileCredential).getShareClient(name);
  await share.createIfNotExists();
  return share;
}
