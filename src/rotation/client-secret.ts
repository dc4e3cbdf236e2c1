import { createHash, timingSafeEqual } from 'node:crypto';
import type { CredentialHolder } from '../db/consumers.js';
import type { ServicePrincipalRecord } from '../db/directory.js';
import type { JournalEntry, MoveRecord, Moves, RotationRecord, SubjectState } from '../db/rotations.js';
import { boundedIds, type Caller } from '../management/activity/activity-log.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { clientSecretMatches, hashClientSecret, newClientSecret } from '../management/identity/client-secret.js';
import { requirePrincipal } from '../management/identity/service-principals.js';
import { holderResourceId } from './consumers.js';
import { Abort, changedBy, type RotatedCredential } from './rotated-credential.js';

export const RESET_OPERATION = 'Mlspace.Identity/servicePrincipals/resetCredential/action';
const RETIRED = 'the old client secret';

/** Which of the principal's secrets a datastore holds: the reset's new one, another that signs in, or none that does. */
type SecretMatch = 'new' | 'old' | 'stale';

function matchOf(holder: CredentialHolder, principal: ServicePrincipalRecord, newSecret: string | undefined): SecretMatch {
  const held = Buffer.from(holder.secret);
  if (newSecret !== undefined && held.length === Buffer.byteLength(newSecret) && timingSafeEqual(held, Buffer.from(newSecret))) return 'new';
  return clientSecretMatches(holder.secret, principal.secretHash) ? 'old' : 'stale';
}

/** The reset's plan, as its status reports it: how many datastores move, and those that cannot be helped. Never a secret. */
function planReset(deps: ManagementDeps, principal: ServicePrincipalRecord, holders: CredentialHolder[]) {
  const counts = { consumers: holders.length, moveSecret: 0, stale: 0 };
  const attention: { id: string; action: 'stale'; reason: string }[] = [];
  for (const holder of holders) {
    if (matchOf(holder, principal, undefined) === 'old') counts.moveSecret++;
    else {
      counts.stale++;
      attention.push({ id: holderResourceId(deps.subscriptionId, holder), action: 'stale', reason: 'its secret no longer signs in as the principal; re-register it with the new secret' });
    }
  }
  return { clientId: principal.clientId, displayName: principal.displayName, counts, attention };
}

/**
 * Starts a reset of a service principal's client secret on the rotation
 * engine: a new secret, sealed in the rotation's record, that every datastore
 * holding one of the principal's secrets moves to before the old ones stop
 * signing in. Answers the rotation and the new secret, which only the caller
 * and the moved datastores ever see.
 */
export async function startSecretReset(deps: ManagementDeps, clientId: string, caller: Caller): Promise<{ rotation: RotationRecord; clientSecret: string }> {
  const principal = await requirePrincipal(deps.directory, deps.tenantId, clientId);
  if (principal.secretHash === '') throw new ArmError(400, 'InvalidTarget', `'${clientId}' is a workspace's identity: it has no secret to reset.`);
  const clientSecret = newClientSecret();
  const plan = planReset(deps, principal, await deps.consumers.principalHolders(clientId));
  const rotation = await deps.rotation.start(
    { kind: 'clientSecret', account: principal.clientId, resourceGroup: '', retireIndex: 0, reissueSas: false, plan, newSealed: deps.consumers.seal(clientSecret) },
    plan.counts,
    caller,
    (running) =>
      new ArmError(409, 'RotationInProgress', `A reset of the secret of '${clientId}' is already in progress (operation ${running.id}, at step '${running.step}'). Wait for it to finish, then try again.`),
  );
  return { rotation, clientSecret };
}

/**
 * A service principal's client secret: the new secret is added beside the
 * old ones, the datastores holding an old one move to it, and then only the
 * new one signs in. A rollback removes the new one again.
 */
export class ClientSecretRotation implements RotatedCredential {
  readonly retired = RETIRED;
  private readonly newSecret: string;
  /** A hash of the new secret whose salt comes from the rotation's id, so a resumed run adds (and keeps) the same one. */
  private readonly newHash: string;

  constructor(
    private readonly deps: ManagementDeps,
    private readonly rotation: RotationRecord,
  ) {
    this.newSecret = deps.consumers.unseal(rotation.newSealed!);
    this.newHash = hashClientSecret(this.newSecret, createHash('sha256').update(`client-secret-reset ${rotation.id}`).digest().subarray(0, 16));
  }

  private get clientId(): string {
    return this.rotation.account;
  }

  private async principal(): Promise<ServicePrincipalRecord> {
    const principal = await this.deps.directory.getPrincipal(this.clientId);
    if (!principal) throw new Abort({ code: 'PrincipalNotFound', message: `The service principal '${this.clientId}' was deleted during the reset.` });
    return principal;
  }

  private hashes(principal: ServicePrincipalRecord): string[] {
    return principal.secretHash.split(' ').filter((hash) => hash !== '');
  }

  async prepare(): Promise<void> {
    const principal = await this.principal();
    const hashes = this.hashes(principal);
    if (hashes.includes(this.newHash)) return;
    await this.deps.directory.setSecretHash(this.clientId, [...hashes, this.newHash].join(' '));
    await this.deps.durable();
  }

  async withdraw(): Promise<void> {
    const principal = await this.deps.directory.getPrincipal(this.clientId);
    if (!principal) return;
    const hashes = this.hashes(principal);
    if (!hashes.includes(this.newHash)) return;
    await this.deps.directory.setSecretHash(this.clientId, hashes.filter((hash) => hash !== this.newHash).join(' '));
    await this.deps.durable();
  }

  private principalIn(state: SubjectState): ServicePrincipalRecord {
    if (state.kind !== 'clientSecret' || !state.principal) throw new Abort({ code: 'PrincipalNotFound', message: `The service principal '${this.clientId}' was deleted during the reset.` });
    return state.principal;
  }

  moves(state: SubjectState): Moves<Record<string, number>> {
    const principal = this.principalIn(state);
    const changes: Moves<unknown>['changes'] = [];
    for (const holder of state.holders) {
      if (matchOf(holder, principal, this.newSecret) !== 'old') continue;
      changes.push({ holder, resourceId: holderResourceId(this.deps.subscriptionId, holder), action: 'moveSecret', newSealed: this.rotation.newSealed! });
    }
    return { changes, result: { moveSecret: changes.length } };
  }

  /** Leaves the principal only the new secret, unless a datastore still holds an old one that signs in. */
  retire(entry: JournalEntry): Promise<boolean> {
    return this.deps.rotations.retireSecrets(
      this.rotation.id,
      this.clientId,
      this.newHash,
      (state) => !state.holders.some((holder) => matchOf(holder, this.principalIn(state), this.newSecret) === 'old'),
      entry,
    );
  }

  holders(): Promise<CredentialHolder[]> {
    return this.deps.consumers.principalHolders(this.clientId);
  }

  /** The datastores holding the new secret. */
  async current() {
    const principal = await this.deps.directory.getPrincipal(this.clientId);
    if (!principal) return [];
    return (await this.holders())
      .filter((holder) => matchOf(holder, principal, this.newSecret) === 'new')
      .map((holder) => ({ holder, resourceId: holderResourceId(this.deps.subscriptionId, holder) }));
  }

  activity(status: Parameters<RotatedCredential['activity']>[0], moves: MoveRecord[]) {
    const plan = this.rotation.plan as ReturnType<typeof planReset>;
    return {
      operation: RESET_OPERATION,
      resourceId: `/providers/Mlspace.Identity/servicePrincipals/${this.clientId}`,
      resourceGroup: '',
      properties:
        status === 'Accepted'
          ? { clientId: this.clientId, datastoresToMove: String(plan.counts.moveSecret) }
          : { clientId: this.clientId, oldSecretsRemoved: String(status === 'Succeeded'), consumersChanged: boundedIds(changedBy(moves)) },
    };
  }
}
