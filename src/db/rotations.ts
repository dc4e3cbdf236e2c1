import type { AccountRepo } from './accounts.js';
import type { ConsumerRepo, CredentialHolder } from './consumers.js';
import type { DirectoryRepo, ServicePrincipalRecord } from './directory.js';
import { UNFINISHED_MIGRATION } from './keyless-migrations.js';
import type { StorageAccountRecord } from './records.js';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

export type RotationStatus = 'InProgress' | 'Succeeded' | 'Failed';
export type StepPhase = 'started' | 'done';
export type MoveAction = 'moveKey' | 'reissueSas' | 'moveSecret';
/** What a rotation renews: a storage account's keys, or a service principal's client secret. */
export type RotationKind = 'accountKey' | 'clientSecret';

/**
 * A rotation's subject as one of its steps' transactions reads it: the account
 * or the principal (undefined once deleted), and every holder of its credentials.
 */
export type SubjectState =
  | { kind: 'accountKey'; account: StorageAccountRecord | undefined; holders: CredentialHolder[] }
  | { kind: 'clientSecret'; principal: ServicePrincipalRecord | undefined; holders: CredentialHolder[] };
export type MoveState = 'moved' | 'verified' | 'failed' | 'restored' | 'changedElsewhere';

export interface RotationRecord {
  id: string;
  kind: RotationKind;
  /** The subject: the account's name, or the principal's client id. */
  account: string;
  /** The account's resource group; '' for a principal. */
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
  /** Sealed: the credential the consumers move to when it is not one of the subject's own (a new client secret). */
  newSealed?: string;
}

export interface StepRecord {
  seq: number;
  step: string;
  phase: StepPhase;
  at: number;
  detail: Record<string, unknown>;
}

/** A journal entry: a step, before (started) or after (done) it runs, with counts; never a secret. */
export interface JournalEntry {
  step: string;
  phase: StepPhase;
  detail: Record<string, unknown>;
}

export type NewRotation = Pick<
  RotationRecord,
  'id' | 'kind' | 'account' | 'resourceGroup' | 'retireIndex' | 'reissueSas' | 'plan' | 'callerId' | 'callerName' | 'created' | 'newSealed'
> & {
  /** The node that runs it, holding the rotation's lease for `leaseMs` (renewed by claim). */
  owner: string;
  leaseMs: number;
};

/** What a move step changes: each holder's new credential (sealed), and a result for the caller. */
export interface Moves<T> {
  changes: { holder: CredentialHolder; resourceId: string; action: MoveAction; newSealed: string }[];
  result: T;
}

/** One consumer a rotation changed; the secrets stay sealed. */
export interface MoveRecord {
  consumer: string;
  resourceId: string;
  action: MoveAction;
  oldSealed: string;
  newSealed: string;
  state: MoveState;
  detail?: string;
}

/** A rotations row, in either dialect (PostgreSQL hands BIGINT columns over as text). */
export interface RotationRow {
  id: string;
  kind: RotationKind;
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
  created: number | string;
  updated: number | string;
  ended: number | string | null;
  new_secret: string | null;
}

export interface MoveRow {
  consumer: string;
  resource_id: string;
  action: MoveAction;
  old_secret: string;
  new_secret: string;
  state: MoveState;
  detail: string | null;
}

/** What a rotation's steps decide, inside the store's transaction: synchronous and pure; a throw undoes the step. */
type Decide<A extends unknown[], R> = (...args: A) => R;

/**
 * The rotation journal, as every dialect stores it (the SQLite one below,
 * src/db/postgres/rotations.ts). The steps that change several things at once
 * (moveConsumers, settleMoves, regenerateKey, rollbackMoves) are each one
 * transaction with their journal entry.
 */
export interface RotationStore {
  start(rotation: NewRotation, detail: Record<string, unknown>): Promise<boolean>;
  get(id: string): Promise<RotationRecord | undefined>;
  running(account: string): Promise<RotationRecord | undefined>;
  unfinished(): Promise<RotationRecord[]>;
  recent(account: string, limit: number): Promise<RotationRecord[]>;
  journal(id: string, entry: JournalEntry): Promise<void>;
  steps(id: string): Promise<StepRecord[]>;
  reached(id: string, step: string, phase: StepPhase): Promise<boolean>;
  setError(id: string, error: { code: string; message: string }): Promise<void>;
  finish(id: string, status: Exclude<RotationStatus, 'InProgress'>, error?: { code: string; message: string }): Promise<void>;
  countAttempt(id: string, entry: JournalEntry): Promise<void>;
  /**
   * Takes or renews the lease of a rotation in progress for `owner`, for
   * `leaseMs` on the store's clock: true when it was free, expired, already
   * the owner's, or `evenIfHeld` (a lone SQLite node, whose earlier process is
   * gone). Another node's live lease is never taken.
   */
  claim(id: string, owner: string, leaseMs: number, evenIfHeld?: boolean): Promise<boolean>;
  /** Gives the lease up (a node shutting down), so another node resumes the rotation at once. */
  release(id: string, owner: string): Promise<void>;
  moves(id: string): Promise<MoveRecord[]>;
  moveCounts(id: string): Promise<{ state: MoveState; action: MoveAction; n: number }[]>;
  setMoveState(id: string, consumer: string, state: MoveState, detail?: string): Promise<void>;
  /** `subject` is the account's name (accountKey) or the principal's client id (clientSecret). */
  moveConsumers<T>(id: string, kind: RotationKind, subject: string, decide: Decide<[SubjectState], Moves<T>>, entry: (result: T) => JournalEntry): Promise<T>;
  settleMoves(id: string, decide: Decide<[MoveRecord[]], { consumer: string; state: MoveState; detail?: string }[]>, entry: JournalEntry): Promise<void>;
  regenerateKey(id: string, accountName: string, index: 0 | 1, newKey: string, decide: Decide<[SubjectState], boolean>, entry: JournalEntry): Promise<StorageAccountRecord | false>;
  /**
   * Leaves the principal only `keptHash` (its other secrets stop signing in),
   * with its journal entry, when `decide` says no holder relies on another; false otherwise.
   */
  retireSecrets(id: string, clientId: string, keptHash: string, decide: Decide<[SubjectState], boolean>, entry: JournalEntry): Promise<boolean>;
  rollbackMoves(id: string, restore: Decide<[MoveRecord, string | undefined], boolean>, entry: (counts: { restored: number; changedElsewhere: number }) => JournalEntry): Promise<void>;
}

/**
 * The rotation journal: a row per rotation, its steps in order (each written
 * before and after it runs), and the consumers it changed with their old
 * credential, so that a restart can resume the rotation or roll it back.
 */
export class RotationRepo implements RotationStore {
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly accounts: AccountRepo,
    private readonly consumers: ConsumerRepo,
    private readonly directory: DirectoryRepo,
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO rotations (id, kind, account, resource_group, retire_index, reissue_sas, status, step, phase, plan, caller_id, caller_name, attempts, created, updated, owner, lease_until, new_secret)
         SELECT @id, @kind, @account, @resource_group, @retire_index, @reissue_sas, 'InProgress', @step, @phase, @plan, @caller_id, @caller_name, 1, @created, @created, @owner, @lease_until, @new_secret
          WHERE NOT EXISTS (SELECT 1 FROM keyless_migrations WHERE account = @account AND state IN ${UNFINISHED_MIGRATION})
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
      claim: db.prepare(
        "UPDATE rotations SET owner = @owner, lease_until = @until WHERE id = @id AND status = 'InProgress' AND (@force OR owner IS NULL OR owner = @owner OR lease_until < @now)",
      ),
      release: db.prepare('UPDATE rotations SET owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?'),
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

  /**
   * Records a planned rotation with its first journal entry (plan, done);
   * false when a rotation of the account is already in progress.
   */
  async start(rotation: NewRotation, detail: Record<string, unknown>): Promise<boolean> {
    return transact(this.db, () => {
      const created =
        this.stmt.insert.run({
          id: rotation.id,
          kind: rotation.kind,
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
          owner: rotation.owner,
          lease_until: Date.now() + rotation.leaseMs,
          new_secret: rotation.newSealed ?? null,
        }).changes === 1;
      if (created) this.writeJournal(rotation.id, { step: 'plan', phase: 'done', detail });
      return created;
    });
  }

  async get(id: string): Promise<RotationRecord | undefined> {
    const row = this.stmt.get.get(id) as RotationRow | undefined;
    return row && rotationFromRow(row);
  }

  async running(account: string): Promise<RotationRecord | undefined> {
    const row = this.stmt.running.get(account) as RotationRow | undefined;
    return row && rotationFromRow(row);
  }

  async unfinished(): Promise<RotationRecord[]> {
    return (this.stmt.unfinished.all() as RotationRow[]).map(rotationFromRow);
  }

  async recent(account: string, limit: number): Promise<RotationRecord[]> {
    return (this.stmt.byAccount.all(account, limit) as RotationRow[]).map(rotationFromRow);
  }

  /** Appends a journal entry and makes it the rotation's current step. */
  async journal(id: string, entry: JournalEntry): Promise<void> {
    this.writeJournal(id, entry);
  }

  async steps(id: string): Promise<StepRecord[]> {
    return (this.stmt.steps.all(id) as { seq: number; step: string; phase: StepPhase; at: number; detail: string }[]).map((row) => ({
      ...row,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  async reached(id: string, step: string, phase: StepPhase): Promise<boolean> {
    return this.stmt.hasStep.get(id, step, phase) !== undefined;
  }

  /** The reason a rollback is under way, kept so that a restart finishing it reports the same cause. */
  async setError(id: string, error: { code: string; message: string }): Promise<void> {
    this.stmt.setError.run(JSON.stringify(error), Date.now(), id);
  }

  async finish(id: string, status: Exclude<RotationStatus, 'InProgress'>, error?: { code: string; message: string }): Promise<void> {
    const now = Date.now();
    this.stmt.finish.run(status, error ? JSON.stringify(error) : null, now, now, id);
  }

  /** A restart resumes the rotation: one more attempt, journaled. */
  async countAttempt(id: string, entry: JournalEntry): Promise<void> {
    transact(this.db, () => {
      this.stmt.attempt.run(Date.now(), id);
      this.writeJournal(id, entry);
    });
  }

  async claim(id: string, owner: string, leaseMs: number, evenIfHeld = false): Promise<boolean> {
    const now = Date.now();
    return this.stmt.claim.run({ id, owner, until: now + leaseMs, now, force: evenIfHeld ? 1 : 0 }).changes === 1;
  }

  async release(id: string, owner: string): Promise<void> {
    this.stmt.release.run(id, owner);
  }

  async moves(id: string): Promise<MoveRecord[]> {
    return this.movesOf(id);
  }

  async moveCounts(id: string): Promise<{ state: MoveState; action: MoveAction; n: number }[]> {
    return this.stmt.moveCounts.all(id) as { state: MoveState; action: MoveAction; n: number }[];
  }

  async setMoveState(id: string, consumer: string, state: MoveState, detail?: string): Promise<void> {
    this.stmt.setMoveState.run(state, detail ?? null, id, consumer);
  }

  // ---- The steps of a rotation that change several things at once. Each runs in one
  // transaction with its journal entry: a crash leaves all of it done or none. The
  // `decide` callbacks are synchronous and pure: they see the rows as the transaction
  // does, and throw to undo everything.

  /**
   * Moves consumers off the retired credential: `decide` sees the subject and its
   * credential holders and names the new credential of each one to move; each gets
   * it, and the move is recorded with the credential it had (a consumer moved twice
   * keeps the first). Answers what `decide` answered.
   */
  async moveConsumers<T>(id: string, kind: RotationKind, subject: string, decide: (state: SubjectState) => Moves<T>, entry: (result: T) => JournalEntry): Promise<T> {
    return transact(this.db, () => {
      const { changes, result } = decide(this.subjectState(kind, subject));
      const now = Date.now();
      for (const change of changes) {
        this.consumers.writeSealed(change.holder.ref, change.newSealed, now);
        this.stmt.upsertMove.run({
          rotation_id: id,
          consumer: change.holder.ref,
          resource_id: change.resourceId,
          action: change.action,
          old_secret: change.holder.sealed,
          new_secret: change.newSealed,
        });
      }
      this.writeJournal(id, entry(result));
      return result;
    });
  }

  /** Sets the states `decide` gives the rotation's moves (after a verification), with its journal entry. */
  async settleMoves(id: string, decide: (moves: MoveRecord[]) => { consumer: string; state: MoveState; detail?: string }[], entry: JournalEntry): Promise<void> {
    transact(this.db, () => {
      for (const { consumer, state, detail } of decide(this.movesOf(id))) this.stmt.setMoveState.run(state, detail ?? null, id, consumer);
      this.writeJournal(id, entry);
    });
  }

  /**
   * Regenerates key `index` of the account to `newKey`, with its journal entry,
   * when `decide` (seeing the account and its holders as they are) says no one
   * relies on the key any more; false, changing nothing, when it says some do.
   * Answers the account with its new key.
   */
  async regenerateKey(
    id: string,
    accountName: string,
    index: 0 | 1,
    newKey: string,
    decide: (state: SubjectState) => boolean,
    entry: JournalEntry,
  ): Promise<StorageAccountRecord | false> {
    return transact(this.db, () => {
      if (!decide(this.subjectState('accountKey', accountName))) return false as const;
      this.writeJournal(id, entry);
      const updated = this.accounts.writeKey(accountName, index, newKey, Date.now());
      if (!updated) throw accountGone(accountName);
      return updated;
    });
  }

  async retireSecrets(id: string, clientId: string, keptHash: string, decide: (state: SubjectState) => boolean, entry: JournalEntry): Promise<boolean> {
    return transact(this.db, () => {
      if (!decide(this.subjectState('clientSecret', clientId))) return false;
      this.writeJournal(id, entry);
      this.directory.writeSecretHash(clientId, keptHash);
      return true;
    });
  }

  private subjectState(kind: RotationKind, subject: string): SubjectState {
    return kind === 'accountKey'
      ? { kind, account: this.accounts.find(subject), holders: this.consumers.holdersOf(subject) }
      : { kind, principal: this.directory.principalOf(subject), holders: this.consumers.holdersOfPrincipal(subject) };
  }

  /**
   * Puts back the credential each moved consumer had, when `restore` says so
   * (it sees the credential the consumer holds now: compare-and-set); the
   * others are marked changed elsewhere. Answers the counts, journaled.
   */
  async rollbackMoves(id: string, restore: (move: MoveRecord, currentSealed: string | undefined) => boolean, entry: (counts: { restored: number; changedElsewhere: number }) => JournalEntry): Promise<void> {
    transact(this.db, () => {
      const counts = { restored: 0, changedElsewhere: 0 };
      for (const move of this.movesOf(id)) {
        if (move.state === 'restored' || move.state === 'changedElsewhere') continue;
        const current = this.consumers.sealedOf(move.consumer);
        if (restore(move, current)) {
          this.consumers.writeSealed(move.consumer, move.oldSealed, Date.now());
          this.stmt.setMoveState.run('restored', null, id, move.consumer);
          counts.restored++;
        } else {
          const why = notRestored(current);
          this.stmt.setMoveState.run('changedElsewhere', why, id, move.consumer);
          counts.changedElsewhere++;
        }
      }
      this.writeJournal(id, entry(counts));
    });
  }

  private writeJournal(id: string, { step, phase, detail }: JournalEntry): void {
    const at = Date.now();
    this.stmt.insertStep.run(id, this.stmt.nextSeq.get(id), step, phase, at, JSON.stringify(detail));
    this.stmt.setStep.run(step, phase, at, id);
  }

  private movesOf(id: string): MoveRecord[] {
    return (this.stmt.moves.all(id) as MoveRow[]).map(moveFromRow);
  }
}

export function rotationFromRow(row: RotationRow): RotationRecord {
  return {
    id: row.id,
    kind: row.kind,
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
    attempts: Number(row.attempts),
    created: Number(row.created),
    updated: Number(row.updated),
    ended: row.ended === null ? undefined : Number(row.ended),
    ...(row.new_secret !== null && { newSealed: row.new_secret }),
  };
}

export function moveFromRow(row: MoveRow): MoveRecord {
  return {
    consumer: row.consumer,
    resourceId: row.resource_id,
    action: row.action,
    oldSealed: row.old_secret,
    newSealed: row.new_secret,
    state: row.state,
    detail: row.detail ?? undefined,
  };
}

/** The account a regenerate step was to change is gone: the step fails, and the rotation with it. */
export function accountGone(accountName: string): Error {
  return new Error(`The storage account '${accountName}' was deleted during its rotation.`);
}

/** Why a rollback left a consumer as it is: deleted, or given another credential by someone else. */
export function notRestored(currentSealed: string | undefined): string {
  return currentSealed === undefined ? 'deleted during the rotation' : 'changed by another request during the rotation; left as it is';
}
