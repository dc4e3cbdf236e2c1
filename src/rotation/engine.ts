import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { CredentialHolder } from '../db/consumers.js';
import type { NewRotation, RotationRecord } from '../db/rotations.js';
import type { Caller } from '../management/activity/activity-log.js';
import type { ManagementDeps } from '../management/deps.js';
import { ArmError } from '../management/http/errors.js';
import { AccountKeyRotation } from './account-key.js';
import { ClientSecretRotation } from './client-secret.js';
import { RotationJournal, crashPoint } from './journal.js';
import { RotationLease } from './lease.js';
import { Abort, type RotatedCredential, type RotationError } from './rotated-credential.js';
import { verifyHolders } from './verify.js';

/** Rounds of move-then-retire: a consumer that starts using the retired credential meanwhile is moved in the next round. */
const MAX_ROUNDS = 3;
/** A rotation interrupted more often than this by restarts (before its credential was retired) is rolled back, not resumed again. */
const MAX_ATTEMPTS = 3;

/** Ends a run at a step boundary when the server shuts down; the next start resumes from the journal. */
class Stopping extends Error {}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The kind of credential a rotation renews, over its record. */
function credentialOf(deps: ManagementDeps, rotation: RotationRecord): RotatedCredential {
  return rotation.kind === 'clientSecret' ? new ClientSecretRotation(deps, rotation) : new AccountKeyRotation(deps, rotation);
}

/** A rotation as its starter describes it; the engine adds the id, the caller, the time and the lease. */
export type RotationRequest = Omit<NewRotation, 'id' | 'callerId' | 'callerName' | 'created' | 'owner' | 'leaseMs'>;

/**
 * The rotation engine, shared by the ARM actions, the CLI, the SDK and any
 * console, for every kind of credential (RotatedCredential): a storage
 * account's keys, a service principal's client secret. It moves every
 * consumer off the retired credential, verifies each against the data plane,
 * retires the credential (regenerates the key, drops the old secret), and
 * verifies again. Every step is journaled before and after it runs
 * (RotationJournal), and the journal alone decides what a run does next, so a
 * run started after a crash continues where the last one stopped:
 *
 * - until the retirement is journaled, the old and the new credential are both
 *   valid, so moving a consumer (or moving it back) is always safe to redo; a
 *   failed verification rolls every consumer back to the credential it had;
 * - the retirement commits in the same transaction as its journal entry,
 *   after a last check that no consumer relies on the retired credential;
 *   from then on the rotation only rolls forward.
 */
export class RotationEngine {
  private readonly runs = new Map<string, Promise<void>>();
  private readonly leases = new Map<string, RotationLease>();
  private stopping = false;

  constructor(private readonly deps: ManagementDeps) {}

  /**
   * Journals a planned rotation and runs it in the background; `conflict` is
   * the error when one of the same subject is in progress.
   */
  async start(request: RotationRequest, counts: Record<string, number>, caller: Caller, conflict: (running: RotationRecord) => ArmError): Promise<RotationRecord> {
    const { rotations } = this.deps;
    const rotation: NewRotation = {
      ...request,
      id: randomUUID(),
      callerId: caller.clientId,
      callerName: caller.displayName,
      created: Date.now(),
      owner: this.deps.node.id,
      leaseMs: this.deps.node.leaseMs,
    };
    const claimedAt = performance.now();
    if (!(await rotations.start(rotation, { counts }))) {
      const running = await rotations.running(rotation.account);
      if (running) throw conflict(running);
      const migration = (await this.deps.keylessMigrations.unfinished()).find((record) => record.account === rotation.account);
      if (migration) {
        throw new ArmError(
          409,
          'KeylessMigrationInProgress',
          `The consumers of storage account '${rotation.account}' are being moved to keyless access (migration ${migration.id}, ${migration.state}). ` +
            'It finishes within its request, in seconds: rotate once it has answered.',
        );
      }
      // Ended between the two reads: the caller may simply try again.
      throw new ArmError(409, 'RotationInProgress', `A rotation of '${rotation.account}' just ended; start yours again.`);
    }
    const started = (await rotations.get(rotation.id))!;
    await this.record(started, 'Accepted', {});
    crashPoint('plan', 'done');
    this.launch(rotation.id, claimedAt);
    return started;
  }

  /** Resolves when the rotation's run here ends (finished, rolled back, or given up at shutdown). */
  async settled(id: string): Promise<void> {
    await this.runs.get(id);
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
      .catch((error: unknown) => this.deps.logger.error({ err: error, rotationId: id }, 'rotation stopped by an unexpected error; it resumes on the next start'))
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
    const credential = credentialOf(this.deps, rotation);
    const journal = new RotationJournal(this.deps.rotations, id, this.deps.durable);
    try {
      if (await journal.reached('regenerate', 'done')) return await this.finish(rotation, credential, journal);
      if (await journal.reached('rollback', 'started')) return await this.rollback(rotation, credential, journal, rotation.error!);
      if (rotation.attempts > MAX_ATTEMPTS) {
        throw new Abort({ code: 'RotationInterrupted', message: `The server restarted ${rotation.attempts - 1} times during this rotation; it was rolled back rather than resumed again. Run it again.` });
      }
      await credential.prepare();
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        await this.move(rotation, credential, journal, round);
        await this.verifyMoved(rotation, credential, journal);
        if (await this.retire(rotation, credential, journal)) return await this.finish(rotation, credential, journal);
      }
      throw new Abort({
        code: 'RotationRaced',
        message: `Consumers kept starting to use ${credential.retired} during the rotation (re-registered datastores or resynchronized workspaces), so it was not retired and the rotation was rolled back. Run it again.`,
      });
    } catch (error) {
      if (error instanceof Stopping) return;
      if (await journal.reached('regenerate', 'done')) throw error;
      const reason = error instanceof Abort ? error.reason : { code: 'RotationFailed', message: `The rotation failed and was rolled back: ${(error as Error).message}` };
      if (!(error instanceof Abort)) this.deps.logger.error({ err: error, rotationId: id }, 'rotation failed; rolling back');
      await this.rollback(rotation, credential, journal, reason);
    }
  }

  private checkpoint(rotation: RotationRecord): void {
    if (this.stopping) throw new Stopping('the server is stopping');
    if (!this.leases.get(rotation.id)?.held()) throw new Stopping('this node no longer holds the rotation; another node resumes it');
  }

  /**
   * Step 2a: gives every consumer that relies on the retired credential the
   * new one (RotatedCredential.moves), recording the credential it had, in one
   * transaction with the journal entry: a crash leaves all of them moved or none.
   */
  private async move(rotation: RotationRecord, credential: RotatedCredential, journal: RotationJournal, round: number): Promise<void> {
    this.checkpoint(rotation);
    await journal.record('move', 'started', { round });
    const moved = await this.deps.rotations.moveConsumers(
      rotation.id,
      rotation.kind,
      rotation.account,
      (state) => credential.moves(state),
      (counts) => journal.entry('move', 'done', { round, ...counts }),
    );
    await journal.passed('move', 'done');
    this.deps.logger.info({ rotationId: rotation.id, subject: rotation.account, round, ...moved }, 'rotation: consumers moved');
  }

  /** The holders a rotation moved, as they are now; a holder deleted meanwhile is marked so and left out. */
  private async movedHolders(rotation: RotationRecord, credential: RotatedCredential, states: string[]): Promise<CredentialHolder[]> {
    const wanted = new Map((await this.deps.rotations.moves(rotation.id)).filter((move) => states.includes(move.state)).map((move) => [move.consumer, move]));
    const holders = (await credential.holders()).filter((holder) => wanted.delete(holder.ref));
    for (const gone of wanted.keys()) await this.deps.rotations.setMoveState(rotation.id, gone, 'changedElsewhere', 'deleted during the rotation');
    return holders;
  }

  /** Step 2b: each moved consumer's new credential, against the data plane; any refusal rolls the rotation back. */
  private async verifyMoved(rotation: RotationRecord, credential: RotatedCredential, journal: RotationJournal): Promise<void> {
    this.checkpoint(rotation);
    await journal.record('verify-moved', 'started');
    const holders = await this.movedHolders(rotation, credential, ['moved', 'failed']);
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
        message: `${refused.size} consumer(s) failed verification with the new credential, so ${credential.retired} was not retired and every consumer was restored: ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; ...' : ''}. Fix or remove them, then rotate again.`,
      });
    }
  }

  /**
   * Step 3: retires the credential (RotatedCredential.retire: regenerates the
   * key, drops the old secret) in one transaction with its journal entry, after
   * checking in that transaction that no consumer relies on it any more. False
   * when some do (they started to meanwhile): another round moves them.
   */
  private async retire(rotation: RotationRecord, credential: RotatedCredential, journal: RotationJournal): Promise<boolean> {
    this.checkpoint(rotation);
    await journal.record('regenerate', 'started');
    if (!(await credential.retire(journal.entry('regenerate', 'done', { retired: credential.retired })))) return false;
    await journal.passed('regenerate', 'done');
    return true;
  }

  /** Step 4: every consumer that should work now, verified again; the rotation succeeds, with warnings for any refused. */
  private async finish(rotation: RotationRecord, credential: RotatedCredential, journal: RotationJournal): Promise<void> {
    this.checkpoint(rotation);
    await journal.record('verify-final', 'started');
    const consumers = await credential.current();
    const refused = await verifyHolders(this.deps, rotation.account, consumers.map((consumer) => consumer.holder));
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
    this.deps.logger.info({ rotationId: rotation.id, kind: rotation.kind, subject: rotation.account, retired: credential.retired, warnings: warnings.length }, 'rotation succeeded');
    await this.record(rotation, 'Succeeded', { warnings: warnings.length > 0 ? warnings.slice(0, 20) : undefined });
  }

  /**
   * Puts back the credential each moved consumer had, unless it was changed
   * by someone else meanwhile (compare-and-set), in one transaction with its
   * journal entry; withdraws what the rotation had prepared; then verifies the
   * restored consumers and ends the rotation as Failed.
   */
  private async rollback(rotation: RotationRecord, credential: RotatedCredential, journal: RotationJournal, reason: RotationError): Promise<void> {
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
    await credential.withdraw();
    await journal.record('verify-restored', 'started');
    const holders = await this.movedHolders(rotation, credential, ['restored']);
    const refused = await verifyHolders(this.deps, rotation.account, holders);
    const resourceIds = new Map((await rotations.moves(rotation.id)).map((move) => [move.consumer, move.resourceId]));
    const failed = [...refused].map(([ref, why]) => ({ id: resourceIds.get(ref), reason: why }));
    await journal.record('verify-restored', 'done', { verified: holders.length - refused.size, failed: refused.size, failures: failed.slice(0, 100) });
    await rotations.finish(rotation.id, 'Failed', reason);
    this.deps.logger.warn({ rotationId: rotation.id, kind: rotation.kind, subject: rotation.account, code: reason.code }, 'rotation rolled back');
    await this.record(rotation, 'Failed', { error: reason, rolledBack: true });
  }

  /** The rotation's activity log events: who asked, what changed, how it ended. Never a secret. */
  private async record(rotation: RotationRecord, status: 'Accepted' | 'Succeeded' | 'Failed', extra: Record<string, unknown>): Promise<void> {
    const moves = status === 'Accepted' ? [] : await this.deps.rotations.moves(rotation.id);
    const { operation, resourceId, resourceGroup, properties } = credentialOf(this.deps, rotation).activity(status, moves);
    await this.deps.activity.record({
      operation,
      resourceId,
      resourceGroup,
      status,
      caller: { clientId: rotation.callerId, displayName: rotation.callerName },
      correlationId: rotation.id,
      properties: { ...properties, ...(status === 'Accepted' ? {} : { resumedAfterRestart: String(rotation.attempts > 1) }), ...extra },
    });
  }
}
