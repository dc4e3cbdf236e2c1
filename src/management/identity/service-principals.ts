import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DirectoryStore, RoleName } from '../../db/directory.js';
import { writePrivateFile } from '../../secrets/private-file.js';
import { hashClientSecret, newClientSecret } from './client-secret.js';

export interface ClientCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** Registers a new client with a role; the secret is returned once and only its hash is kept. */
export async function createServicePrincipal(directory: DirectoryStore, tenantId: string, role: RoleName, displayName: string): Promise<ClientCredentials> {
  const clientId = randomUUID();
  const clientSecret = newClientSecret();
  await directory.addPrincipal({ clientId, displayName, role, secretHash: hashClientSecret(clientSecret), created: Date.now() });
  return { tenantId, clientId, clientSecret };
}

/**
 * The Owner client whose credentials the server writes, mode 0600, to
 * `DATA_DIR/admin-client.json` on first start; the CLI and tests use it to
 * bootstrap. If the file is lost, a new admin client is registered.
 */
export async function ensureAdminClient(dataDir: string, directory: DirectoryStore, tenantId: string): Promise<string> {
  const file = path.join(dataDir, 'admin-client.json');
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ClientCredentials>;
    if (saved.tenantId === tenantId && saved.clientId && (await directory.getPrincipal(saved.clientId))) return file;
  }
  const credentials = await createServicePrincipal(directory, tenantId, 'Owner', 'mlspace-admin');
  writePrivateFile(file, JSON.stringify(credentials, null, 2) + '\n');
  return file;
}
