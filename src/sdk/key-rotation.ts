import type { ArmActions } from './arm-actions.js';
import { armClients, type ArmClients } from './arm-clients.js';
import { resolveConnection, type ConnectionOptions } from './connection.js';
import { MlspaceError } from './errors.js';

export type KeyName = 'key1' | 'key2';

/** One holder of an account credential, as listConsumers reports it (never the credential). */
export interface KeyConsumer {
  id: string;
  kind: 'workspace' | 'datastore';
  resourceGroup: string;
  workspaceName: string;
  datastoreName?: string;
  system?: boolean;
  datastoreType?: 'AzureBlob' | 'AzureFile';
  containerName?: string;
  fileShareName?: string;
  /** None: an identity-based datastore, which holds no credential (matches `keyless`). */
  credentialsType: 'AccountKey' | 'Sas' | 'None';
  matches: KeyName | 'stale' | 'unknown' | 'keyless';
  sas?: { kind: 'service' | 'account'; signedResource: string; permissions?: string; expiry: string | null; expired: boolean; signedWith: string; note?: string };
}

export interface KeyAge {
  creationTime: string;
  ageInDays: number;
  expiresOn?: string;
  expired?: boolean;
}

export interface KeyConsumers {
  id: string;
  name: string;
  resourceGroup: string;
  keyPolicy?: { keyExpirationPeriodInDays: number };
  keyAges: Record<KeyName, KeyAge>;
  activeKey: KeyName | 'both';
  /** `consumers` counts the key-based ones; `keyless` the datastores that hold no credential. */
  counts: { consumers: number; keyless: number } & Record<KeyName | 'stale' | 'unknown', number>;
  rotationInProgress?: { id: string; step: string; phase: string };
  allowSharedKeyAccess: boolean;
  /** What turning Shared Key access off would break: each consumer whose key or key-signed SAS works now, and what to do instead. */
  keylessReadiness: KeylessReadiness;
  value: KeyConsumer[];
}

export interface KeylessReadiness {
  ready: boolean;
  keyBased: number;
  keyless: number;
  blocking: { id: string; credentialsType: 'AccountKey' | 'Sas'; fix: string }[];
}

/** A rotation's async-operation status (docs/rotation.md). */
export interface RotationStatus {
  id: string;
  name: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
  properties: {
    plan: { retiredKey: KeyName; keptKey: KeyName; counts: Record<string, number>; attention: { id: string; action: string; reason?: string }[] } & Record<string, unknown>;
    step: string;
    phase: 'started' | 'done';
    attempts: number;
    counts: Record<string, number>;
    results: { id: string; action: string; state: string; detail?: string }[];
    warnings?: { id: string; reason: string }[];
    steps: { name: string; phase: string; time: string }[];
  };
}

export interface RotateOptions {
  /** The key to retire; by default the one the consumers use. */
  keyName?: KeyName;
  /** Re-sign SAS tokens signed with the retired key (same grant, kept key) instead of refusing to rotate. */
  reissueSas?: boolean;
  /** Called with each status polled while the rotation runs. */
  onProgress?: (status: RotationStatus) => void;
  pollIntervalMs?: number;
}

/** What a bulk rotation did with one account. */
export interface AccountRotationOutcome {
  id: string;
  accountName: string;
  resourceGroup: string;
  activeKey: KeyName | 'both';
  activeKeyAgeInDays?: number;
  action: 'started' | 'planned' | 'skipped';
  reason?: string;
  code?: string;
  plan?: Record<string, unknown>;
  operation?: RotationStatus & { azureAsyncOperation: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A storage account's keys as mlspace manages them: who holds them, and
 * zero-downtime rotation (docs/rotation.md). The server runs the rotation;
 * this starts it and follows it, as the CLI and any console do.
 *
 * @example
 * ```ts
 * const keys = await StorageAccountKeys.get('mystorageaccount', { resourceGroup: 'myresourcegroup' });
 * const { value } = await keys.consumers();
 * const done = await keys.rotate({ reissueSas: true });   // throws MlspaceError('RotationFailed') if rolled back
 * ```
 */
export class StorageAccountKeys {
  constructor(
    private readonly actions: ArmActions,
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly accountName: string,
  ) {}

  static async get(accountName: string, options: ConnectionOptions & { resourceGroup: string; subscriptionId?: string }): Promise<StorageAccountKeys> {
    const connection = resolveConnection(options);
    const subscriptionId = options.subscriptionId ?? connection.defaultSubscriptionId;
    if (!subscriptionId) throw new MlspaceError('StorageAccountKeys.get needs a subscriptionId when a credential is given.', 'InvalidArgument');
    return StorageAccountKeys.fromClients(armClients(connection, subscriptionId), options.resourceGroup, accountName);
  }

  static fromClients(arm: ArmClients, resourceGroup: string, accountName: string): StorageAccountKeys {
    return new StorageAccountKeys(arm.actions, arm.subscriptionId, resourceGroup, accountName);
  }

  private get path(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${this.accountName}`;
  }

  /** Every workspace and datastore holding one of the account's credentials, the key each matches, and the keys' ages. */
  async consumers(): Promise<KeyConsumers> {
    return (await this.actions.request<KeyConsumers>('POST', `${this.path}/listConsumers`)).body;
  }

  /** What a rotation would do, changing nothing (a dry run). */
  async plan(options: Pick<RotateOptions, 'keyName' | 'reissueSas'> = {}): Promise<Record<string, unknown>> {
    return (await this.actions.request<Record<string, unknown>>('POST', `${this.path}/rotateKeys`, { body: { ...options, dryRun: true } })).body;
  }

  /** Starts a rotation; the status URL is the Azure-AsyncOperation to follow with `wait`. */
  async beginRotate(options: Pick<RotateOptions, 'keyName' | 'reissueSas'> = {}): Promise<{ status: RotationStatus; statusUrl: string }> {
    const response = await this.actions.request<RotationStatus>('POST', `${this.path}/rotateKeys`, { body: { keyName: options.keyName, reissueSas: options.reissueSas } });
    return { status: response.body, statusUrl: response.headers['azure-asyncoperation'] as string };
  }

  /** Rotates and waits; a rotation that ended Failed (and was rolled back) throws MlspaceError('RotationFailed'). */
  async rotate(options: RotateOptions = {}): Promise<RotationStatus> {
    const { statusUrl } = await this.beginRotate(options);
    return this.wait(statusUrl, options);
  }

  async wait(statusUrl: string, options: Pick<RotateOptions, 'onProgress' | 'pollIntervalMs'> = {}): Promise<RotationStatus> {
    return waitForRotation(this.actions, statusUrl, options);
  }

  /** The account's recent rotations, newest first. */
  async rotations(): Promise<RotationStatus[]> {
    return (await this.actions.request<{ value: RotationStatus[] }>('GET', `${this.path}/rotations`)).body.value;
  }
}

/** Polls a rotation's status until it ends; Failed throws MlspaceError('RotationFailed') with the server's reason. */
export async function waitForRotation(actions: ArmActions, statusUrl: string, options: Pick<RotateOptions, 'onProgress' | 'pollIntervalMs'> = {}): Promise<RotationStatus> {
  for (;;) {
    const status = (await actions.request<RotationStatus>('GET', statusUrl)).body;
    options.onProgress?.(status);
    if (status.status === 'Failed') {
      throw new MlspaceError(`Key rotation ${status.name} failed and every consumer was restored: (${status.error?.code}) ${status.error?.message}`, 'RotationFailed');
    }
    if (status.status === 'Succeeded') return status;
    await sleep(options.pollIntervalMs ?? 250);
  }
}

/**
 * Rotates every account of a subscription (or of one resource group) whose
 * active key is older than `ifOlderThanDays`; each started rotation is its own
 * operation, returned with its status URL (see docs/rotation.md).
 */
export async function rotateAccountKeys(
  arm: ArmClients,
  options: { resourceGroup?: string; ifOlderThanDays?: number; reissueSas?: boolean; dryRun?: boolean },
): Promise<AccountRotationOutcome[]> {
  const scope = options.resourceGroup === undefined ? '' : `/resourceGroups/${options.resourceGroup}`;
  const body = { ifOlderThanDays: options.ifOlderThanDays, reissueSas: options.reissueSas, dryRun: options.dryRun };
  return (await arm.actions.request<{ value: AccountRotationOutcome[] }>('POST', `/subscriptions/${arm.subscriptionId}${scope}/providers/Microsoft.Storage/rotateKeys`, { body })).body.value;
}
