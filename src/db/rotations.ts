import type { Db } from './sqlite.js';

type RotationStatus = 'InProgress' | 'Succeeded' | 'Failed';
export type StepPhase = 'started' | 'done';
type MoveAction = 'moveKey' | 'reissueSas';
type MoveState = 'moved' | 'verified' | 'failed' | 'restored' | 'changedElsewhere';

export interface RotationRecord {
  id: string;
  account: string;
  resourceGroup: string;
  retireIndex: 0 | 1;
  reissueSas: boolean;
  status: RotationStatus;
  step: string;
  phase: StepPhase;
  /** The plan as reported to the caller; never holds a secret. */
  plan: unknown;
  error?: { code: string; message: string };
  callerId: string;
  callerName: string;
  attempts: number;
  created: number;
  updated: number;
  ended?: number;
}

interface StepRecord {
  seq: number;
  step: string;
  phase: StepPhase;
  at: number;
  detail: Record<string, unknown>;
}

/** One consumer a rotation changed; the secrets stay sealed. */
interface MoveRecord {
  consumer: string;
  resourceId: string;
  action: MoveAction;
  oldSealed: string;
  newSealed: string;
  state: MoveState;
  detail?: string;
}

interface RotationRow {
  id: string;
  account: string;
  resource_group: string;
  retire_index: number;
  reissue_sas: number;
  status: RotationStatus;
  step: string;
  phase: StepPhase;
  plan: string;
  error: string | null;
  caller_id: string;
  caller_name: string;
  attempts: number;
  created: number;
  updated: number;
  ended: number | null;
}

interface MoveRow {
  consumer: string;
  resource_id: string;
  action: MoveAction;
  old_secret: string;
  new_secret: string;
  state: MoveState;
  detail: string | null;
}

/**
 * The rotation journal: a row per rotation, its steps in order (each written
 * before and after it runs), and the consumers it changed with their old
 * credential, so that a restart can resume the rotation or roll it back.
 */
export class RotationRepo {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO rotations (id, account, resource_group, retire_index, reissue_sas, status, step, phase, plan, caller_id, caller_name, attempts, created, updated)
         VALUES (@id, @account, @resource_group, @retire_index, @reissue_sas, 'InProgress', @step, @phase, @plan, @caller_id, @caller_name, 1, @created, @created)
         ON CONFLICT DO NOTHING`,
      ),
      get: db.prepare('SELECT * FROM rotations WHERE id = ?'),
      running: db.prepare("SELECT * FROM rotations WHERE account = ? AND status = 'InProgress'"),
      unfinished: db.prepare("SELECT * FROM rotations WHERE status = 'InProgress' ORDER BY created"),
      byAccount: db.prepare('SELECT * FROM rotations WHERE account = ? ORDER BY created DESC LIMIT ?'),
      nextSeq: db.prepare('SELECT coalesce(max(seq), 0) + 1 FROM rotation_steps WHERE rotation_id = ?').pluck(),
      insertStep: db.prepare('INSERT INTO rotation_steps (rotation_id, seq, step, phase, at, detail) VALUES (?, ?, ?, ?, ?, ?)'),
      setStep: db.prepare('UPDATE rotations SET step = ?, phase = ?, updated = ? WHERE id = ?'),
      steps: db.prepare('SELECT seq, step, phase, at, detail FROM rotation_steps WHERE rotation_id = ? ORDER BY seq'),
      hasStep: db.prepare('SELECT 1 FROM rotation_steps WHERE rotation_id = ? AND step = ? AND phase = ? LIMIT 1').pluck(),
      setError: db.prepare('UPDATE rotations SET error = ?, updated = ? WHERE id = ?'),
      finish: db.prepare('UPDATE rotations SET status = ?, error = ?, updated = ?, ended = ? WHERE id = ?'),
      attempt: db.prepare('UPDATE rotations SET attempts = attempts + 1, updated = ? WHERE id = ?'),
      upsertMove: db.prepare(
        `INSERT INTO rotation_consumers (rotation_id, consumer, resource_id, action, old_secret, new_secret, state)
         VALUES (@rotation_id, @consumer, @resource_id, @action, @old_secret, @new_secret, 'moved')
         ON CONFLICT DO UPDATE SET new_secret = excluded.new_secret, action = excluded.action, state = 'moved', detail = NULL`,
      ),
      moves: db.prepare('SELECT consumer, resource_id, action, old_secret, new_secret, state, detail FROM rotation_consumers WHERE rotation_id = ? ORDER BY consumer'),
      moveCounts: db.prepare('SELECT state, action, count(*) AS n FROM rotation_consumers WHERE rotation_id = ? GROUP BY state, action'),
      setMoveState: db.prepare('UPDATE rotation_consumers SET state = ?, detail = ? WHERE rotation_id = ? AND consumer = ?'),
    };
  }

  /** False when a rotation of the account is already in progress. */
  create(rotation: Pick<RotationRecord, 'id' | 'account' | 'resourceGroup' | 'retireIndex' | 'reissueSas' | 'plan' | 'callerId' | 'callerName' | 'created'>): boolean {
    return (
      this.stmt.insert.run({
        id: rotation.id,
        account: rotation.account,
        resource_group: rotation.resourceGroup,
        retire_index: rotation.retireIndex,
        reissue_sas: rotation.reissueSas ? 1 : 0,
        step: 'plan',
        phase: 'started',
        plan: JSON.stringify(rotation.plan),
        caller_id: rotation.callerId,
        caller_name: rotation.callerName,
        created: rotation.created,
      }).changes === 1
    );
  }

  get(id: string): RotationRecord | undefined {
    const row = this.stmt.get.get(id) as RotationRow | undefined;
    return row && fromRow(row);
  }

  running(account: string): RotationRecord | undefined {
    const row = this.stmt.running.get(account) as RotationRow | undefined;
    return row && fromRow(row);
  }

  unfinished(): RotationRecord[] {
    return (this.stmt.unfinished.all() as RotationRow[]).map(fromRow);
  }

  recent(account: string, limit: number): RotationRecord[] {
    return (this.stmt.byAccount.all(account, limit) as RotationRow[]).map(fromRow);
  }

  /** Appends a journal entry and makes it the rotation's current step. */
  journal(id: string, step: string, phase: StepPhase, detail: Record<string, unknown>, at = Date.now()): void {
    this.stmt.insertStep.run(id, this.stmt.nextSeq.get(id), step, phase, at, JSON.stringify(detail));
    this.stmt.setStep.run(step, phase, at, id);
  }

  steps(id: string): StepRecord[] {
    return (this.stmt.steps.all(id) as { seq: number; step: string; phase: StepPhase; at: number; detail: string }[]).map((row) => ({
      ...row,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  reached(id: string, step: string, phase: StepPhase): boolean {
    return this.stmt.hasStep.get(id, step, phase) !== undefined;
  }

  /** The reason a rollback is under way, kept so that a restart finishing it reports the same cause. */
  setError(id: string, error: { code: string; message: string }): void {
    this.stmt.setError.run(JSON.stringify(error), Date.now(), id);
  }

  finish(id: string, status: Exclude<RotationStatus, 'InProgress'>, error?: { code: string; message: string }): void {
    const now = Date.now();
    this.stmt.finish.run(status, error ? JSON.stringify(error) : null, now, now, id);
  }

  countAttempt(id: string): void {
    this.stmt.attempt.run(Date.now(), id);
  }

  /** Records a consumer as moved; a consumer moved twice keeps the credential it had before the first move. */
  recordMove(id: string, move: Pick<MoveRecord, 'consumer' | 'resourceId' | 'action' | 'oldSealed' | 'newSealed'>): void {
    this.stmt.upsertMove.run({
      rotation_id: id,
      consumer: move.consumer,
      resource_id: move.resourceId,
      action: move.action,
      old_secret: move.oldSealed,
      new_secret: move.newSealed,
    });
  }

  moves(id: string): MoveRecord[] {
    return (this.stmt.moves.all(id) as MoveRow[]).map((row) => ({
      consumer: row.consumer,
      resourceId: row.resource_id,
      action: row.action,
      oldSealed: row.old_secret,
      newSealed: row.new_secret,
      state: row.state,
      detail: row.detail ?? undefined,
    }));
  }

  moveCounts(id: string): { state: MoveState; action: MoveAction; n: number }[] {
    return this.stmt.moveCounts.all(id) as { state: MoveState; action: MoveAction; n: number }[];
  }

  setMoveState(id: string, consumer: string, state: MoveState, detail?: string): void {
    this.stmt.setMoveState.run(state, detail ?? null, id, consumer);
  }

  atomically<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}

function fromRow(row: RotationRow): RotationRecord {
  return {
    id: row.id,
    account: row.account,
    resourceGroup: row.resource_group,
    retireIndex: row.retire_index === 1 ? 1 : 0,
    reissueSas: row.reissue_sas === 1,
    status: row.status,
    step: row.step,
    phase: row.phase,
    plan: JSON.parse(row.plan),
    error: row.error === null ? undefined : (JSON.parse(row.error) as { code: string; message: string }),
    callerId: row.caller_id,
    callerName: row.caller_name,
    attempts: row.attempts,
    created: row.created,
    updated: row.updated,
    ended: row.ended ?? undefined,
  };
}
