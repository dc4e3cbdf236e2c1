import { isInline } from '../content-refs.js';
import type { Queryable } from './sql.js';

/**
 * The content reference counts one transaction changes (the PostgreSQL side of
 * content-refs.ts). Adds and releases are noted as the transaction goes and
 * applied together by `settle`, its last step: the content rows are then locked
 * in one order (by id) by every transaction, after every other lock it takes, so
 * two transactions that share content never deadlock on its rows.
 *
 * `settle` replays the noted steps against the locked counts exactly as the
 * SQLite dialect applies them one by one (a row made on the first reference,
 * dropped when its count reaches zero), so the orphans come out the same and
 * in the same order: the files that lost their last reference, which the
 * caller unlinks once the transaction has committed. Inline content that
 * loses its last reference is deleted in the transaction itself.
 */
export class ContentLedger {
  private steps: { id: string; add: boolean }[] = [];

  add(ids: Iterable<string>): void {
    for (const id of ids) this.steps.push({ id, add: true });
  }

  release(ids: Iterable<string>): void {
    for (const id of ids) this.steps.push({ id, add: false });
  }

  /** Applies what was noted (then forgets it); answers the orphaned content files. */
  async settle(q: Queryable): Promise<string[]> {
    const steps = this.steps;
    this.steps = [];
    if (steps.length === 0) return [];
    // Content ids are ASCII (hex, `inline:` + hex): this order is the "C" collation's.
    const ids = [...new Set(steps.map((step) => step.id))].sort();
    // Only adds (a new blob's content): no count can reach zero, so the counts need not be read first.
    if (steps.every((step) => step.add)) {
      const adds = new Map<string, number>();
      for (const { id } of steps) adds.set(id, (adds.get(id) ?? 0) + 1);
      await addRefs(q, ids, ids.map((id) => adds.get(id)!));
      return [];
    }
    const { rows } = await q.query<{ id: string; refs: string }>('SELECT id, refs FROM content WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C" FOR UPDATE', [ids]);
    const before = new Map(rows.map((row) => [row.id, Number(row.refs)]));
    const counts = new Map(before);
    const orphans: string[] = [];
    const inlineGone: string[] = [];
    for (const { id, add } of steps) {
      const refs = counts.get(id);
      if (add) {
        counts.set(id, (refs ?? 0) + 1);
      } else if (refs !== undefined) {
        if (refs - 1 > 0) {
          counts.set(id, refs - 1);
        } else {
          counts.delete(id);
          if (isInline(id)) inlineGone.push(id);
          else orphans.push(id);
        }
      }
    }
    const changed: string[] = [];
    const deltas: number[] = [];
    const dropped: string[] = [];
    for (const id of ids) {
      const was = before.get(id);
      const now = counts.get(id);
      if (now === undefined) {
        if (was !== undefined) dropped.push(id);
      } else if (now !== was) {
        changed.push(id);
        deltas.push(now - (was ?? 0));
      }
    }
    if (changed.length > 0) await addRefs(q, changed, deltas);
    if (dropped.length > 0) await q.query('DELETE FROM content WHERE id = ANY($1::text[])', [dropped]);
    if (inlineGone.length > 0) await q.query('DELETE FROM inline_content WHERE id = ANY($1::text[])', [inlineGone]);
    return orphans;
  }
}

/**
 * Adds `deltas[i]` references to content `ids[i]` (ids in "C" order, the order
 * their rows are locked in), making the rows that are missing. Added to, not
 * set: a row that did not exist when locked may have been made since by another transaction.
 */
async function addRefs(q: Queryable, ids: string[], deltas: number[]): Promise<void> {
  await q.query(
    `INSERT INTO content (id, refs) SELECT * FROM unnest($1::text[], $2::bigint[])
     ON CONFLICT (id) DO UPDATE SET refs = content.refs + EXCLUDED.refs`,
    [ids, deltas],
  );
}
