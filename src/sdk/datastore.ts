import fs from 'node:fs';
import path from 'node:path';
import type { Datastore as ArmDatastore, AzureBlobDatastore, AzureFileDatastore, ServicePrincipalDatastoreCredentials } from '@azure/arm-machinelearning';
import { ClientSecretCredential } from '@azure/identity';
import { explainRefusal, type CredentialHolder } from './credential-refusal.js';
import { datastoreResource, type DatastoreRegistration } from './datastore-registration.js';
import type { DatastoreType, HeldCredential, TransferOptions, TransferResult } from './datastore-types.js';
import { MlspaceError } from './errors.js';
import { targetAt, type StorageTarget } from './storage-target.js';
import { datastoreServiceUrl, tokenServiceUrl } from './storage-url.js';
import { downloadPlanned, filesUnder, joinRemote, localPathUnder, uploadPlanned } from './transfer.js';
import type { Workspace } from './workspace.js';

/** The datastores Azure ML creates with a workspace, on its storage account; sync-keys renews their keys. */
const SYSTEM_DATASTORES = new Set(['workspaceblobstore', 'workspacefilestore', 'workspaceartifactstore']);

interface RegisterOptions {
  workspace: Workspace;
  datastoreName: string;
  accountName: string;
  /** The account key to register; give this or `sasToken` (or neither, for a datastore without credentials). */
  accountKey?: string;
  sasToken?: string;
  /** Replace an existing registration of the same name (e.g. with a regenerated key). Without it, an existing name is an error. */
  overwrite?: boolean;
  /** Storage DNS suffix, or `host:port` for this server; the server's own by default. */
  endpoint?: string;
  protocol?: string;
  description?: string;
  tags?: Record<string, string>;
  /** Register without checking the credential against the storage account first. */
  skipValidation?: boolean;
}

export interface RegisterBlobContainerOptions extends RegisterOptions {
  containerName: string;
}

export interface RegisterFileShareOptions extends RegisterOptions {
  fileShareName: string;
}

export interface UploadFilesOptions extends TransferOptions {
  /** Datastore paths keep each file's path relative to this directory; by default only its file name. */
  relativeRoot?: string;
  /** The datastore directory to upload into. */
  targetPath?: string;
}

export interface DownloadOptions extends TransferOptions {
  /** Only files whose datastore path starts with this. */
  prefix?: string;
}

/** What a datastore operation signs with, and who to name if the account refuses it. */
export interface StorageAccess {
  credential: HeldCredential;
  holder: CredentialHolder;
}

/**
 * A datastore registered in a workspace: the TypeScript counterpart of
 * azureml's `AzureBlobDatastore` / `AzureFileDatastore`. Uploads and
 * downloads sign with the credential the registration holds (listSecrets), so
 * a registration holding a regenerated key fails, with an error naming the
 * datastore, the account and the fix.
 */
export class Datastore {
  readonly name: string;
  readonly datastoreType: DatastoreType;
  readonly accountName: string;
  /** The container (AzureBlob), or the file share (AzureFile) as azureml's `container_name` also gives it. */
  readonly containerName: string;
  /** The file share, for AzureFile datastores. */
  readonly fileShareName?: string;
  readonly endpoint: string;
  readonly protocol: string;
  readonly isDefault: boolean;
  readonly credentialsType: string;
  /** The principal a ServicePrincipal datastore signs in as (its secret comes from listSecrets). */
  readonly servicePrincipal?: { tenantId: string; clientId: string; authorityUrl?: string };
  readonly description?: string;
  readonly tags: Record<string, string | null>;
  /** The datastore's ARM id. */
  readonly id: string;

  private constructor(
    readonly workspace: Workspace,
    resource: ArmDatastore,
  ) {
    const type: string = resource.properties.datastoreType;
    if (type !== 'AzureBlob' && type !== 'AzureFile') {
      throw new MlspaceError(`Datastore '${resource.name}' is of type ${type}, which this SDK does not handle (AzureBlob and AzureFile only).`, 'InvalidArgument');
    }
    const properties = resource.properties as AzureBlobDatastore | AzureFileDatastore;
    this.name = resource.name!;
    this.id = resource.id!;
    this.datastoreType = properties.datastoreType;
    this.accountName = properties.accountName!;
    this.fileShareName = properties.datastoreType === 'AzureFile' ? properties.fileShareName : undefined;
    this.containerName = properties.datastoreType === 'AzureFile' ? properties.fileShareName : properties.containerName!;
    this.endpoint = properties.endpoint ?? 'core.windows.net';
    this.protocol = properties.protocol ?? 'https';
    this.isDefault = properties.isDefault ?? false;
    this.credentialsType = properties.credentials.credentialsType;
    if (properties.credentials.credentialsType === 'ServicePrincipal') {
      const { tenantId, clientId, authorityUrl } = properties.credentials as ServicePrincipalDatastoreCredentials;
      this.servicePrincipal = { tenantId, clientId, authorityUrl };
    }
    this.description = properties.description;
    this.tags = properties.tags ?? {};
  }

  /** @internal Built by Workspace and the register functions from what the service returned. */
  static fromResource(workspace: Workspace, resource: ArmDatastore): Datastore {
    return new Datastore(workspace, resource);
  }

  /** A registered datastore by name (azureml's `Datastore.get`); the service's 404 when there is none. */
  static async get(workspace: Workspace, datastoreName: string): Promise<Datastore> {
    return new Datastore(workspace, await workspace.arm.ml.datastores.get(workspace.resourceGroup, workspace.name, datastoreName));
  }

  /**
   * Registers a blob container as a datastore, as azureml's
   * `Datastore.register_azure_blob_container`. To point an existing datastore
   * at a regenerated key, register it again with `overwrite: true`.
   */
  static registerAzureBlobContainer(options: RegisterBlobContainerOptions): Promise<Datastore> {
    return Datastore.register(options.workspace, { ...registration(options), type: 'AzureBlob', container: options.containerName }, options);
  }

  /** Registers a file share as a datastore, as azureml's `Datastore.register_azure_file_share`. */
  static registerAzureFileShare(options: RegisterFileShareOptions): Promise<Datastore> {
    return Datastore.register(options.workspace, { ...registration(options), type: 'AzureFile', container: options.fileShareName }, options);
  }

  /** Registers (or with `overwrite`, re-registers) a datastore; the server checks the credential unless `skipValidation`. */
  static async register(workspace: Workspace, registration: DatastoreRegistration, options: { overwrite?: boolean; skipValidation?: boolean } = {}): Promise<Datastore> {
    const body = datastoreResource(registration);
    if (!options.overwrite && (await exists(workspace, registration.name))) {
      throw new MlspaceError(
        `Datastore '${registration.name}' is already registered in workspace '${workspace.name}'. Pass overwrite: true to replace its registration (for example to give it a regenerated key).`,
        'DatastoreExists',
      );
    }
    const saved = await workspace.arm.ml.datastores.createOrUpdate(workspace.resourceGroup, workspace.name, registration.name, body, { skipValidation: options.skipValidation });
    return new Datastore(workspace, saved);
  }

  /**
   * Uploads every file under `srcDir` to `targetPath` (azureml's `upload`).
   * Files that exist in the datastore are skipped unless `overwrite`.
   */
  async upload(srcDir: string, targetPath = '', options: TransferOptions = {}): Promise<TransferResult> {
    const files = filesUnder(srcDir).map((file) => ({ localPath: file.localPath, remotePath: joinRemote(targetPath, file.relative), size: file.size }));
    return this.withStorage(await this.ownAccess(), (target) => uploadPlanned(target, files, options));
  }

  /** Uploads the given files (azureml's `upload_files`). */
  async uploadFiles(files: string[], options: UploadFilesOptions = {}): Promise<TransferResult> {
    const planned = files.map((file) => {
      const relative = options.relativeRoot ? path.relative(options.relativeRoot, file) : path.basename(file);
      if (relative.startsWith('..') || path.isAbsolute(relative)) {
        throw new MlspaceError(`${file} is not under relativeRoot ${options.relativeRoot}.`, 'InvalidArgument');
      }
      return { localPath: file, remotePath: joinRemote(options.targetPath, relative), size: fs.statSync(file).size };
    });
    return this.withStorage(await this.ownAccess(), (target) => uploadPlanned(target, planned, options));
  }

  /** The paths of the datastore's files that start with `prefix`; a read that also shows whether the held credential works. */
  async listFiles(prefix = ''): Promise<string[]> {
    return this.withStorage(await this.ownAccess(), async (target) => {
      const paths: string[] = [];
      for await (const file of target.list(joinRemote(prefix))) paths.push(file.path);
      return paths;
    });
  }

  /** Downloads the datastore's files (those under `prefix`) into `targetPath`, keeping their paths (azureml's `download`). */
  async download(targetPath: string, options: DownloadOptions = {}): Promise<TransferResult> {
    return this.withStorage(await this.ownAccess(), async (target) => {
      const planned = [];
      for await (const file of target.list(joinRemote(options.prefix))) {
        planned.push({ localPath: localPathUnder(targetPath, file.path), remotePath: file.path, size: file.size });
      }
      return downloadPlanned(target, planned, options);
    });
  }

  /**
   * @internal What the datastore's registration says to sign with: its key or
   * SAS (listSecrets); for a datastore without credentials, the caller's own
   * identity, as az ml uses it; for a service-principal one, a token of that
   * principal.
   */
  async ownAccess(): Promise<StorageAccess> {
    const holder: CredentialHolder = {
      workspace: this.workspace.name,
      resourceGroup: this.workspace.resourceGroup,
      datastore: { name: this.name, type: this.datastoreType },
      renewedBySyncKeys: SYSTEM_DATASTORES.has(this.name) && this.accountName === this.workspace.storageAccountName,
    };
    const connection = this.workspace.arm.connection;
    if (this.credentialsType === 'None') return { credential: { type: 'Token', credential: connection.credential, identity: 'the signed-in identity' }, holder };
    const secrets = (await this.workspace.arm.ml.datastores.listSecrets(this.workspace.resourceGroup, this.workspace.name, this.name)) as {
      secretsType: string;
      key?: string;
      sasToken?: string;
      clientSecret?: string;
    };
    if (secrets.secretsType === 'AccountKey' && secrets.key) return { credential: { type: 'AccountKey', key: secrets.key }, holder };
    if (secrets.secretsType === 'Sas' && secrets.sasToken) return { credential: { type: 'Sas', sasToken: secrets.sasToken }, holder };
    if (secrets.secretsType === 'ServicePrincipal' && secrets.clientSecret && this.servicePrincipal) {
      const { tenantId, clientId, authorityUrl } = this.servicePrincipal;
      const credential = new ClientSecretCredential(tenantId, clientId, secrets.clientSecret, {
        // A mlspace server is its own authority, with no Azure instance metadata to discover.
        ...(connection.authorityHost ? { authorityHost: connection.authorityHost, disableInstanceDiscovery: true } : authorityUrl ? { authorityHost: authorityUrl } : {}),
        ...connection.clientOptions,
      });
      return { credential: { type: 'Token', credential, identity: `service principal '${clientId}'` }, holder };
    }
    throw new MlspaceError(`Datastore '${this.name}' holds ${secrets.secretsType} secrets, which this SDK cannot sign storage requests with.`, 'InvalidArgument');
  }

  /**
   * @internal Runs storage work on this datastore's container or share with
   * the given access; a refusal of the held credential becomes an error that
   * names the holder, the account and the fix.
   */
  async withStorage<T>(access: StorageAccess, work: (target: StorageTarget) => Promise<T>): Promise<T> {
    const target = targetAt(this.datastoreType, this.serviceUrl(access), this.accountName, this.containerName, access.credential, this.tls(access));
    try {
      return await work(target);
    } catch (error) {
      const accountId = this.accountName === this.workspace.storageAccountName ? this.workspace.storageAccountId : undefined;
      throw await explainRefusal(error, this.workspace.arm, access.holder, { name: this.accountName, id: accountId }, access.credential);
    }
  }

  /** A token goes to an HTTPS endpoint, which on a mlspace server has a certificate of its local CA. */
  private tls(access: StorageAccess): { ca?: Buffer } {
    const { caFile } = this.workspace.arm.connection;
    return access.credential.type === 'Token' && caFile ? { ca: fs.readFileSync(caFile) } : {};
  }

  /** The account's service URL; over HTTPS for a token, which is never sent in the clear. */
  private serviceUrl(access: StorageAccess): string {
    const url = datastoreServiceUrl(this.datastoreType, this.accountName, this.endpoint, this.protocol);
    if (access.credential.type !== 'Token') return url;
    const secure = tokenServiceUrl(url, this.workspace.arm.connection.dataPlane);
    if (secure) return secure;
    throw new MlspaceError(
      `Datastore '${this.name}' is reached at ${url}, over plain HTTP, and it is accessed with ${access.credential.identity}, whose tokens are sent only over HTTPS. ` +
        `Re-register it with protocol https and the account's HTTPS endpoint (blobHttps or fileHttps in a mlspace server's endpoints.json).`,
      'InvalidArgument',
    );
  }
}

function registration(options: RegisterOptions): Omit<DatastoreRegistration, 'type' | 'container'> {
  return {
    name: options.datastoreName,
    accountName: options.accountName,
    accountKey: options.accountKey,
    sasToken: options.sasToken,
    endpoint: options.endpoint,
    protocol: options.protocol,
    description: options.description,
    tags: options.tags,
  };
}

async function exists(workspace: Workspace, name: string): Promise<boolean> {
  try {
    await workspace.arm.ml.datastores.get(workspace.resourceGroup, workspace.name, name);
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}
