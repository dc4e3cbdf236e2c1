import type { JournalEntry, RotationStore, StepPhase } from '../db/rotations.js';

/**
 * The steps of a rotation, in the order the journal records them. Each is
 * journaled `started` before it runs and `done` after, except `plan`, whose
 * `done` is the rotation's first record.
 */
export type RotationStep = 'plan' | 'move' | 'verify-moved' | 'regenerate' | 'verify-final' | 'rollback' | 'verify-restored' | 'restart';

/**
 * Test hooks, documented in docs/rotation.md; unset, they do nothing.
 * - `MLSPACE_FAULT_CRASH_AT=<step>.<phase>` (e.g. `regenerate.done`) kills the
 *   server with SIGKILL right after that journal entry is committed, to prove
 *   that a restart resumes or rolls back from every point.
 * - `MLSPACE_FAULT_PAUSE_AT=<step>.<phase>:<ms>` holds the rotation that long
 *   after that entry while the server keeps serving, so that a test can act on
 *   an account whose rotation is in progress.
 */
const CRASH_AT = process.env.MLSPACE_FAULT_CRASH_AT;
const PAUSE = /^([\w-]+\.\w+):(\d+)$/.exec(process.env.MLSPACE_FAULT_PAUSE_AT ?? '');

export function crashPoint(step: RotationStep, phase: StepPhase): void {
  if (CRASH_AT !== undefined && CRASH_AT === `${step}.${phase}`) process.kill(process.pid, 'SIGKILL');
}

/** Journal entries of one rotation. */
export class RotationJournal {
  constructor(
    private readonly repo: RotationStore,
    readonly rotationId: string,
    /** Resolves once the commits made so far are on disk (the server's group commit). */
    private readonly durable: () => Promise<void>,
  ) {}

  /** Commits an entry on its own, then passes it (see `passed`). */
  async record(step: RotationStep, phase: StepPhase, detail: Record<string, unknown> = {}): Promise<void> {
    await this.repo.journal(this.rotationId, { step, phase, detail });
    await this.passed(step, phase);
  }

  /**
   * After an entry's commit: waits until it is on disk, so that no step runs
   * ahead of a journal a power cut could lose, then passes the fault hooks.
   */
  async passed(step: RotationStep, phase: StepPhase): Promise<void> {
    await this.durable();
    crashPoint(step, phase);
    if (PAUSE && PAUSE[1] === `${step}.${phase}`) await new Promise((resolve) => setTimeout(resolve, Number(PAUSE[2])));
  }

  /**
   * An entry for the store to commit in one transaction with the change it
   * records (the rotation store's steps); the caller then awaits `passed`.
   */
  entry(step: RotationStep, phase: StepPhase, detail: Record<string, unknown> = {}): JournalEntry {
    return { step, phase, detail };
  }

  reached(step: RotationStep, phase: StepPhase): Promise<boolean> {
    return this.repo.reached(this.rotationId, step, phase);
  }
}
