import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  assignmentRecord,
  assignmentRow,
  principalRecord,
  type AssignmentConflict,
  type AssignmentRow,
  type DirectoryStore,
  type RoleAssignmentRecord,
  type ServicePrincipalRecord,
} from '../directory.js';
import { transaction, type Queryable } from './sql.js';

const ASSIGNMENT_COLUMNS = 'name, scope, role_definition_id, principal_id, principal_type, created, created_by';

function assignmentValues(assignment: RoleAssignmentRecord): unknown[] {
  const row = assignmentRow(assignment);
  return [row.name, row.scope, row.role_definition_id, row.principal_id, row.principal_type, row.created, row.created_by];
}

/** The PostgreSQL dialect's directory; nodes starting together agree on the ids, the first writer's. */
export class PgDirectoryRepo implements DirectoryStore {
  constructor(private readonly pool: pg.Pool) {}

  async ids(): Promise<{ tenantId: string; subscriptionId: string }> {
    await this.pool.query("INSERT INTO directory (name, value) VALUES ('tenantId', $1), ('subscriptionId', $2) ON CONFLICT DO NOTHING", [randomUUID(), randomUUID()]);
    const { rows } = await this.pool.query<{ name: string; value: string }>("SELECT name, value FROM directory WHERE name IN ('tenantId', 'subscriptionId')");
    const value = (name: string) => rows.find((row) => row.name === name)!.value;
    return { tenantId: value('tenantId'), subscriptionId: value('subscriptionId') };
  }

  getPrincipal(clientId: string): Promise<ServicePrincipalRecord | undefined> {
    return this.principalOf(this.pool, clientId);
  }

  /** getPrincipal, inside the caller's transaction (a rotation's), locking the row until it ends. */
  async principalOf(q: Queryable, clientId: string, lock = false): Promise<ServicePrincipalRecord | undefined> {
    const { rows } = await q.query(`SELECT client_id, display_name, secret_hash, created FROM service_principals WHERE client_id = $1${lock ? ' FOR UPDATE' : ''}`, [clientId]);
    return rows[0] && principalRecord(rows[0]);
  }

  async addPrincipal(principal: ServicePrincipalRecord, assignments: RoleAssignmentRecord[]): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('INSERT INTO service_principals (client_id, display_name, secret_hash, created) VALUES ($1, $2, $3, $4)', [
        principal.clientId,
        principal.displayName,
        principal.secretHash,
        principal.created,
      ]);
      for (const assignment of assignments) await client.query(`INSERT INTO role_assignments (${ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, assignmentValues(assignment));
    });
  }

  setSecretHash(clientId: string, secretHash: string): Promise<boolean> {
    return this.writeSecretHash(this.pool, clientId, secretHash);
  }

  /** setSecretHash, inside the caller's transaction. */
  async writeSecretHash(q: Queryable, clientId: string, secretHash: string): Promise<boolean> {
    const { rowCount } = await q.query('UPDATE service_principals SET secret_hash = $1 WHERE client_id = $2', [secretHash, clientId]);
    return rowCount === 1;
  }

  async listAssignments(principalId?: string): Promise<RoleAssignmentRecord[]> {
    const { rows } =
      principalId === undefined
        ? await this.pool.query<AssignmentRow>('SELECT * FROM role_assignments ORDER BY created, name')
        : await this.pool.query<AssignmentRow>('SELECT * FROM role_assignments WHERE principal_id = $1 ORDER BY created, name', [principalId]);
    return rows.map(assignmentRecord);
  }

  async getAssignment(name: string): Promise<RoleAssignmentRecord | undefined> {
    const { rows } = await this.pool.query<AssignmentRow>('SELECT * FROM role_assignments WHERE name = $1', [name.toLowerCase()]);
    return rows[0] && assignmentRecord(rows[0]);
  }

  async addAssignment(assignment: RoleAssignmentRecord): Promise<AssignmentConflict | undefined> {
    // Both unique constraints answer at once, whichever concurrent insert came first: no read-then-write race.
    const { rows } = await this.pool.query<{ name: string }>(
      `INSERT INTO role_assignments (${ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING name`,
      assignmentValues(assignment),
    );
    if (rows.length > 0) return undefined;
    return (await this.getAssignment(assignment.name)) ? 'nameInUse' : 'exists';
  }

  async deleteAssignment(name: string): Promise<RoleAssignmentRecord | undefined> {
    const { rows } = await this.pool.query<AssignmentRow>('DELETE FROM role_assignments WHERE name = $1 RETURNING *', [name.toLowerCase()]);
    return rows[0] && assignmentRecord(rows[0]);
  }

  deletePrincipal(clientId: string): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      await client.query('DELETE FROM role_assignments WHERE principal_id = $1', [clientId]);
      const { rowCount } = await client.query('DELETE FROM service_principals WHERE client_id = $1', [clientId]);
      return rowCount === 1;
    });
  }
}
