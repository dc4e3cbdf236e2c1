import type { StorageAccountRecord } from '../db/records.js';
import type { MoveRecord, Moves, RotationRecord, SubjectState } from '../db/rotations.js';
import { boundedIds, type Caller } from '../management/activity/activity-log.js';
import { accountId } from '../management/arm-ids.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { newAccountKey } from '../keys/account-keys.js';
import { classifyHolders, discoverConsumers, keyName, reliesOn, sasScope, type Consumer } from './consumers.js';
import { actionFor, otherKey, type RotationPlanSummary } from './plan.js';
import { Abort, changedBy, type RotatedCredential } from './rotated-credential.js';
import { reissueSas } from './sas-token.js';

export const ROTATE_OPERATION = 'Microsoft.Storage/storageAccounts/rotateKeys/action';

export function rotationConflict(deps: ManagementDeps, account: StorageAccountRecord, running: RotationRecord): ArmError {
  return new ArmError(
    409,
    'RotationInProgress',
    `A key rotation of storage account '${account.name}' is already in progress (operation ${running.id}, at step '${running.step}'). ` +
      `Wait for it to finish (GET ${accountId(deps, account)}/rotations/${running.id}) before rotating or regenerating a key of this account.`,
  );
}

/** Journals a planned key rotation and runs it in the background; 409 when one of the account is in progress. */
export function startKeyRotation(deps: ManagementDeps, account: StorageAccountRecord, plan: RotationPlanSummary, caller: Caller): Promise<RotationRecord> {
  return deps.rotation.start(
    {
      kind: 'accountKey',
      account: account.name,
      resourceGroup: account.resourceGroup,
      retireIndex: plan.retiredKey === 'key1' ? 0 : 1,
      reissueSas: plan.reissueSas,
      plan,
    },
    plan.counts,
    caller,
    (running) => rotationConflict(deps, account, running),
  );
}

/**
 * A storage account's key: its consumers move to the kept key (or get their
 * SAS re-signed with it), then the retired key is regenerated.
 */
export class AccountKeyRotation implements RotatedCredential {
  readonly retired;

  constructor(
    private readonly deps: ManagementDeps,
    private readonly rotation: RotationRecord,
  ) {
    this.retired = keyName(rotation.retireIndex);
  }

  /** Both keys are valid at all times: nothing to prepare, nothing to withdraw. */
  async prepare(): Promise<void> {}

  async withdraw(): Promise<void> {}

  private account(state: SubjectState): StorageAccountRecord {
    if (state.kind !== 'accountKey' || !state.account) throw new Abort({ code: 'StorageAccountNotFound', message: `The storage account '${this.rotation.account}' was deleted during the rotation.` });
    return state.account;
  }

  private consumers(state: SubjectState): Consumer[] {
    return classifyHolders(this.deps.consumers, state.holders, this.account(state), this.deps.subscriptionId);
  }

  moves(state: SubjectState): Moves<Record<string, number>> {
    const kept = this.account(state).keys[1 - this.rotation.retireIndex]!;
    const counts = { moveKey: 0, reissueSas: 0 };
    const changes: Moves<typeof counts>['changes'] = [];
    for (const consumer of this.consumers(state)) {
      const { action, reason } = actionFor(consumer, this.retired, this.rotation.reissueSas);
      if (action === 'blocked') throw new Abort({ code: 'RotationWouldBreakConsumers', message: `${consumer.resourceId} cannot be moved: ${reason}.` });
      if (action !== 'moveKey' && action !== 'reissueSas') continue;
      const secret = action === 'moveKey' ? kept : reissueSas(consumer.sas!, sasScope(this.rotation.account, consumer.holder), kept)!;
      changes.push({ holder: consumer.holder, resourceId: consumer.resourceId, action, newSealed: this.deps.consumers.seal(secret) });
      counts[action]++;
    }
    return { changes, result: counts };
  }

  /**
   * Regenerates the retired key through the same code as regenerateKey; the
   * key ring is reloaded, here and on every node, before the step is passed.
   */
  async retire(entry: Parameters<RotatedCredential['retire']>[0]): Promise<boolean> {
    const regenerated = await this.deps.rotations.regenerateKey(
      this.rotation.id,
      this.rotation.account,
      this.rotation.retireIndex,
      newAccountKey(),
      (state) =>
        !this.consumers(state).some((consumer) => {
          const { action } = actionFor(consumer, this.retired, this.rotation.reissueSas);
          return action === 'moveKey' || action === 'reissueSas' || action === 'blocked';
        }),
      entry,
    );
    if (!regenerated) return false;
    await this.deps.keyring.changed(regenerated);
    this.deps.logger.info({ account: regenerated.name, keyName: this.retired }, 'storage account key regenerated');
    return true;
  }

  holders() {
    return this.deps.consumers.byAccount(this.rotation.account);
  }

  /** Every consumer that matches a key now. */
  async current() {
    const account = await this.deps.accounts.get(this.rotation.account);
    if (!account) return [];
    return (await discoverConsumers(this.deps.consumers, account, this.deps.subscriptionId)).filter((consumer) => reliesOn(consumer, 'key1') || reliesOn(consumer, 'key2'));
  }

  activity(status: Parameters<RotatedCredential['activity']>[0], moves: MoveRecord[]) {
    const { rotation } = this;
    const plan = rotation.plan as RotationPlanSummary;
    const properties: Record<string, unknown> =
      status === 'Accepted'
        ? { retiredKey: this.retired, keptKey: otherKey(this.retired), reissueSas: String(rotation.reissueSas), consumersToMove: String(plan.counts.moveKey), sasToReissue: String(plan.counts.reissueSas) }
        : {
            retiredKey: this.retired,
            keptKey: otherKey(this.retired),
            regenerated: String(status === 'Succeeded'),
            consumersChanged: boundedIds(changedBy(moves)),
            sasReissued: String(moves.filter((move) => move.action === 'reissueSas' && status === 'Succeeded').length),
          };
    return {
      operation: ROTATE_OPERATION,
      resourceId: `/subscriptions/${this.deps.subscriptionId}/resourceGroups/${rotation.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${rotation.account}`,
      resourceGroup: rotation.resourceGroup,
      properties,
    };
  }
}
