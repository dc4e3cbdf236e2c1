import type { DirectoryStore } from '../../db/directory.js';
import { ensureAdminClient } from './service-principals.js';
import { TokenService } from './tokens.js';

/** Who the management endpoint is: the directory's ids, its token-signing key and the admin client's file. */
export interface Identity {
  tenantId: string;
  subscriptionId: string;
  tokens: TokenService;
  adminClientFile: string;
}

/**
 * Opens the identity, making on first start what it lacks: the ids in the
 * directory, the signing key and the admin client in the data directory.
 * Nodes sharing a data directory call it one at a time (see server.ts), so
 * they agree on one key and one admin client.
 */
export async function openIdentity(dataDir: string, directory: DirectoryStore): Promise<Identity> {
  const { tenantId, subscriptionId } = await directory.ids();
  const tokens = await TokenService.open(dataDir, tenantId);
  const adminClientFile = await ensureAdminClient(dataDir, directory, { tenantId, subscriptionId });
  return { tenantId, subscriptionId, tokens, adminClientFile };
}
