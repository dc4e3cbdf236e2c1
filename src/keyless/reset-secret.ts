import type { DatastoreRecord } from '../db/datastores.js';
import { checkDatastore } from '../keys/credential-probes.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { hashClientSecret, newClientSecret } from '../management/identity/client-secret.js';
import { requirePrincipal } from '../management/identity/service-principals.js';
import { holderResourceId } from '../rotation/consumers.js';

export interface SecretReset {
  clientId: string;
  clientSecret: string;
  /** Every datastore that held a secret of the principal, and what became of it. */
  consumers: { id: string; result: 'moved' | 'movedStale'; detail?: string }[];
}

/**
 * Resets a service principal's client secret without downtime, as a rotation
 * moves the holders of a key:
 * 1. the new secret is added beside the old ones, so both sign in;
 * 2. every datastore holding a secret of the principal is checked, then moved to
 *    the new one and checked again on the data plane; one that worked before
 *    and fails after puts every datastore back and removes the new secret (409);
 * 3. only then are the old secrets removed.
 * Every state in between works, so a process killed at any point breaks nothing:
 * the principal keeps every secret until a reset finishes (the next one cleans up).
 */
export async function resetClientSecret(deps: ManagementDeps, clientId: string): Promise<SecretReset> {
  const principal = await requirePrincipal(deps.directory, deps.tenantId, clientId);
  if (principal.secretHash === '') {
    throw new ArmError(400, 'InvalidTarget', `'${clientId}' is a workspace's identity: it has no secret to reset.`);
  }
  const clientSecret = newClientSecret();
  const newHash = hashClientSecret(clientSecret);
  await deps.directory.setSecretHash(clientId, `${principal.secretHash} ${newHash}`);
  await deps.durable();

  const holders = await deps.consumers.byServicePrincipal(clientId);
  const before = new Map<string, { datastore: DatastoreRecord; worked: boolean }>();
  for (const holder of holders) {
    const datastore = await deps.datastores.get(holder.workspaceId, holder.datastoreName);
    if (datastore) before.set(holderResourceId(deps.subscriptionId, holder), { datastore, worked: (await checkDatastore(deps, datastore)) === undefined });
  }
  const now = Date.now();
  const consumers: SecretReset['consumers'] = [];
  for (const [id, { datastore, worked }] of before) {
    const moved = { ...datastore, secret: clientSecret, modified: now };
    await deps.datastores.put(moved);
    const why = await checkDatastore(deps, moved);
    if (why !== undefined && worked) {
      for (const { datastore: original } of before.values()) await deps.datastores.put(original);
      await deps.directory.setSecretHash(clientId, principal.secretHash);
      await deps.durable();
      throw new ArmError(409, 'SecretResetRolledBack', `The reset of the secret of '${clientId}' was rolled back: ${id} worked with the old secret and not with the new one (${why}). Every datastore keeps its old secret.`);
    }
    consumers.push({ id, result: worked ? 'moved' : 'movedStale', ...(why && { detail: why }) });
  }
  await deps.directory.setSecretHash(clientId, newHash);
  await deps.durable();
  deps.logger.info({ clientId, datastores: consumers.length }, 'service principal secret reset');
  return { clientId, clientSecret, consumers };
}
