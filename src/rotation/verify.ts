import type { CredentialHolder } from '../db/consumers.js';
import type { ManagementDeps } from '../management/deps.js';
import { checkAccountKey, checkDatastore } from '../keys/credential-probes.js';

/** Probes in flight at once: enough to hide a round trip, few enough to leave the data plane to its clients. */
const CONCURRENCY = 8;

/**
 * Verifies what each holder holds now with a real data-plane request made
 * with that credential (the same checks as datastore registration). A
 * workspace's key is checked with a service-level request; a datastore's
 * credential against its own container or share, so a deleted container fails
 * it. Each distinct (credential, container) pair is probed once, however many
 * datastores share it. A holder that names its own account (a service
 * principal's datastore) is checked there, the others in `accountName`.
 * Returns, per holder ref, why it was refused (absent when it works).
 */
export async function verifyHolders(deps: ManagementDeps, accountName: string, holders: CredentialHolder[]): Promise<Map<string, string>> {
  const probes = new Map<string, { holder: CredentialHolder; refs: string[] }>();
  for (const holder of holders) {
    const target =
      holder.kind === 'workspace'
        ? `account\n${holder.secret}`
        : `${holder.accountName ?? accountName}\n${holder.datastoreType}\n${holder.containerName}\n${holder.credentialsType}\n${holder.clientId}\n${holder.secret}`;
    const probe = probes.get(target);
    if (probe) probe.refs.push(holder.ref);
    else probes.set(target, { holder, refs: [holder.ref] });
  }
  const refused = new Map<string, string>();
  const queue = [...probes.values()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const why = await check(deps, accountName, next.holder);
      if (why !== undefined) for (const ref of next.refs) refused.set(ref, why);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return refused;
}

async function check(deps: ManagementDeps, accountName: string, holder: CredentialHolder): Promise<string | undefined> {
  try {
    if (holder.kind === 'workspace') return await checkAccountKey(deps, accountName, holder.secret);
    return await checkDatastore(deps, {
      name: holder.datastoreName!,
      accountName: holder.accountName ?? accountName,
      type: holder.datastoreType!,
      containerName: holder.containerName!,
      credentialsType: holder.credentialsType,
      secret: holder.secret,
      ...(holder.clientId !== undefined && { servicePrincipal: { tenantId: deps.tenantId, clientId: holder.clientId } }),
    });
  } catch (error) {
    return `the data plane could not be reached to verify it (${(error as Error).message}).`;
  }
}
