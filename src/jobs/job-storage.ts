import { createHmac } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { DatastoreRecord } from '../db/datastores.js';
import type { StorageAccountRecord } from '../db/records.js';
import type { WorkspaceRecord } from '../db/workspaces.js';
import type { ManagementDeps } from '../management/deps.js';
import { clientSecretMatches } from '../management/identity/client-secret.js';
import { STORAGE_AUDIENCE } from '../management/identity/tokens.js';
import type { HeldCredential } from '../sdk/datastore-types.js';
import { targetAt, type StorageTarget } from '../sdk/storage-target.js';

/** A job's storage failed in a way the job's error should say as it is: it names the holder, the cause and the fix. */
export class JobStorageError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A container or share a job reads or writes, signed with what its holder holds now. */
export interface StorageAccess {
  target: StorageTarget;
  /** A fingerprint of the credential (never the credential): a retry uses it to tell whether a rotation moved the holder meanwhile. */
  fingerprint: string;
  /** Why the account refused the credential, naming the holder and the fix. */
  explain(error: unknown): Promise<string>;
}

interface RestError {
  statusCode?: number;
  code?: string;
  details?: { errorCode?: string };
}

function errorCode(error: unknown): string | undefined {
  const rest = error as RestError | undefined;
  return rest?.code ?? rest?.details?.errorCode;
}

/** A refusal of the credential (not a missing blob): what a retry with a moved credential may cure. */
function isRefusal(error: unknown): boolean {
  const status = (error as RestError | undefined)?.statusCode;
  return status === 401 || status === 403;
}

/** "key1 was regenerated at T", from the account's key creation times. */
function lastRegeneration(account: StorageAccountRecord): string {
  const [name, created] = account.keyCreated[1] > account.keyCreated[0] ? ['key2', account.keyCreated[1]] : ['key1', account.keyCreated[0]];
  return created > account.created ? `${name} was regenerated at ${new Date(created).toISOString()}` : 'neither key has been regenerated since the account was created';
}

/**
 * Where a job's storage goes, and with which credential, as Azure ML does it:
 * inputs are read with the credential of the datastore they name; the code
 * snapshot, logs and outputs in the workspace's default datastore are read and
 * written with the workspace's own copy of its account key (its identity once
 * on identity access). Every transfer takes the credential afresh, so one
 * started after a rotation moved a holder uses the new one.
 */
export class JobStorage {
  constructor(
    private readonly deps: ManagementDeps,
    private readonly workspace: Pick<WorkspaceRecord, 'id' | 'resourceGroup' | 'name'>,
  ) {}

  /** Runs `work` on the access `load` gives; once more, with access loaded again, when the credential was refused and has changed since. */
  async with<T>(load: () => Promise<StorageAccess>, work: (target: StorageTarget) => Promise<T>): Promise<T> {
    const access = await load();
    try {
      return await work(access.target);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const again = await load();
      if (again.fingerprint !== access.fingerprint) return work(again.target);
      throw new JobStorageError(await access.explain(error), 'StorageAccessRefused');
    }
  }

  private async current(): Promise<WorkspaceRecord> {
    const workspace = await this.deps.workspaces.get(this.workspace.resourceGroup, this.workspace.name);
    if (!workspace) throw new JobStorageError(`Workspace '${this.workspace.name}' was deleted while the job ran.`, 'WorkspaceNotFound');
    return workspace;
  }

  private async datastoreRecord(name: string): Promise<DatastoreRecord> {
    const datastore = await this.deps.datastores.get(this.workspace.id, name);
    if (!datastore) throw new JobStorageError(`Datastore '${name}' of workspace '${this.workspace.name}' was deleted; register it again.`, 'DatastoreNotFound');
    return datastore;
  }

  /**
   * The container or share datastore `name` reads. Paths in the workspace's
   * own storage (a system datastore on its account) with `asWorkspace` go
   * through the workspace's key copy, as Azure ML writes its artifacts.
   */
  async datastore(name: string, asWorkspace = false): Promise<StorageAccess> {
    const [workspace, datastore] = await Promise.all([this.current(), this.datastoreRecord(name)]);
    if (asWorkspace && datastore.system && datastore.accountName === workspace.storageAccount) return this.workspaceAccess(workspace, datastore);
    return this.datastoreAccess(workspace, datastore);
  }

  private workspaceAccess(workspace: WorkspaceRecord, datastore: DatastoreRecord): StorageAccess {
    if (workspace.settings.systemDatastoresAuthMode === 'identity') {
      return this.tokenAccess(datastore, workspace.settings.identity!.principalId, `the identity of workspace '${workspace.name}'`);
    }
    return this.keyAccess(datastore, { type: 'AccountKey', key: workspace.storageKey }, async (account) =>
      account.keys.includes(workspace.storageKey)
        ? undefined
        : `The key workspace '${workspace.name}' holds for its storage account '${account.name}' is no longer key1 or key2 (${lastRegeneration(account)}). To fix it, ${syncKeys(workspace)}.`,
    );
  }

  private async datastoreAccess(workspace: WorkspaceRecord, datastore: DatastoreRecord): Promise<StorageAccess> {
    const holder = `datastore '${datastore.name}' of workspace '${workspace.name}'`;
    const reRegister = datastore.system
      ? syncKeys(workspace)
      : `re-register the datastore with a current one: mlspace ml datastore create --file <datastore.yml> -w ${workspace.name} -g ${workspace.resourceGroup} (sync-keys does not update user datastores)`;
    switch (datastore.credentialsType) {
      case 'AccountKey':
        return this.keyAccess(datastore, { type: 'AccountKey', key: datastore.secret! }, async (account) =>
          account.keys.includes(datastore.secret!)
            ? undefined
            : `The key held by ${holder} is no longer key1 or key2 of storage account '${account.name}' (${lastRegeneration(account)}). To fix it, ${reRegister}.`,
        );
      case 'Sas':
        return this.keyAccess(datastore, { type: 'Sas', sasToken: datastore.secret! }, async (account) =>
          `Storage account '${account.name}' refused the SAS token held by ${holder}: it expired, or was signed with a key since regenerated (${lastRegeneration(account)}). To fix it, ${reRegister.replace('a current one', 'a new SAS token')}.`,
        );
      case 'ServicePrincipal': {
        const clientId = datastore.servicePrincipal!.clientId;
        const principal = await this.deps.directory.getPrincipal(clientId);
        // The server could mint a token for anyone: it does only for a secret that still signs in, as the authority would.
        if (!principal || !clientSecretMatches(datastore.secret!, principal.secretHash)) {
          throw new JobStorageError(
            `The client secret held by ${holder} no longer signs in as service principal '${clientId}'. To fix it, re-register the datastore with its current secret (mlspace ad sp credential reset moves every datastore for you).`,
            'StorageAccessRefused',
          );
        }
        return this.tokenAccess(datastore, clientId, `service principal '${clientId}' (${holder})`);
      }
      default:
        return this.tokenAccess(datastore, workspace.settings.identity!.principalId, `the identity of workspace '${workspace.name}' (${holder} holds no credential)`);
    }
  }

  /** A key or SAS, over plain HTTP; `stale` says why the account refuses it, when that can be told. */
  private keyAccess(datastore: DatastoreRecord, credential: HeldCredential & { type: 'AccountKey' | 'Sas' }, stale: (account: StorageAccountRecord) => Promise<string | undefined>): StorageAccess {
    const endpoint = datastore.type === 'AzureBlob' ? this.deps.blob.endpoint : this.deps.file.endpoint;
    const secret = credential.type === 'AccountKey' ? credential.key : credential.sasToken;
    return {
      target: targetAt(datastore.type, `${endpoint}/${datastore.accountName}`, datastore.accountName, datastore.containerName, credential),
      fingerprint: createHmac('sha256', 'job-credential').update(secret).digest('base64'),
      explain: async (error) => {
        const account = await this.deps.accounts.get(datastore.accountName);
        if (!account) return `Storage account '${datastore.accountName}' of datastore '${datastore.name}' no longer exists.`;
        if (errorCode(error) === 'KeyBasedAuthenticationNotPermitted') {
          return `Storage account '${account.name}' does not allow Shared Key access any more, so datastore '${datastore.name}' cannot be reached with a key; move it to identity access (mlspace storage account keyless migrate).`;
        }
        return (await stale(account)) ?? `Storage account '${account.name}' refused the credential of datastore '${datastore.name}': ${describe(error)}.`;
      },
    };
  }

  /** A token for `principalId`, over HTTPS with the server's CA, as bearer tokens travel. */
  private tokenAccess(datastore: DatastoreRecord, principalId: string, who: string): StorageAccess {
    const { deps } = this;
    const credential: TokenCredential = {
      async getToken() {
        const issued = await deps.tokens.issue(principalId, `${deps.armEndpoint}/${deps.tenantId}/v2.0`, STORAGE_AUDIENCE);
        return { token: issued.accessToken, expiresOnTimestamp: Date.now() + issued.expiresIn * 1000 };
      },
    };
    const endpoint = datastore.type === 'AzureBlob' ? deps.dataPlaneHttps.blob : deps.dataPlaneHttps.file;
    const role = datastore.type === 'AzureBlob' ? 'Storage Blob Data Contributor' : 'Storage File Data Privileged Contributor';
    return {
      target: targetAt(datastore.type, `${endpoint}/${datastore.accountName}`, datastore.accountName, datastore.containerName, { type: 'Token', credential, identity: who }, { ca: deps.dataPlaneHttps.ca }),
      fingerprint: `token ${principalId}`,
      explain: async (error) =>
        `Storage account '${datastore.accountName}' refused ${who} access to '${datastore.containerName}' (${describe(error)}): give it a data role there, e.g. mlspace role assignment create --assignee ${principalId} --role "${role}" --scope <account id>.`,
    };
  }
}

/** The fix for a stale key copy of the workspace's (its own, or its system datastores'). */
function syncKeys(workspace: WorkspaceRecord): string {
  return `run: mlspace ml workspace sync-keys -n ${workspace.name} -g ${workspace.resourceGroup}`;
}

function describe(error: unknown): string {
  const status = (error as RestError | undefined)?.statusCode;
  return status ? `${status} ${errorCode(error) ?? ''}`.trim() : (error as Error).message.split('\n')[0]!;
}
