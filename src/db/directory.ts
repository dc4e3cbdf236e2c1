import { randomUUID } from 'node:crypto';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

export interface ServicePrincipalRecord {
  clientId: string;
  displayName: string;
  /**
   * `salt:hash` of the client secret (identity/client-secret.ts), or several,
   * space-separated, while a reset moves its holders; '' for an identity with
   * none (a workspace's). The secret itself is never stored.
   */
  secretHash: string;
  created: number;
}

/** A role given to a principal at a scope: ARM's `Microsoft.Authorization/roleAssignments`. */
export interface RoleAssignmentRecord {
  /** The assignment's GUID, its ARM name. */
  name: string;
  /** An ARM resource id (subscription, resource group, resource or sub-resource), as given, without a trailing slash. */
  scope: string;
  /** A built-in role definition's GUID (identity/role-definitions.ts). */
  roleDefinitionId: string;
  /** The object id of the principal: for a service principal, its client id. */
  principalId: string;
  principalType: 'ServicePrincipal';
  created: number;
  /** Who assigned it (a client id); absent for the assignments made from the one-role-per-principal model. */
  createdBy?: string;
}

/** Why an assignment was not added. */
export type AssignmentConflict = 'nameInUse' | 'exists';

interface PrincipalRow {
  client_id: string;
  display_name: string;
  secret_hash: string;
  created: number | string;
}

export interface AssignmentRow {
  name: string;
  scope: string;
  role_definition_id: string;
  principal_id: string;
  principal_type: 'ServicePrincipal';
  /** BIGINT in PostgreSQL: pg hands it over as text. */
  created: number | string;
  created_by: string | null;
}

/**
 * The directory: the one tenant and subscription this server is, the service
 * principals (clients) that may call it, and their role assignments, as every
 * dialect stores them (the SQLite one below, src/db/postgres/directory.ts).
 */
export interface DirectoryStore {
  /** The tenant and subscription ids: random GUIDs chosen once, on first start, and kept; the first writer's win. */
  ids(): Promise<{ tenantId: string; subscriptionId: string }>;
  getPrincipal(clientId: string): Promise<ServicePrincipalRecord | undefined>;
  /** Adds a principal with its first assignments, at once; throws when a principal of that client id exists. */
  addPrincipal(principal: ServicePrincipalRecord, assignments: RoleAssignmentRecord[]): Promise<void>;
  /** Replaces the principal's secret hashes (space-separated); false when there is no such principal. */
  setSecretHash(clientId: string, secretHash: string): Promise<boolean>;
  /** Every assignment, or those of one principal, oldest first. */
  listAssignments(principalId?: string): Promise<RoleAssignmentRecord[]>;
  getAssignment(name: string): Promise<RoleAssignmentRecord | undefined>;
  /** Adds an assignment, or says why not: its name is taken, or the principal already has that role at that scope. */
  addAssignment(assignment: RoleAssignmentRecord): Promise<AssignmentConflict | undefined>;
  /** Removes an assignment; answers it, or undefined when there was none. */
  deleteAssignment(name: string): Promise<RoleAssignmentRecord | undefined>;
  /** Removes a principal with its role assignments, at once; false when there was no such principal. */
  deletePrincipal(clientId: string): Promise<boolean>;
}

export function principalRecord(row: PrincipalRow): ServicePrincipalRecord {
  return { clientId: row.client_id, displayName: row.display_name, secretHash: row.secret_hash, created: Number(row.created) };
}

export function assignmentRecord(row: AssignmentRow): RoleAssignmentRecord {
  return {
    name: row.name,
    scope: row.scope,
    roleDefinitionId: row.role_definition_id,
    principalId: row.principal_id,
    principalType: row.principal_type,
    created: Number(row.created),
    ...(row.created_by !== null && { createdBy: row.created_by }),
  };
}

export function assignmentRow(assignment: RoleAssignmentRecord): AssignmentRow {
  return {
    name: assignment.name.toLowerCase(),
    scope: assignment.scope,
    role_definition_id: assignment.roleDefinitionId,
    principal_id: assignment.principalId,
    principal_type: assignment.principalType,
    created: assignment.created,
    created_by: assignment.createdBy ?? null,
  };
}

const INSERT_ASSIGNMENT =
  'INSERT INTO role_assignments (name, scope, role_definition_id, principal_id, principal_type, created, created_by) ' +
  'VALUES (@name, @scope, @role_definition_id, @principal_id, @principal_type, @created, @created_by)';

/** The SQLite dialect's directory. */
export class DirectoryRepo implements DirectoryStore {
  private readonly getSetting;
  private readonly insertSetting;
  private readonly selectPrincipal;
  private readonly insertPrincipal;
  private readonly insertAssignment;
  private readonly selectAssignment;
  private readonly selectSame;

  constructor(private readonly db: Db) {
    this.getSetting = db.prepare('SELECT value FROM directory WHERE name = ?').pluck();
    this.insertSetting = db.prepare('INSERT INTO directory (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING');
    this.selectPrincipal = db.prepare('SELECT * FROM service_principals WHERE client_id = ?');
    this.insertPrincipal = db.prepare(
      'INSERT INTO service_principals (client_id, display_name, secret_hash, created) VALUES (@client_id, @display_name, @secret_hash, @created)',
    );
    this.insertAssignment = db.prepare(INSERT_ASSIGNMENT);
    this.selectAssignment = db.prepare('SELECT * FROM role_assignments WHERE name = ?');
    this.selectSame = db.prepare('SELECT 1 FROM role_assignments WHERE lower(scope) = lower(?) AND role_definition_id = ? AND principal_id = ?').pluck();
  }

  /** The tenant and subscription ids: random GUIDs chosen once, on first start, and kept. */
  async ids(): Promise<{ tenantId: string; subscriptionId: string }> {
    return transact(this.db, () => {
      this.insertSetting.run('tenantId', randomUUID());
      this.insertSetting.run('subscriptionId', randomUUID());
      return { tenantId: this.getSetting.get('tenantId') as string, subscriptionId: this.getSetting.get('subscriptionId') as string };
    });
  }

  async getPrincipal(clientId: string): Promise<ServicePrincipalRecord | undefined> {
    return this.principalOf(clientId);
  }

  /** getPrincipal, within a transaction of this dialect (a rotation's). */
  principalOf(clientId: string): ServicePrincipalRecord | undefined {
    const row = this.selectPrincipal.get(clientId) as PrincipalRow | undefined;
    return row && principalRecord(row);
  }

  async addPrincipal(principal: ServicePrincipalRecord, assignments: RoleAssignmentRecord[]): Promise<void> {
    transact(this.db, () => {
      this.insertPrincipal.run({ client_id: principal.clientId, display_name: principal.displayName, secret_hash: principal.secretHash, created: principal.created });
      for (const assignment of assignments) this.insertAssignment.run(assignmentRow(assignment));
    });
  }

  async setSecretHash(clientId: string, secretHash: string): Promise<boolean> {
    return this.writeSecretHash(clientId, secretHash);
  }

  /** setSecretHash, within a transaction of this dialect (a rotation's). */
  writeSecretHash(clientId: string, secretHash: string): boolean {
    return this.db.prepare('UPDATE service_principals SET secret_hash = ? WHERE client_id = ?').run(secretHash, clientId).changes === 1;
  }

  async listAssignments(principalId?: string): Promise<RoleAssignmentRecord[]> {
    const rows = (
      principalId === undefined
        ? this.db.prepare('SELECT * FROM role_assignments ORDER BY created, name').all()
        : this.db.prepare('SELECT * FROM role_assignments WHERE principal_id = ? ORDER BY created, name').all(principalId)
    ) as AssignmentRow[];
    return rows.map(assignmentRecord);
  }

  async getAssignment(name: string): Promise<RoleAssignmentRecord | undefined> {
    const row = this.selectAssignment.get(name.toLowerCase()) as AssignmentRow | undefined;
    return row && assignmentRecord(row);
  }

  async addAssignment(assignment: RoleAssignmentRecord): Promise<AssignmentConflict | undefined> {
    return transact(this.db, () => {
      if (this.selectAssignment.get(assignment.name.toLowerCase())) return 'nameInUse' as const;
      if (this.selectSame.get(assignment.scope, assignment.roleDefinitionId, assignment.principalId)) return 'exists' as const;
      this.insertAssignment.run(assignmentRow(assignment));
      return undefined;
    });
  }

  async deleteAssignment(name: string): Promise<RoleAssignmentRecord | undefined> {
    const row = this.db.prepare('DELETE FROM role_assignments WHERE name = ? RETURNING *').get(name.toLowerCase()) as AssignmentRow | undefined;
    return row && assignmentRecord(row);
  }

  async deletePrincipal(clientId: string): Promise<boolean> {
    return transact(this.db, () => {
      this.db.prepare('DELETE FROM role_assignments WHERE principal_id = ?').run(clientId);
      return this.db.prepare('DELETE FROM service_principals WHERE client_id = ?').run(clientId).changes === 1;
    });
  }
}
