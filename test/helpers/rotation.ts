import { BlobServiceClient, ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileSharedKeyCredential } from '@azure/storage-file-share';
import { armRequest, type ClientSecret, managementClients } from './management.js';
import type { TestServer } from './server.js';

export function accountPath(server: TestServer, group: string, account: string): string {
  return `/subscriptions/${server.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${account}`;
}

/** GET of an absolute operation URL the server handed out (Azure-AsyncOperation, Location). */
export function getOperation(server: TestServer, token: string, url: string) {
  const parsed = new URL(url);
  return armRequest(server, 'GET', parsed.pathname, { token, apiVersion: parsed.searchParams.get('api-version') });
}

/** Polls a rotation's status resource until it is no longer InProgress. */
export async function waitForRotation(server: TestServer, token: string, statusUrl: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await getOperation(server, token, statusUrl);
    if (response.status !== 200) throw new Error(`rotation status answered ${response.status}: ${response.text}`);
    if (response.json.status !== 'InProgress') return response.json;
    if (Date.now() > deadline) throw new Error(`rotation still InProgress after ${timeoutMs} ms: ${response.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The latest rotation of an account, as its list shows it (for a client that lost the operation URL in a crash). */
export async function latestRotation(server: TestServer, token: string, group: string, account: string): Promise<any> {
  const response = await armRequest(server, 'GET', `${accountPath(server, group, account)}/rotations`, { token });
  if (response.status !== 200) throw new Error(`rotations answered ${response.status}: ${response.text}`);
  return response.json.value[0];
}

export interface HeldCredential {
  credentialsType: 'AccountKey' | 'Sas';
  secret: string;
}

/** What a consumer holds now, read the way its client reads it: workspace listKeys or datastore listSecrets. */
export async function heldCredential(server: TestServer, secret: ClientSecret, group: string, workspace: string, datastore?: string): Promise<HeldCredential> {
  const { ml } = managementClients(server, secret);
  if (datastore === undefined) return { credentialsType: 'AccountKey', secret: (await ml.workspaces.listKeys(group, workspace)).userStorageKey! };
  const secrets = (await ml.datastores.listSecrets(group, workspace, datastore)) as { secretsType: string; key?: string; sasToken?: string };
  return secrets.secretsType === 'Sas' ? { credentialsType: 'Sas', secret: secrets.sasToken! } : { credentialsType: 'AccountKey', secret: secrets.key! };
}

/** A container client signing with what a consumer holds. */
export function containerWith(server: TestServer, account: string, container: string, held: HeldCredential): ContainerClient {
  if (held.credentialsType === 'Sas') return new ContainerClient(`${server.blob}/${account}/${container}?${held.secret.replace(/^\?/, '')}`);
  return new BlobServiceClient(`${server.blob}/${account}`, new StorageSharedKeyCredential(account, held.secret)).getContainerClient(container);
}

/** A real write and a real listing through the Blob service with the credential; throws (403) when it is refused. */
export async function writeAndList(server: TestServer, account: string, container: string, held: HeldCredential, blob = 'probe.txt'): Promise<void> {
  const client = containerWith(server, account, container, held);
  await client.getBlockBlobClient(blob).upload('ok', 2);
  for await (const _ of client.listBlobsFlat()) break;
}

/** The same through the File service: create a file in the share's root and list the root. */
export async function writeAndListFiles(server: TestServer, account: string, share: string, held: HeldCredential, file = 'probe.txt'): Promise<void> {
  const service =
    held.credentialsType === 'Sas'
      ? new ShareServiceClient(`${server.file}/${account}?${held.secret.replace(/^\?/, '')}`)
      : new ShareServiceClient(`${server.file}/${account}`, new FileSharedKeyCredential(account, held.secret));
  const root = service.getShareClient(share).rootDirectoryClient;
  await root.getFileClient(file).uploadData(Buffer.from('ok'));
  for await (const _ of root.listFilesAndDirectories()) break;
}
