import type { Sealer } from '../secrets/seal.js';
import type { DatastoreType } from './datastores.js';
import type { Db } from './sqlite.js';

/**
 * Something that holds a credential of a storage account: a workspace's copy
 * of the account key, or a datastore's account key, SAS token or service
 * principal's client secret.
 */
export interface CredentialHolder {
  /** Stable reference: `workspace:{workspaceId}` or `datastore:{workspaceId}/{name}`. */
  ref: string;
  kind: 'workspace' | 'datastore';
  workspaceId: string;
  workspaceName: string;
  resourceGroup: string;
  datastoreName?: string;
  system?: boolean;
  datastoreType?: DatastoreType;
  /** The container (AzureBlob) or share (AzureFile) a datastore names. */
  containerName?: string;
  credentialsType: 'AccountKey' | 'Sas' | 'ServicePrincipal';
  /** A principal's datastores span accounts: each names the one it reads (holdersOfPrincipal). */
  accountName?: string;
  /** The service principal whose secret a ServicePrincipal datastore holds. */
  clientId?: string;
  /** As stored (sealed); a rollback puts back exactly this. */
  sealed: string;
  /** Unsealed when read (so listing, which compares fingerprints, decrypts only SAS tokens); in memory only. */
  readonly secret: string;
}

/**
 * A datastore of the account that holds no key: none at all (credentialsType
 * None, accessed with an identity), or a service principal's secret. No key
 * change touches it.
 */
export interface KeylessHolder {
  workspaceName: string;
  resourceGroup: string;
  datastoreName: string;
  system: boolean;
  datastoreType: DatastoreType;
  containerName: string;
  credentialsType: 'None' | 'ServicePrincipal';
  /** The service principal whose secret it holds. */
  clientId?: string;
}

/** A datastore holding a service principal's secret, with the account it reads. */
export interface PrincipalHolder extends KeylessHolder {
  workspaceId: string;
  accountName: string;
}

/** The columns discovery reads of a keyless datastore, in every dialect. */
export interface KeylessRow {
  name: string;
  system: number;
  resource_group: string;
  workspace_name: string;
  type: DatastoreType;
  container: string;
  credentials_type: 'None' | 'ServicePrincipal';
  client_id: string | null;
}

/** Where a datastore is, from the columns every discovery query reads. */
function datastorePlace(row: Pick<KeylessRow, 'workspace_name' | 'resource_group' | 'name' | 'system' | 'type' | 'container'>) {
  return {
    workspaceName: row.workspace_name,
    resourceGroup: row.resource_group,
    datastoreName: row.name,
    system: row.system === 1,
    datastoreType: row.type,
    containerName: row.container,
  };
}

export function keylessHolder(row: KeylessRow): KeylessHolder {
  return {
    ...datastorePlace(row),
    credentialsType: row.credentials_type,
    ...(row.client_id !== null && { clientId: row.client_id }),
  };
}

/** A principal's datastore as discovery lists it, without its secret. */
export function principalHolder(holder: CredentialHolder): PrincipalHolder {
  return {
    workspaceName: holder.workspaceName,
    resourceGroup: holder.resourceGroup,
    datastoreName: holder.datastoreName!,
    system: holder.system ?? false,
    datastoreType: holder.datastoreType!,
    containerName: holder.containerName!,
    credentialsType: 'ServicePrincipal',
    clientId: holder.clientId,
    workspaceId: holder.workspaceId,
    accountName: holder.accountName!,
  };
}

/** The columns discovery reads of a workspace, in every dialect. */
export interface WorkspaceRow {
  id: string;
  resource_group: string;
  name: string;
  storage_key: string;
}

/** The columns discovery reads of a datastore (and its workspace), in every dialect. */
export interface DatastoreRow {
  workspace_id: string;
  name: string;
  system: number;
  secret: string;
  resource_group: string;
  workspace_name: string;
  type: DatastoreType;
  container: string;
  credentials_type: 'AccountKey' | 'Sas' | 'ServicePrincipal';
  /** Read for a principal's datastores only (holdersOfPrincipal). */
  account_name?: string;
  client_id?: string;
}

function workspaceRef(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}

function datastoreRef(workspaceId: string, name: string): string {
  return `datastore:${workspaceId}/${name}`;
}

/**
 * The credential holders of one storage account, across every workspace and
 * resource group, as every dialect stores them (the SQLite one below,
 * src/db/postgres/consumers.ts). Reads select only the columns discovery
 * needs, so listing ten thousand datastores parses no JSON documents in
 * JavaScript. The narrow writes a rotation makes to them (one secret column
 * each) are the dialect's own, inside the rotation store's transactions.
 */
export interface ConsumerStore {
  byAccount(account: string): Promise<CredentialHolder[]>;
  /** The account's datastores that hold no key, in the order byAccount lists holders. */
  keylessByAccount(account: string): Promise<KeylessHolder[]>;
  /** Every datastore, of any account, holding a secret of this service principal. */
  byServicePrincipal(clientId: string): Promise<PrincipalHolder[]>;
  /** The same datastores as credential holders, with their sealed secrets (what a secret reset moves). */
  principalHolders(clientId: string): Promise<CredentialHolder[]>;
  fingerprint(holder: CredentialHolder): Buffer;
  fingerprintOfSecret(secret: string): Buffer;
  unseal(sealed: string): string;
  seal(secret: string): string;
}

/** The columns a keyless datastore is read with (KeylessRow). */
const KEYLESS_COLUMNS = `SELECT d.name, d.system, w.resource_group, w.name AS workspace_name,
                json_extract(d.doc, '$.type') AS type, json_extract(d.doc, '$.containerName') AS container,
                json_extract(d.doc, '$.credentialsType') AS credentials_type, json_extract(d.doc, '$.servicePrincipal.clientId') AS client_id`;

/** The SQLite dialect's credential holders. */
export class ConsumerRepo implements ConsumerStore {
  private readonly stmt;

  constructor(
    db: Db,
    private readonly sealer: Sealer,
  ) {
    this.stmt = {
      // A workspace that reaches its account with its identity holds no key (systemDatastoresAuthMode identity).
      workspaces: db.prepare(
        `SELECT id, resource_group, name, storage_key FROM workspaces
          WHERE storage_account = ? AND coalesce(json_extract(doc, '$.systemDatastoresAuthMode'), 'accessKey') <> 'identity'
          ORDER BY resource_group, name`,
      ),
      datastores: db.prepare(
        `SELECT d.workspace_id, d.name, d.system, d.secret, w.resource_group, w.name AS workspace_name,
                json_extract(d.doc, '$.type') AS type, json_extract(d.doc, '$.containerName') AS container,
                json_extract(d.doc, '$.credentialsType') AS credentials_type
           FROM datastores d JOIN workspaces w ON w.id = d.workspace_id
          WHERE json_extract(d.doc, '$.accountName') = ? AND json_extract(d.doc, '$.credentialsType') IN ('AccountKey', 'Sas')
          ORDER BY w.resource_group, w.name, d.name`,
      ),
      keyless: db.prepare(
        `${KEYLESS_COLUMNS}
           FROM datastores d JOIN workspaces w ON w.id = d.workspace_id
          WHERE json_extract(d.doc, '$.accountName') = ? AND json_extract(d.doc, '$.credentialsType') IN ('None', 'ServicePrincipal')
          ORDER BY w.resource_group, w.name, d.name`,
      ),
      principalHolders: db.prepare(
        `SELECT d.workspace_id, d.name, d.system, d.secret, w.resource_group, w.name AS workspace_name,
                json_extract(d.doc, '$.type') AS type, json_extract(d.doc, '$.containerName') AS container,
                json_extract(d.doc, '$.credentialsType') AS credentials_type,
                json_extract(d.doc, '$.accountName') AS account_name, json_extract(d.doc, '$.servicePrincipal.clientId') AS client_id
           FROM datastores d JOIN workspaces w ON w.id = d.workspace_id
          WHERE json_extract(d.doc, '$.credentialsType') = 'ServicePrincipal' AND lower(json_extract(d.doc, '$.servicePrincipal.clientId')) = lower(?)
          ORDER BY w.resource_group, w.name, d.name`,
      ),
      workspaceSecret: db.prepare('SELECT storage_key FROM workspaces WHERE id = ?').pluck(),
      datastoreSecret: db.prepare('SELECT secret FROM datastores WHERE workspace_id = ? AND name = ?').pluck(),
      setWorkspaceSecret: db.prepare('UPDATE workspaces SET storage_key = ?, modified = ? WHERE id = ?'),
      setDatastoreSecret: db.prepare('UPDATE datastores SET secret = ?, modified = ? WHERE workspace_id = ? AND name = ?'),
    };
  }

  /** Every holder of a key-based credential of `account`; datastores that hold none, or a principal's secret, are left out. */
  async byAccount(account: string): Promise<CredentialHolder[]> {
    return this.holdersOf(account);
  }

  async keylessByAccount(account: string): Promise<KeylessHolder[]> {
    return (this.stmt.keyless.all(account) as KeylessRow[]).map(keylessHolder);
  }

  async byServicePrincipal(clientId: string): Promise<PrincipalHolder[]> {
    return this.holdersOfPrincipal(clientId).map(principalHolder);
  }

  async principalHolders(clientId: string): Promise<CredentialHolder[]> {
    return this.holdersOfPrincipal(clientId);
  }

  /** byAccount, within a transaction of this dialect (a rotation's). */
  holdersOf(account: string): CredentialHolder[] {
    return [
      ...(this.stmt.workspaces.all(account) as WorkspaceRow[]).map((row) => workspaceHolder(row, this.sealer)),
      ...(this.stmt.datastores.all(account) as DatastoreRow[]).map((row) => datastoreHolder(row, this.sealer)),
    ];
  }

  /** Every datastore holding a secret of the principal, with its sealed secret, within a transaction of this dialect (a rotation's). */
  holdersOfPrincipal(clientId: string): CredentialHolder[] {
    return (this.stmt.principalHolders.all(clientId) as DatastoreRow[]).map((row) => datastoreHolder(row, this.sealer));
  }

  /**
   * The keyed fingerprint of a holder's secret, read from its sealed text (see
   * Sealer), so listing ten thousand holders compares account keys without
   * decrypting any of them.
   */
  fingerprint(holder: CredentialHolder): Buffer {
    return this.sealer.fingerprintOf(holder.sealed);
  }

  /** The fingerprint a secret would have sealed, to compare the account's own keys with. */
  fingerprintOfSecret(secret: string): Buffer {
    return this.sealer.fingerprint(secret);
  }

  /** The sealed credential a holder has now, within a transaction of this dialect; undefined when it no longer exists (deleted meanwhile). */
  sealedOf(ref: string): string | undefined {
    const { kind, workspaceId, name } = parseRef(ref);
    const sealed = kind === 'workspace' ? this.stmt.workspaceSecret.get(workspaceId) : this.stmt.datastoreSecret.get(workspaceId, name);
    return (sealed as string | null | undefined) ?? undefined;
  }

  unseal(sealed: string): string {
    return this.sealer.unseal(sealed);
  }

  seal(secret: string): string {
    return this.sealer.seal(secret);
  }

  /** Replaces a holder's credential with an already sealed one, within a transaction of this dialect, with its journal entry. */
  writeSealed(ref: string, sealed: string, modified: number): void {
    const { kind, workspaceId, name } = parseRef(ref);
    if (kind === 'workspace') this.stmt.setWorkspaceSecret.run(sealed, modified, workspaceId);
    else this.stmt.setDatastoreSecret.run(sealed, modified, workspaceId, name);
  }
}

/** A workspace's copy of its account's key, as a holder; the secret is unsealed when read. */
export function workspaceHolder(row: WorkspaceRow, sealer: Sealer): CredentialHolder {
  return {
    ref: workspaceRef(row.id),
    kind: 'workspace',
    workspaceId: row.id,
    workspaceName: row.name,
    resourceGroup: row.resource_group,
    credentialsType: 'AccountKey',
    sealed: row.storage_key,
    get secret() {
      return sealer.unseal(this.sealed);
    },
  };
}

/** A datastore's account key or SAS token, as a holder; the secret is unsealed when read. */
export function datastoreHolder(row: DatastoreRow, sealer: Sealer): CredentialHolder {
  return {
    ref: datastoreRef(row.workspace_id, row.name),
    kind: 'datastore',
    workspaceId: row.workspace_id,
    ...datastorePlace(row),
    credentialsType: row.credentials_type,
    ...(row.account_name !== undefined && { accountName: row.account_name }),
    ...(row.client_id !== undefined && { clientId: row.client_id }),
    sealed: row.secret,
    get secret() {
      return sealer.unseal(this.sealed);
    },
  };
}

export function parseRef(ref: string): { kind: 'workspace' | 'datastore'; workspaceId: string; name: string } {
  if (ref.startsWith('workspace:')) return { kind: 'workspace', workspaceId: ref.slice('workspace:'.length), name: '' };
  const rest = ref.slice('datastore:'.length);
  const slash = rest.indexOf('/');
  return { kind: 'datastore', workspaceId: rest.slice(0, slash), name: rest.slice(slash + 1) };
}
