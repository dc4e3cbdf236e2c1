import type pg from 'pg';
import type { StorageAccountRecord } from '../records.js';
import type { PgDirectoryRepo } from './directory.js';
import {
  accountGone,
  moveFromRow,
  notRestored,
  rotationFromRow,
  type JournalEntry,
  type MoveAction,
  type MoveRecord,
  type MoveRow,
  type MoveState,
  type Moves,
  type NewRotation,
  type RotationRecord,
  type RotationRow,
  type RotationKind,
  type RotationStatus,
  type RotationStore,
  type SubjectState,
  type StepPhase,
  type StepRecord,
} from '../rotations.js';
import { UNFINISHED_MIGRATION } from '../keyless-migrations.js';
import type { PgConsumerRepo } from './consumers.js';
import { NOW_MS, serializable, type Queryable } from './sql.js';

/** What a rotation's steps read and write of an account, inside their transaction (the accounts store of this dialect). */
export interface AccountsInTransaction {
  find(q: Queryable, name: string): Promise<StorageAccountRecord | undefined>;
  writeKey(q: Queryable, name: string, index: 0 | 1, key: string, created: number): Promise<StorageAccountRecord | undefined>;
}

const ROTATION_COLUMNS =
  'id, kind, account, resource_group, retire_index, reissue_sas, status, step, phase, plan, error, caller_id, caller_name, attempts, created, updated, ended, new_secret';
const MOVE_COLUMNS = 'consumer, resource_id, action, old_secret, new_secret, state, detail';

/**
 * The PostgreSQL dialect's rotation journal. Each multi-row step is one
 * SERIALIZABLE transaction, run again when PostgreSQL finds that it raced
 * another. That covers races with other serializable transactions only:
 * the writes a step must not miss (a datastore registered with the retired
 * key) have to run serializable too when this dialect is wired in.
 */
export class PgRotationRepo implements RotationStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly accounts: AccountsInTransaction,
    private readonly consumers: PgConsumerRepo,
    private readonly directory: PgDirectoryRepo,
  ) {}

  /**
   * A step's SERIALIZABLE transaction, holding the rotation's row from its first
   * statement. Every journal entry updates that row, and so does a lease renewal
   * (claim): the renewal waits for the step instead of making a long step (10,000
   * consumers) fail at each of its attempts, and no node can claim the rotation
   * while one of its steps runs.
   */
  private step<T>(id: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return serializable(this.pool, async (client) => {
      await client.query('SELECT 1 FROM rotations WHERE id = $1 FOR NO KEY UPDATE', [id]);
      return work(client);
    });
  }

  async start(rotation: NewRotation, detail: Record<string, unknown>): Promise<boolean> {
    return serializable(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO rotations (id, account, resource_group, retire_index, reissue_sas, status, step, phase, plan, caller_id, caller_name, attempts, created, updated, owner, lease_until, kind, new_secret)
         SELECT $1::text, $2::text, $3::text, $4::integer, $5::integer, 'InProgress', 'plan', 'started', $6::text, $7::text, $8::text, 1, $9::bigint, $9::bigint,
                $10::text, ${NOW_MS} + $11::bigint, $12::text, $13::text
          WHERE NOT EXISTS (SELECT 1 FROM keyless_migrations WHERE account = $2 AND state IN ${UNFINISHED_MIGRATION})
         ON CONFLICT DO NOTHING`,
        [
          rotation.id,
          rotation.account,
          rotation.resourceGroup,
          rotation.retireIndex,
          rotation.reissueSas ? 1 : 0,
          JSON.stringify(rotation.plan),
          rotation.callerId,
          rotation.callerName,
          rotation.created,
          rotation.owner,
          rotation.leaseMs,
          rotation.kind,
          rotation.newSealed ?? null,
        ],
      );
      if (rowCount === 1) await writeJournal(client, rotation.id, { step: 'plan', phase: 'done', detail });
      return rowCount === 1;
    });
  }

  async claim(id: string, owner: string, leaseMs: number, evenIfHeld = false): Promise<boolean> {
    // Leases run on the database's clock, which every node shares.
    const { rowCount } = await this.pool.query(
      `UPDATE rotations SET owner = $2, lease_until = ${NOW_MS} + $3
       WHERE id = $1 AND status = 'InProgress' AND ($4 OR owner IS NULL OR owner = $2 OR lease_until < ${NOW_MS})`,
      [id, owner, leaseMs, evenIfHeld],
    );
    return rowCount === 1;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.pool.query('UPDATE rotations SET owner = NULL, lease_until = NULL WHERE id = $1 AND owner = $2', [id, owner]);
  }

  async get(id: string): Promise<RotationRecord | undefined> {
    const { rows } = await this.pool.query<RotationRow>(`SELECT ${ROTATION_COLUMNS} FROM rotations WHERE id = $1`, [id]);
    return rows[0] && rotationFromRow(rows[0]);
  }

  async running(account: string): Promise<RotationRecord | undefined> {
    const { rows } = await this.pool.query<RotationRow>(`SELECT ${ROTATION_COLUMNS} FROM rotations WHERE account = $1 AND status = 'InProgress'`, [account]);
    return rows[0] && rotationFromRow(rows[0]);
  }

  async unfinished(): Promise<RotationRecord[]> {
    const { rows } = await this.pool.query<RotationRow>(`SELECT ${ROTATION_COLUMNS} FROM rotations WHERE status = 'InProgress' ORDER BY created`);
    return rows.map(rotationFromRow);
  }

  async recent(account: string, limit: number): Promise<RotationRecord[]> {
    const { rows } = await this.pool.query<RotationRow>(`SELECT ${ROTATION_COLUMNS} FROM rotations WHERE account = $1 ORDER BY created DESC LIMIT $2`, [account, limit]);
    return rows.map(rotationFromRow);
  }

  async journal(id: string, entry: JournalEntry): Promise<void> {
    await this.step(id, (client) => writeJournal(client, id, entry));
  }

  async steps(id: string): Promise<StepRecord[]> {
    const { rows } = await this.pool.query<{ seq: number; step: string; phase: StepPhase; at: string; detail: string }>(
      'SELECT seq, step, phase, at, detail FROM rotation_steps WHERE rotation_id = $1 ORDER BY seq',
      [id],
    );
    return rows.map((row) => ({ ...row, at: Number(row.at), detail: JSON.parse(row.detail) as Record<string, unknown> }));
  }

  async reached(id: string, step: string, phase: StepPhase): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM rotation_steps WHERE rotation_id = $1 AND step = $2 AND phase = $3 LIMIT 1', [id, step, phase]);
    return rowCount === 1;
  }

  async setError(id: string, error: { code: string; message: string }): Promise<void> {
    await this.pool.query('UPDATE rotations SET error = $1, updated = $2 WHERE id = $3', [JSON.stringify(error), Date.now(), id]);
  }

  async finish(id: string, status: Exclude<RotationStatus, 'InProgress'>, error?: { code: string; message: string }): Promise<void> {
    const now = Date.now();
    await this.pool.query('UPDATE rotations SET status = $1, error = $2, updated = $3, ended = $3 WHERE id = $4', [status, error ? JSON.stringify(error) : null, now, id]);
  }

  async countAttempt(id: string, entry: JournalEntry): Promise<void> {
    await this.step(id, async (client) => {
      await client.query('UPDATE rotations SET attempts = attempts + 1, updated = $1 WHERE id = $2', [Date.now(), id]);
      await writeJournal(client, id, entry);
    });
  }

  moves(id: string): Promise<MoveRecord[]> {
    return movesOf(this.pool, id);
  }

  async moveCounts(id: string): Promise<{ state: MoveState; action: MoveAction; n: number }[]> {
    const { rows } = await this.pool.query<{ state: MoveState; action: MoveAction; n: string }>(
      'SELECT state, action, count(*) AS n FROM rotation_consumers WHERE rotation_id = $1 GROUP BY state, action',
      [id],
    );
    return rows.map((row) => ({ ...row, n: Number(row.n) }));
  }

  async setMoveState(id: string, consumer: string, state: MoveState, detail?: string): Promise<void> {
    await this.pool.query('UPDATE rotation_consumers SET state = $1, detail = $2 WHERE rotation_id = $3 AND consumer = $4', [state, detail ?? null, id, consumer]);
  }

  async moveConsumers<T>(id: string, kind: RotationKind, subject: string, decide: (state: SubjectState) => Moves<T>, entry: (result: T) => JournalEntry): Promise<T> {
    return this.step(id, async (client) => {
      const { changes, result } = decide(await this.subjectState(client, kind, subject));
      if (changes.length > 0) {
        await this.consumers.writeSealed(
          client,
          changes.map((change) => ({ ref: change.holder.ref, sealed: change.newSealed })),
          Date.now(),
        );
        await client.query(
          `INSERT INTO rotation_consumers (rotation_id, consumer, resource_id, action, old_secret, new_secret, state)
           SELECT $1, * , 'moved' FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           ON CONFLICT (rotation_id, consumer) DO UPDATE SET new_secret = excluded.new_secret, action = excluded.action, state = 'moved', detail = NULL`,
          [
            id,
            changes.map((change) => change.holder.ref),
            changes.map((change) => change.resourceId),
            changes.map((change) => change.action),
            changes.map((change) => change.holder.sealed),
            changes.map((change) => change.newSealed),
          ],
        );
      }
      await writeJournal(client, id, entry(result));
      return result;
    });
  }

  async settleMoves(id: string, decide: (moves: MoveRecord[]) => { consumer: string; state: MoveState; detail?: string }[], entry: JournalEntry): Promise<void> {
    await this.step(id, async (client) => {
      for (const { consumer, state, detail } of decide(await movesOf(client, id))) {
        await client.query('UPDATE rotation_consumers SET state = $1, detail = $2 WHERE rotation_id = $3 AND consumer = $4', [state, detail ?? null, id, consumer]);
      }
      await writeJournal(client, id, entry);
    });
  }

  async regenerateKey(id: string, accountName: string, index: 0 | 1, newKey: string, decide: (state: SubjectState) => boolean, entry: JournalEntry): Promise<StorageAccountRecord | false> {
    return this.step(id, async (client) => {
      if (!decide(await this.subjectState(client, 'accountKey', accountName))) return false as const;
      await writeJournal(client, id, entry);
      const updated = await this.accounts.writeKey(client, accountName, index, newKey, Date.now());
      if (!updated) throw accountGone(accountName);
      return updated;
    });
  }

  async retireSecrets(id: string, clientId: string, keptHash: string, decide: (state: SubjectState) => boolean, entry: JournalEntry): Promise<boolean> {
    return this.step(id, async (client) => {
      if (!decide(await this.subjectState(client, 'clientSecret', clientId))) return false;
      await writeJournal(client, id, entry);
      await this.directory.writeSecretHash(client, clientId, keptHash);
      return true;
    });
  }

  private async subjectState(client: pg.PoolClient, kind: RotationKind, subject: string): Promise<SubjectState> {
    return kind === 'accountKey'
      ? { kind, account: await this.accounts.find(client, subject), holders: await this.consumers.holdersOf(client, subject) }
      : { kind, principal: await this.directory.principalOf(client, subject, true), holders: await this.consumers.holdersOfPrincipal(client, subject) };
  }


  async rollbackMoves(id: string, restore: (move: MoveRecord, currentSealed: string | undefined) => boolean, entry: (counts: { restored: number; changedElsewhere: number }) => JournalEntry): Promise<void> {
    await this.step(id, async (client) => {
      const counts = { restored: 0, changedElsewhere: 0 };
      for (const move of await movesOf(client, id)) {
        if (move.state === 'restored' || move.state === 'changedElsewhere') continue;
        const current = await this.consumers.sealedOf(client, move.consumer);
        if (restore(move, current)) {
          await this.consumers.writeSealed(client, [{ ref: move.consumer, sealed: move.oldSealed }], Date.now());
          await client.query("UPDATE rotation_consumers SET state = 'restored', detail = NULL WHERE rotation_id = $1 AND consumer = $2", [id, move.consumer]);
          counts.restored++;
        } else {
          const why = notRestored(current);
          await client.query("UPDATE rotation_consumers SET state = 'changedElsewhere', detail = $1 WHERE rotation_id = $2 AND consumer = $3", [why, id, move.consumer]);
          counts.changedElsewhere++;
        }
      }
      await writeJournal(client, id, entry(counts));
    });
  }
}

/** Appends a journal entry and makes it the rotation's current step. */
async function writeJournal(q: Queryable, id: string, { step, phase, detail }: JournalEntry): Promise<void> {
  const at = Date.now();
  await q.query(
    `INSERT INTO rotation_steps (rotation_id, seq, step, phase, at, detail)
     VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM rotation_steps WHERE rotation_id = $1), $2, $3, $4, $5)`,
    [id, step, phase, at, JSON.stringify(detail)],
  );
  await q.query('UPDATE rotations SET step = $1, phase = $2, updated = $3 WHERE id = $4', [step, phase, at, id]);
}

async function movesOf(q: Queryable, id: string): Promise<MoveRecord[]> {
  const { rows } = await q.query<MoveRow>(`SELECT ${MOVE_COLUMNS} FROM rotation_consumers WHERE rotation_id = $1 ORDER BY consumer COLLATE "C"`, [id]);
  return rows.map(moveFromRow);
}
