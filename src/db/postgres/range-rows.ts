import { cutOut, sameRanges } from '../range-math.js';
import type { Owner } from '../range-rows.js';
import type { StoredRange } from '../records.js';
import type { ContentLedger } from './content-ledger.js';
import type { Queryable } from './sql.js';

/** A write transaction of the Blob or File store (BlobTx, FileTx): its client and the content references it changes. */
export interface RangeTx {
  q: Queryable;
  refs: ContentLedger;
}

const COLUMNS = 'first_byte, last_byte, content_id, content_offset';

interface RangeRow {
  first_byte: string;
  last_byte: string;
  content_id: string;
  content_offset: string;
}

/**
 * The written ranges of sparse content (table file_ranges for Azure Files'
 * files, page_ranges for page blobs): the PostgreSQL side of range-rows.ts.
 * Rows never overlap and each holds one reference on its content file. Every
 * write runs in the caller's transaction, under the owner's lock (see
 * blobs.ts, files.ts), and notes its reference changes in the same order as
 * RangeRows makes them, so the orphans come out the same as on SQLite.
 */
export class PgRangeRows {
  private readonly sql;

  constructor(table: string, ownerColumns: readonly string[]) {
    // The owner's values come first ($1..$n); a second owner (copy, rename) and the other parameters follow them.
    const n = ownerColumns.length;
    const after = (k: number) => `$${n + k}`;
    const owner = ownerColumns.map((column, i) => `${column} = $${i + 1}`).join(' AND ');
    const ownerList = ownerColumns.join(', ');
    const firstOwner = ownerColumns.map((_, i) => `$${i + 1}`).join(', ');
    const secondOwner = ownerColumns.map((_, i) => after(i + 1));
    this.sql = {
      // Ranges never overlap, so those touching [first, last] start at or after the last one starting at or before `first`.
      overlapping: `SELECT ${COLUMNS} FROM ${table} WHERE ${owner} AND first_byte <= ${after(1)}
         AND first_byte >= (SELECT COALESCE(MAX(first_byte), 0) FROM ${table} WHERE ${owner} AND first_byte <= ${after(2)})
       ORDER BY first_byte`,
      all: `SELECT ${COLUMNS} FROM ${table} WHERE ${owner} ORDER BY first_byte`,
      count: `SELECT COUNT(*) AS count FROM ${table} WHERE ${owner}`,
      delete: `DELETE FROM ${table} WHERE ${owner} AND first_byte = ANY(${after(1)}::bigint[])`,
      insert: `INSERT INTO ${table} (${ownerList}, ${COLUMNS})
       SELECT ${firstOwner}, * FROM unnest(${after(1)}::bigint[], ${after(2)}::bigint[], ${after(3)}::text[], ${after(4)}::bigint[])`,
      copy: `WITH copied AS (
         INSERT INTO ${table} (${ownerList}, ${COLUMNS}) SELECT ${secondOwner.join(', ')}, ${COLUMNS} FROM ${table} WHERE ${owner} RETURNING first_byte, content_id
       ) SELECT content_id FROM copied ORDER BY first_byte`,
      rename: `UPDATE ${table} SET ${ownerColumns.map((column, i) => `${column} = ${secondOwner[i]}`).join(', ')} WHERE ${owner}`,
      drop: `WITH gone AS (DELETE FROM ${table} WHERE ${owner} RETURNING first_byte, content_id) SELECT content_id FROM gone ORDER BY first_byte`,
    };
  }

  /** The ranges that overlap bytes [first, last], in order. */
  async overlapping(q: Queryable, owner: Owner, first: number, last: number): Promise<StoredRange[]> {
    const { rows } = await q.query<RangeRow>(this.sql.overlapping, [...owner, last, first]);
    return rows.map(toRange).filter((range) => range.last >= first);
  }

  async all(q: Queryable, owner: Owner): Promise<StoredRange[]> {
    const { rows } = await q.query<RangeRow>(this.sql.all, [...owner]);
    return rows.map(toRange);
  }

  async count(q: Queryable, owner: Owner): Promise<number> {
    const { rows } = await q.query<{ count: string }>(this.sql.count, [...owner]);
    return Number(rows[0]!.count);
  }

  /** Stores `range` (whose content holds no reference from it yet) over whatever was written there. */
  async write(tx: RangeTx, owner: Owner, range: StoredRange): Promise<void> {
    await this.clear(tx, owner, range.first, range.last);
    tx.refs.add([range.contentId]);
    await this.insertRows(tx.q, owner, [range]);
  }

  /** Forgets bytes [first, last]: ranges inside go, ranges across an end are trimmed or split. */
  async clear(tx: RangeTx, owner: Owner, first: number, last: number): Promise<void> {
    const touched = await this.overlapping(tx.q, owner, first, last);
    if (touched.length === 0) return;
    await this.deleteRows(tx.q, owner, touched);
    const kept: StoredRange[] = [];
    for (const range of touched) {
      const parts = cutOut(range, first, last);
      kept.push(...parts);
      // Each part's reference before the old range's release, as RangeRows does: a split range's content never drops to zero.
      tx.refs.add(parts.map((part) => part.contentId));
      tx.refs.release([range.contentId]);
    }
    await this.insertRows(tx.q, owner, kept);
  }

  /**
   * Replaces `expected`, the ranges over [merged.first, merged.last] exactly as
   * they were read, by `merged` over the same bytes. False, changing nothing,
   * when a write changed any of them meanwhile.
   */
  async replace(tx: RangeTx, owner: Owner, expected: readonly StoredRange[], merged: StoredRange): Promise<boolean> {
    const current = await this.overlapping(tx.q, owner, merged.first, merged.last);
    if (!sameRanges(current, expected)) return false;
    await this.deleteRows(tx.q, owner, current);
    tx.refs.add([merged.contentId]);
    await this.insertRows(tx.q, owner, [merged]);
    tx.refs.release(current.map((range) => range.contentId));
    return true;
  }

  /** Gives `to` (which has none) the same ranges as `from`, over the same content files. */
  async copy(tx: RangeTx, from: Owner, to: Owner): Promise<void> {
    const { rows } = await tx.q.query<{ content_id: string }>(this.sql.copy, [...from, ...to]);
    tx.refs.add(rows.map((row) => row.content_id));
  }

  /** Stores `ranges` (in order, not overlapping) for an owner that has none, each taking a reference on its content. */
  async insertAll(tx: RangeTx, owner: Owner, ranges: readonly StoredRange[]): Promise<void> {
    tx.refs.add(ranges.map((range) => range.contentId));
    await this.insertRows(tx.q, owner, ranges);
  }

  /** Hands every range of `from` to `to` (which has none), references and all. */
  async rename(tx: RangeTx, from: Owner, to: Owner): Promise<void> {
    await tx.q.query(this.sql.rename, [...from, ...to]);
  }

  /** Forgets every range of the owner. */
  async drop(tx: RangeTx, owner: Owner): Promise<void> {
    const { rows } = await tx.q.query<{ content_id: string }>(this.sql.drop, [...owner]);
    tx.refs.release(rows.map((row) => row.content_id));
  }

  private async deleteRows(q: Queryable, owner: Owner, ranges: readonly StoredRange[]): Promise<void> {
    await q.query(this.sql.delete, [...owner, ranges.map((range) => range.first)]);
  }

  private async insertRows(q: Queryable, owner: Owner, ranges: readonly StoredRange[]): Promise<void> {
    if (ranges.length === 0) return;
    await q.query(this.sql.insert, [
      ...owner,
      ranges.map((range) => range.first),
      ranges.map((range) => range.last),
      ranges.map((range) => range.contentId),
      ranges.map((range) => range.contentOffset),
    ]);
  }
}

/** BIGINT columns come back from `pg` as strings; a page blob's or file's offsets stay well below 2^53. */
function toRange(row: RangeRow): StoredRange {
  return { first: Number(row.first_byte), last: Number(row.last_byte), contentId: row.content_id, contentOffset: Number(row.content_offset) };
}
