import type pg from 'pg';
import type { Sealer } from '../../secrets/seal.js';
import type { Queryable } from './sql.js';
import {
  datastoreHolder,
  keylessHolder,
  parseRef,
  principalHolder,
  workspaceHolder,
  type ConsumerStore,
  type CredentialHolder,
  type DatastoreRow,
  type KeylessHolder,
  type KeylessRow,
  type PrincipalHolder,
  type WorkspaceRow,
} from '../consumers.js';

/** The columns a keyless datastore is read with (KeylessRow). */
const KEYLESS_COLUMNS = `SELECT d.name, d.system, w.resource_group, w.name AS workspace_name,
              d.doc::jsonb ->> 'type' AS type, d.doc::jsonb ->> 'containerName' AS container,
              d.doc::jsonb ->> 'credentialsType' AS credentials_type, d.doc::jsonb -> 'servicePrincipal' ->> 'clientId' AS client_id`;

/**
 * The PostgreSQL dialect's credential holders, with the reads and writes a
 * rotation makes inside its own transactions (they take the transaction's client).
 */
export class PgConsumerRepo implements ConsumerStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
  ) {}

  byAccount(account: string): Promise<CredentialHolder[]> {
    return this.holdersOf(this.pool, account);
  }

  async keylessByAccount(account: string): Promise<KeylessHolder[]> {
    const { rows } = await this.pool.query<KeylessRow>(
      `${KEYLESS_COLUMNS}
         FROM datastores d JOIN workspaces w ON w.id = d.workspace_id
        WHERE (d.doc::jsonb ->> 'accountName') = $1 AND (d.doc::jsonb ->> 'credentialsType') IN ('None', 'ServicePrincipal')
        ORDER BY w.resource_group, w.name, d.name COLLATE "C"`,
      [account],
    );
    return rows.map(keylessHolder);
  }

  async byServicePrincipal(clientId: string): Promise<PrincipalHolder[]> {
    return (await this.holdersOfPrincipal(this.pool, clientId)).map(principalHolder);
  }

  principalHolders(clientId: string): Promise<CredentialHolder[]> {
    return this.holdersOfPrincipal(this.pool, clientId);
  }

  /** Every holder of a credential of `account`, in the order the SQLite dialect answers them. */
  async holdersOf(q: Queryable, account: string): Promise<CredentialHolder[]> {
    const workspaces = await q.query<WorkspaceRow>(
      `SELECT id, resource_group, name, storage_key FROM workspaces
        WHERE storage_account = $1 AND coalesce(doc::jsonb ->> 'systemDatastoresAuthMode', 'accessKey') <> 'identity'
        ORDER BY resource_group, name`,
      [account],
    );
    const datastores = await q.query<DatastoreRow>(
      `SELECT d.workspace_id, d.name, d.system, d.secret, w.resource_group, w.name AS workspace_name,
              d.doc::jsonb ->> 'type' AS type, d.doc::jsonb ->> 'containerName' AS container,
              d.doc::jsonb ->> 'credentialsType' AS credentials_type
         FROM datastores d JOIN workspaces w ON w.id = d.workspace_id
        WHERE (d.doc::jsonb ->> 'accountName') = $1 AND (d.doc::jsonb ->> 'credentialsType') IN ('AccountKey', 'Sas')
        ORDER BY w.resource_group, w.name, d.name COLLATE "C"`,
      [account],
    );
    return [...workspaces.rows.map((row) => workspaceHolder(row, this.sealer)), ...datastores.rows.map((row) => datastoreHolder(row, this.sealer))];
  }

  /** Every datastore holding a secret of the principal, with its sealed secret, inside the caller's transaction. */
  async holdersOfPrincipal(q: Queryable, clientId: string): Promise<CredentialHolder[]> {
    const { rows } = await q.query<DatastoreRow>(
      `SELECT d.workspace_id, d.name, d.system, d.secret, w.resource_group, w.name AS workspace_name,
              d.doc::jsonb ->> 'type' AS type, d.doc::jsonb ->> 'containerName' AS container,
              d.doc::jsonb ->> 'credentialsType' AS credentials_type,
              d.doc::jsonb ->> 'accountName' AS account_name, d.doc::jsonb -> 'servicePrincipal' ->> 'clientId' AS client_id
         FROM datastores d JOIN workspaces w ON w.id = d.workspace_id
        WHERE (d.doc::jsonb ->> 'credentialsType') = 'ServicePrincipal' AND lower(d.doc::jsonb -> 'servicePrincipal' ->> 'clientId') = lower($1)
        ORDER BY w.resource_group, w.name, d.name COLLATE "C"`,
      [clientId],
    );
    return rows.map((row) => datastoreHolder(row, this.sealer));
  }

  /** The sealed credential a holder has now, locked until the transaction ends; undefined when it no longer exists. */
  async sealedOf(q: Queryable, ref: string): Promise<string | undefined> {
    const { kind, workspaceId, name } = parseRef(ref);
    const { rows } =
      kind === 'workspace'
        ? await q.query<{ sealed: string }>('SELECT storage_key AS sealed FROM workspaces WHERE id = $1 FOR UPDATE', [workspaceId])
        : await q.query<{ sealed: string | null }>('SELECT secret AS sealed FROM datastores WHERE workspace_id = $1 AND name = $2 FOR UPDATE', [workspaceId, name]);
    return rows[0]?.sealed ?? undefined;
  }

  /**
   * Replaces each holder's credential with an already sealed one, inside the caller's
   * transaction: one statement for the workspaces, one for the datastores, however
   * many (a rotation moves thousands).
   */
  async writeSealed(q: Queryable, writes: { ref: string; sealed: string }[], modified: number): Promise<void> {
    const workspaces = { ids: [] as string[], sealed: [] as string[] };
    const datastores = { ids: [] as string[], names: [] as string[], sealed: [] as string[] };
    for (const { ref, sealed } of writes) {
      const { kind, workspaceId, name } = parseRef(ref);
      if (kind === 'workspace') {
        workspaces.ids.push(workspaceId);
        workspaces.sealed.push(sealed);
      } else {
        datastores.ids.push(workspaceId);
        datastores.names.push(name);
        datastores.sealed.push(sealed);
      }
    }
    if (workspaces.ids.length > 0) {
      await q.query('UPDATE workspaces w SET storage_key = v.sealed, modified = $3 FROM unnest($1::text[], $2::text[]) AS v(id, sealed) WHERE w.id = v.id', [
        workspaces.ids,
        workspaces.sealed,
        modified,
      ]);
    }
    if (datastores.ids.length > 0) {
      await q.query(
        'UPDATE datastores d SET secret = v.sealed, modified = $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS v(workspace_id, name, sealed) WHERE d.workspace_id = v.workspace_id AND d.name = v.name',
        [datastores.ids, datastores.names, datastores.sealed, modified],
      );
    }
  }

  fingerprint(holder: CredentialHolder): Buffer {
    return this.sealer.fingerprintOf(holder.sealed);
  }

  fingerprintOfSecret(secret: string): Buffer {
    return this.sealer.fingerprint(secret);
  }

  unseal(sealed: string): string {
    return this.sealer.unseal(sealed);
  }

  seal(secret: string): string {
    return this.sealer.seal(secret);
  }
}
