import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { CredentialHolder } from '../db/consumers.js';
import type { StorageAccountRecord } from '../db/records.js';
import type { Moves, RotationRecord } from '../db/rotations.js';
import { boundedIds, type Caller } from '../management/activity/activity-log.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { accountId } from '../management/arm-ids.js';
import { newAccountKey } from '../keys/account-keys.js';
import { classifyHolders, discoverConsumers, keyName, reliesOn, sasScope, type Consumer, type KeyName } from './consumers.js';
import { RotationJournal, crashPoint } from './journal.js';
import { RotationLease } from './lease.js';
import { actionFor, otherKey, type RotationPlanSummary } from './plan.js';
import { reissueSas } from './sas-token.js';
import { verifyHolders } from './verify.js';

export const ROTATE_OPERATION = 'Microsoft.Storage/storageAccounts/rotateKeys/action';
/** Rounds of move-then-regenerate: a consumer that starts using the retired key meanwhile is moved in the next round. */
const MAX_ROUNDS = 3;
/** A rotation interrupted more often than this by restarts (before its key was regenerated) is rolled back, not resumed again. */
const MAX_ATTEMPTS = 3;

type RotationError = { code: string; message: string };

/** Ends a run at a step boundary when the server shuts down; the next start resumes from the journal. */
class Stopping extends Error {}

/** Stops the forward path: the rotation is rolled back for this reason. */
class Abort extends Error {
  constructor(readonly reason: RotationError) {
    super(reason.message);
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function rotationConflict(deps: ManagementDeps, account: StorageAccountRecord, running: RotationRecord): ArmError {
  return new ArmError(
    409,
    'RotationInProgress',
    `A key rotation of storage account '${account.name}' is already in progress (operation ${running.id}, at step '${running.step}'). ` +
      `Wait for it to finish (GET ${accountId(deps, account)}/rotations/${running.id}) before rotating or regenerating a key of this account.`,
  );
}

/**
 * The rotation engine, shared by the ARM action, the CLI, the SDK and any
 * console: moves every consumer of a storage account off the retired key,
 * verifies each against the data plane, regenerates the key, and verifies
 * again. Every step is journaled before and after it runs (RotationJournal),
 * and the journal alone decides what a run does next, so a run started after
 * a crash continues where the last one stopped:
 *
 * - until the regeneration is journaled, both keys are valid, so moving a
 *   consumer (or moving it back) is always safe to redo; a failed
 *   verification rolls every consumer back to the credential it had;
 * - the regeneration commits in the same transaction as its journal entry,
 *   after a last check that no consumer relies on the retired key; from then
 *   on the rotation only rolls forward.
 */
export class RotationEngine {
  private readonly runs = new Map<string, Promise<void>>();
  private readonly leases = new Map<string, RotationLease>();
  private stopping = false;

  constructor(private readonly deps: ManagementDeps) {}

  /** Journals a planned rotation and runs it in the background; 409 when one of the account is in progress. */
  async start(account: StorageAccountRecord, plan: RotationPlanSummary, caller: Caller): Promise<RotationRecord> {
    const id = randomUUID();
    const { rotations } = this.deps;
    const rotation = {
      id,
      account: account.name,
      resourceGroup: account.resourceGroup,
      retireIndex: plan.retiredKey === 'key1' ? (0 as const) : (1 as const),
      reissueSas: plan.reissueSas,
      plan,
      callerId: caller.clientId,
      callerName: caller.displayName,
      created: Date.now(),
      owner: this.deps.node.id,
      leaseMs: this.deps.node.leaseMs,
    };
    const claimedAt = performance.now();
    if (!(await rotations.start(rotation, { counts: plan.counts }))) {
      const running = await rotations.running(account.name);
      // Ended between the two reads: the caller may simply try again.
      if (running) throw rotationConflict(this.deps, account, running);
      throw new ArmError(409, 'RotationInProgress', `A key rotation of storage account '${account.name}' just ended; start yours again.`);
    }
    await this.deps.activity.record({
      operation: ROTATE_OPERATION,
      resourceId: accountId(this.deps, account),
      resourceGroup: account.resourceGroup,
      status: 'Accepted',
      caller,
      correlationId: id,
      properties: { retiredKey: plan.retiredKey, keptKey: plan.keptKey, reissueSas: String(plan.reissueSas), consumersToMove: String(plan.counts.moveKey), sasToReissue: String(plan.counts.reissueSas) },
    });
    crashPoint('plan', 'done');
    this.launch(id, claimedAt);
    return (await rotations.get(id))!;
  }

  /**
   * Continues a rotation a previous process left in progress (see
   * recovery.ts), unless it runs here already or another live node holds it;
   * false then.
   */
  async resume(rotation: RotationRecord): Promise<boolean> {
    const { node, rotations } = this.deps;
    if (this.stopping || this.runs.has(rotation.id)) return false;
    const claimedAt = performance.now();
    // A lone node's earlier process is gone, whatever its lease says; on a shared database it may be alive.
    if (!(await rotations.claim(rotation.id, node.id, node.leaseMs, !node.shared))) return false;
    await rotations.countAttempt(rotation.id, { step: 'restart', phase: 'done', detail: { attempt: rotation.attempts + 1, lastStep: `${rotation.step}.${rotation.phase}` } });
    this.launch(rotation.id, claimedAt);
    return true;
  }

  /** Lets each run reach its next step boundary and gives its rotation up; what is left is resumed by another node or on the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.runs.values());
  }

  private launch(id: string, claimedAt: number): void {
    const lease = new RotationLease(this.deps.rotations, id, this.deps.node, claimedAt);
    this.leases.set(id, lease);
    const run = this.run(id)
      .catch((error: unknown) => this.deps.logger.error({ err: error, rotationId: id }, 'key rotation stopped by an unexpected error; it resumes on the next start'))
      .finally(async () => {
        lease.stop();
        this.leases.delete(id);
        // Stopped mid-way (shutdown, lost hold): let another node take it over without waiting out the lease.
        await this.deps.rotations.release(id, this.deps.node.id).catch(() => {});
        this.runs.delete(id);
      });
    this.runs.set(id, run);
  }

  private async run(id: string): Promise<void> {
    const rotation = (await this.deps.rotations.get(id))!;
    const journal = new RotationJournal(this.deps.rotations, id, this.deps.durable);
    try {
      if (await journal.reached('regenerate', 'done')) return await this.finish(rotation, journal);
      if (await journal.reached('rollback', 'started')) return await this.rollback(rotation, journal, rotation.error!);
      if (rotation.attempts > MAX_ATTEMPTS) {
        throw new Abort({ code: 'RotationInterrupted', message: `The server restarted ${rotation.attempts - 1} times during this rotation; it was rolled back rather than resumed again. Run it again.` });
      }
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        await this.move(rotation, journal, round);
        await this.verifyMoved(rotation, journal);
        if (await this.regenerate(rotation, journal)) return await this.finish(rotation, journal);
      }
      throw new Abort({
        code: 'RotationRaced',
        message: `Consumers kept starting to use ${keyName(rotation.retireIndex)} during the rotation (re-registered datastores or resynchronized workspaces), so it was not regenerated and the rotation was rolled back. Run it again.`,
      });
    } catch (error) {
      if (error instanceof Stopping) return;
      if (await journal.reached('regenerate', 'done')) throw error;
      const reason = error instanceof Abort ? error.reason : { code: 'RotationFailed', message: `The rotation failed and was rolled back: ${(error as Error).message}` };
      if (!(error instanceof Abort)) this.deps.logger.error({ err: error, rotationId: id }, 'key rotation failed; rolling back');
      await this.rollback(rotation, journal, reason);
    }
  }

  private checkpoint(rotation: RotationRecord): void {
    if (this.stopping) throw new Stopping('the server is stopping');
    if (!this.leases.get(rotation.id)?.held()) throw new Stopping('this node no longer holds the rotation; another node resumes it');
  }

  /** The rotation's account as a step's transaction sees it; the rotation is rolled back if it is gone. */
  private present(rotation: RotationRecord, account: StorageAccountRecord | undefined): StorageAccountRecord {
    if (!account) throw new Abort({ code: 'StorageAccountNotFound', message: `The storage account '${rotation.account}' was deleted during the rotation.` });
    return account;
  }

  private consumers(account: StorageAccountRecord, holders: CredentialHolder[]): Consumer[] {
    return classifyHolders(this.deps.consumers, holders, account, this.deps.subscriptionId);
  }

  /**
   * Step 2a: gives every consumer that relies on the retired key the kept key
   * (or its SAS re-signed with it), recording the credential it had, in one
   * transaction with the journal entry: a crash leaves all of them moved or none.
   */
  private async move(rotation: RotationRecord, journal: RotationJournal, round: number): Promise<void> {
    this.checkpoint(rotation);
    await journal.record('move', 'started', { round });
    const { consumers, rotations } = this.deps;
    const retired = keyName(rotation.retireIndex);
    const moved = await rotations.moveConsumers(
      rotation.id,
      rotation.account,
      (found, holders) => {
        const account = this.present(rotation, found);
        const kept = account.keys[1 - rotation.retireIndex]!;
        const counts = { moveKey: 0, reissueSas: 0 };
        const changes: Moves<typeof counts>['changes'] = [];
        for (const consumer of this.consumers(account, holders)) {
          const { action, reason } = actionFor(consumer, retired, rotation.reissueSas);
          if (action === 'blocked') throw new Abort({ code: 'RotationWouldBreakConsumers', message: `${consumer.resourceId} cannot be moved: ${reason}.` });
          if (action !== 'moveKey' && action !== 'reissueSas') continue;
          const secret = action === 'moveKey' ? kept : reissueSas(consumer.sas!, sasScope(account.name, consumer.holder), kept)!;
          changes.push({ holder: consumer.holder, resourceId: consumer.resourceId, action, newSealed: consumers.seal(secret) });
          counts[action]++;
        }
        return { changes, result: counts };
      },
      (counts) => journal.entry('move', 'done', { round, ...counts }),
    );
    await journal.passed('move', 'done');
    this.deps.logger.info({ rotationId: rotation.id, account: rotation.account, round, ...moved }, 'key rotation: consumers moved');
  }

  /** The holders a rotation moved, as they are now; a holder deleted meanwhile is marked so and left out. */
  private async movedHolders(rotation: RotationRecord, states: string[]): Promise<CredentialHolder[]> {
    const wanted = new Map((await this.deps.rotations.moves(rotation.id)).filter((move) => states.includes(move.state)).map((move) => [move.consumer, move]));
    const holders = (await this.deps.consumers.byAccount(rotation.account)).filter((holder) => wanted.delete(holder.ref));
    for (const gone of wanted.keys()) await this.deps.rotations.setMoveState(rotation.id, gone, 'changedElsewhere', 'deleted during the rotation');
    return holders;
  }

  /** Step 2b: each moved consumer's new credential, against the data plane; any refusal rolls the rotation back. */
  private async verifyMoved(rotation: RotationRecord, journal: RotationJournal): Promise<void> {
    this.checkpoint(rotation);
    await journal.record('verify-moved', 'started');
    const holders = await this.movedHolders(rotation, ['moved', 'failed']);
    const refused = await verifyHolders(this.deps, rotation.account, holders);
    this.checkpoint(rotation);
    const moves = new Map((await this.deps.rotations.moves(rotation.id)).map((move) => [move.consumer, move]));
    await this.deps.rotations.settleMoves(
      rotation.id,
      () => holders.map((holder) => ({ consumer: holder.ref, state: refused.has(holder.ref) ? 'failed' : 'verified', detail: refused.get(holder.ref) })),
      journal.entry('verify-moved', 'done', { verified: holders.length - refused.size, failed: refused.size }),
    );
    await journal.passed('verify-moved', 'done');
    if (refused.size > 0) {
      const failures = [...refused].map(([ref, why]) => `${moves.get(ref)!.resourceId}: ${why}`);
      throw new Abort({
        code: 'ConsumerVerificationFailed',
        message: `${refused.size} consumer(s) failed verification with the kept key, so no key was regenerated and every consumer was restored: ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; ...' : ''}. Fix or remove them, then rotate again.`,
      });
    }
  }

  /**
   * Step 3: regenerates the retired key through the same code as
   * regenerateKey (key ring reloaded before the next request), in one
   * transaction with its journal entry, after checking, synchronously in that
   * transaction, that no consumer relies on the retired key any more. False
   * when some do (they started to meanwhile): another round moves them.
   */
  private async regenerate(rotation: RotationRecord, journal: RotationJournal): Promise<boolean> {
    this.checkpoint(rotation);
    await journal.record('regenerate', 'started');
    const retired = keyName(rotation.retireIndex);
    const regenerated = await this.deps.rotations.regenerateKey(
      rotation.id,
      rotation.account,
      rotation.retireIndex,
      newAccountKey(),
      (found, holders) =>
        !this.consumers(this.present(rotation, found), holders).some((consumer) => {
          const { action } = actionFor(consumer, retired, rotation.reissueSas);
          return action === 'moveKey' || action === 'reissueSas' || action === 'blocked';
        }),
      journal.entry('regenerate', 'done', { keyName: retired }),
    );
    if (!regenerated) return false;
    // The retired key is refused from the next request on, here at once, and on every node before the step is passed.
    await this.deps.keyring.changed(regenerated);
    this.deps.logger.info({ account: regenerated.name, keyName: retired }, 'storage account key regenerated');
    await journal.passed('regenerate', 'done');
    return true;
  }

  /** Step 4: every consumer that matches a key, verified again; the rotation succeeds, with warnings for any refused. */
  private async finish(rotation: RotationRecord, journal: RotationJournal): Promise<void> {
    this.checkpoint(rotation);
    await journal.record('verify-final', 'started');
    const account = await this.deps.accounts.get(rotation.account);
    const consumers = account ? (await discoverConsumers(this.deps.consumers, account, this.deps.subscriptionId)).filter((consumer) => reliesOn(consumer, 'key1') || reliesOn(consumer, 'key2')) : [];
    const refused = account ? await verifyHolders(this.deps, account.name, consumers.map((consumer) => consumer.holder)) : new Map<string, string>();
    this.checkpoint(rotation);
    const warnings = consumers.filter((consumer) => refused.has(consumer.holder.ref)).map((consumer) => ({ id: consumer.resourceId, reason: refused.get(consumer.holder.ref)! }));
    await this.deps.rotations.settleMoves(
      rotation.id,
      (moves) =>
        moves
          .filter((move) => move.state === 'moved' || move.state === 'verified' || move.state === 'failed')
          .map((move) => ({ consumer: move.consumer, state: refused.has(move.consumer) ? 'failed' : 'verified', detail: refused.get(move.consumer) })),
      journal.entry('verify-final', 'done', { verified: consumers.length - warnings.length, failed: warnings.length, ...(warnings.length > 0 ? { warnings: warnings.slice(0, 100) } : {}) }),
    );
    await journal.passed('verify-final', 'done');
    await this.deps.rotations.finish(rotation.id, 'Succeeded');
    this.deps.logger.info({ rotationId: rotation.id, account: rotation.account, retired: keyName(rotation.retireIndex), warnings: warnings.length }, 'key rotation succeeded');
    await this.recordOutcome(rotation, 'Succeeded', { warnings: warnings.length > 0 ? warnings.slice(0, 20) : undefined });
  }

  /**
   * Puts back the credential each moved consumer had, unless it was changed
   * by someone else meanwhile (compare-and-set), in one transaction with its
   * journal entry; then verifies the restored ones and ends the rotation as Failed.
   */
  private async rollback(rotation: RotationRecord, journal: RotationJournal, reason: RotationError): Promise<void> {
    const { consumers, rotations } = this.deps;
    if (!(await journal.reached('rollback', 'started'))) {
      await rotations.setError(rotation.id, reason);
      await journal.record('rollback', 'started', { reason: reason.code });
    }
    if (!(await journal.reached('rollback', 'done'))) {
      await rotations.rollbackMoves(
        rotation.id,
        (move, current) => current !== undefined && sameSecret(consumers.unseal(current), consumers.unseal(move.newSealed)),
        (counts) => journal.entry('rollback', 'done', counts),
      );
      await journal.passed('rollback', 'done');
    }
    await journal.record('verify-restored', 'started');
    const holders = await this.movedHolders(rotation, ['restored']);
    const refused = await verifyHolders(this.deps, rotation.account, holders);
    const resourceIds = new Map((await rotations.moves(rotation.id)).map((move) => [move.consumer, move.resourceId]));
    const failed = [...refused].map(([ref, why]) => ({ id: resourceIds.get(ref), reason: why }));
    await journal.record('verify-restored', 'done', { verified: holders.length - refused.size, failed: refused.size, failures: failed.slice(0, 100) });
    await rotations.finish(rotation.id, 'Failed', reason);
    this.deps.logger.warn({ rotationId: rotation.id, account: rotation.account, code: reason.code }, 'key rotation rolled back');
    await this.recordOutcome(rotation, 'Failed', { error: reason, rolledBack: true });
  }

  /** The rotation's closing activity log event: who asked, what changed, how it ended. Never a secret. */
  private async recordOutcome(rotation: RotationRecord, status: 'Succeeded' | 'Failed', extra: Record<string, unknown>): Promise<void> {
    const moves = await this.deps.rotations.moves(rotation.id);
    const changed = moves.filter((move) => move.state === 'verified' || move.state === 'failed').map((move) => move.resourceId);
    const retired: KeyName = keyName(rotation.retireIndex);
    await this.deps.activity.record({
      operation: ROTATE_OPERATION,
      resourceId: `/subscriptions/${this.deps.subscriptionId}/resourceGroups/${rotation.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${rotation.account}`,
      resourceGroup: rotation.resourceGroup,
      status,
      caller: { clientId: rotation.callerId, displayName: rotation.callerName },
      correlationId: rotation.id,
      properties: {
        retiredKey: retired,
        keptKey: otherKey(retired),
        regenerated: String(status === 'Succeeded'),
        consumersChanged: boundedIds(changed),
        sasReissued: String(moves.filter((move) => move.action === 'reissueSas' && status === 'Succeeded').length),
        resumedAfterRestart: String(rotation.attempts > 1),
        ...extra,
      },
    });
  }
}
