import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DirectoryStore, RoleAssignmentRecord, ServicePrincipalRecord } from '../../db/directory.js';
import { ArmError } from '../http/errors.js';
import { writePrivateFile } from '../../secrets/private-file.js';
import { hashClientSecret, newClientSecret } from './client-secret.js';
import { OWNER_ROLE_ID } from './role-definitions.js';

export interface ClientCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** The principal of a client id, or 404 PrincipalNotFound. */
export async function requirePrincipal(directory: DirectoryStore, tenantId: string, clientId: string): Promise<ServicePrincipalRecord> {
  const principal = await directory.getPrincipal(clientId);
  if (!principal) throw new ArmError(404, 'PrincipalNotFound', `Service principal '${clientId}' does not exist in the directory ${tenantId}.`);
  return principal;
}

/** A new client's first role: which role, at which scopes, given by whom. */
export interface InitialRole {
  roleDefinitionId: string;
  scopes: string[];
  createdBy?: string;
}

/** Registers a new client with its role assignments, at once; the secret is returned once and only its hash is kept. */
export async function createServicePrincipal(directory: DirectoryStore, tenantId: string, displayName: string, initial: InitialRole): Promise<ClientCredentials> {
  const clientId = randomUUID();
  const clientSecret = newClientSecret();
  const created = Date.now();
  const assignments: RoleAssignmentRecord[] = initial.scopes.map((scope) => ({
    name: randomUUID(),
    scope,
    roleDefinitionId: initial.roleDefinitionId,
    principalId: clientId,
    principalType: 'ServicePrincipal',
    created,
    createdBy: initial.createdBy,
  }));
  await directory.addPrincipal({ clientId, displayName, secretHash: hashClientSecret(clientSecret), created }, assignments);
  return { tenantId, clientId, clientSecret };
}

/**
 * The Owner client whose credentials the server writes, mode 0600, to
 * `DATA_DIR/admin-client.json` on first start; the CLI and tests use it to
 * bootstrap. If the file is lost, a new admin client is registered.
 */
export async function ensureAdminClient(dataDir: string, directory: DirectoryStore, ids: { tenantId: string; subscriptionId: string }): Promise<string> {
  const { tenantId } = ids;
  const file = path.join(dataDir, 'admin-client.json');
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ClientCredentials>;
    if (saved.tenantId === tenantId && saved.clientId && (await directory.getPrincipal(saved.clientId))) return file;
  }
  const credentials = await createServicePrincipal(directory, tenantId, 'mlspace-admin', { roleDefinitionId: OWNER_ROLE_ID, scopes: [`/subscriptions/${ids.subscriptionId}`] });
  writePrivateFile(file, JSON.stringify(credentials, null, 2) + '\n');
  return file;
}
