import type { DirectoryStore } from '../../db/directory.js';
import { roleAllows, roleById, type RoleDefinition } from './role-definitions.js';

/** A role the principal holds at a scope (an ARM id, lower case, without a trailing slash). */
export interface Grant {
  scope: string;
  role: RoleDefinition;
}

/** An authenticated caller, of the management plane or, with a token, of the data plane. */
export interface Principal {
  clientId: string;
  /** Shown as the caller in the activity log. */
  displayName: string;
  grants: readonly Grant[];
}

/** The principal of a client id with its role assignments, or undefined when the directory has no such client. */
export async function loadPrincipal(directory: DirectoryStore, clientId: string): Promise<Principal | undefined> {
  const [record, assignments] = await Promise.all([directory.getPrincipal(clientId), directory.listAssignments(clientId)]);
  if (!record) return undefined;
  const grants: Grant[] = [];
  for (const assignment of assignments) {
    const role = roleById(assignment.roleDefinitionId);
    if (role) grants.push({ scope: scopeKey(assignment.scope), role });
  }
  return { clientId: record.clientId, displayName: record.displayName, grants };
}

/** An ARM id as scopes compare: lower case (ARM ids are case-insensitive), without a trailing slash. */
export function scopeKey(id: string): string {
  return id.toLowerCase().replace(/\/+$/, '');
}

/** Whether an assignment at `scope` reaches `resource`: the scope itself, or anything under it. Both are scope keys. */
export function scopeCovers(scope: string, resource: string): boolean {
  return resource === scope || (resource.startsWith(scope) && resource.charCodeAt(scope.length) === 47 /* '/' */);
}

/**
 * Whether any of the principal's assignments whose scope reaches `resource` (a
 * scope key) grants `action`: a management action, or (`data`) a data action.
 * Permissions add up across assignments, as Azure's do.
 */
export function principalAllows(principal: Principal, action: string, resource: string, data = false): boolean {
  return principal.grants.some((grant) => scopeCovers(grant.scope, resource) && roleAllows(grant.role, action, data));
}

/** The strongest of the four classic roles the principal holds at `scope`, for display (the console's badge); 'None' without one. */
export function headlineRole(principal: Principal, scope: string): string {
  const held = new Set(principal.grants.filter((grant) => scopeCovers(grant.scope, scopeKey(scope))).map((grant) => grant.role.roleName));
  return ['Owner', 'Contributor', 'Storage Account Key Operator Service Role', 'Reader'].find((name) => held.has(name)) ?? [...held][0] ?? 'None';
}
