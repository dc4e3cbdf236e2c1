import { cutOut } from '../range-math.js';
import type { Owner } from '../range-rows.js';
import type { StoredRange } from '../records.js';
import type { BlobTx } from './blob-tx.js';
import type { Queryable } from './sql.js';

/** A page blob's owner key: account, container, blob, snapshot (or `version:<id>`, `deleted:<time>`, '' for the blob). */
const OWNER = 'account = $1 AND container = $2 AND blob = $3 AND snapshot = $4';
const COLUMNS = 'first_byte, last_byte, content_id, content_offset';

interface RangeRow {
  first_byte: string;
  last_byte: string;
  content_id: string;
  content_offset: string;
}

/**
 * The written pages of page blobs, their snapshots and previous versions
 * (table page_ranges): the PostgreSQL side of range-rows.ts for page blobs.
 * Rows never overlap and each holds one reference on its content file. Every
 * write runs in the caller's transaction, under the owning blob's lock, and
 * notes its reference changes in the same order as RangeRows makes them, so
 * the orphans come out the same.
 */
export class PgPageRanges {
  /** The ranges that overlap bytes [first, last], in order. */
  async overlapping(q: Queryable, owner: Owner, first: number, last: number): Promise<StoredRange[]> {
    // Ranges never overlap, so those touching [first, last] start at or after the last one starting at or before `first`.
    const { rows } = await q.query<RangeRow>(
      `SELECT ${COLUMNS} FROM page_ranges WHERE ${OWNER} AND first_byte <= $5
         AND first_byte >= (SELECT COALESCE(MAX(first_byte), 0) FROM page_ranges WHERE ${OWNER} AND first_byte <= $6)
       ORDER BY first_byte`,
      [...owner, last, first],
    );
    return rows.map(toRange).filter((range) => range.last >= first);
  }

  async all(q: Queryable, owner: Owner): Promise<StoredRange[]> {
    const { rows } = await q.query<RangeRow>(`SELECT ${COLUMNS} FROM page_ranges WHERE ${OWNER} ORDER BY first_byte`, [...owner]);
    return rows.map(toRange);
  }

  /** Stores `range` (whose content holds no reference from it yet) over whatever was written there. */
  async write(tx: BlobTx, owner: Owner, range: StoredRange): Promise<void> {
    await this.clear(tx, owner, range.first, range.last);
    tx.refs.add([range.contentId]);
    await this.insertRows(tx, owner, [range]);
  }

  /** Forgets bytes [first, last]: ranges inside go, ranges across an end are trimmed or split. */
  async clear(tx: BlobTx, owner: Owner, first: number, last: number): Promise<void> {
    const touched = await this.overlapping(tx.q, owner, first, last);
    if (touched.length === 0) return;
    await tx.q.query(`DELETE FROM page_ranges WHERE ${OWNER} AND first_byte = ANY($5::bigint[])`, [...owner, touched.map((range) => range.first)]);
    const kept: StoredRange[] = [];
    for (const range of touched) {
      const parts = cutOut(range, first, last);
      kept.push(...parts);
      // Each part's reference before the old range's release, as RangeRows does: a split range's content never drops to zero.
      tx.refs.add(parts.map((part) => part.contentId));
      tx.refs.release([range.contentId]);
    }
    await this.insertRows(tx, owner, kept);
  }

  /** Gives `to` (which has none) the same ranges as `from`, over the same content files. */
  async copy(tx: BlobTx, from: Owner, to: Owner): Promise<void> {
    const { rows } = await tx.q.query<{ content_id: string }>(
      `INSERT INTO page_ranges (account, container, blob, snapshot, ${COLUMNS})
       SELECT $5, $6, $7, $8, ${COLUMNS} FROM page_ranges WHERE ${OWNER} ORDER BY first_byte
       RETURNING content_id`,
      [...from, ...to],
    );
    tx.refs.add(rows.map((row) => row.content_id));
  }

  /** Stores `ranges` (in order, not overlapping) for an owner that has none, each taking a reference on its content. */
  async insertAll(tx: BlobTx, owner: Owner, ranges: readonly StoredRange[]): Promise<void> {
    tx.refs.add(ranges.map((range) => range.contentId));
    await this.insertRows(tx, owner, ranges);
  }

  /** Hands every range of `from` to `to` (which has none), references and all. */
  async rename(tx: BlobTx, from: Owner, to: Owner): Promise<void> {
    await tx.q.query(`UPDATE page_ranges SET account = $5, container = $6, blob = $7, snapshot = $8 WHERE ${OWNER}`, [...from, ...to]);
  }

  /** Forgets every range of the owner. */
  async drop(tx: BlobTx, owner: Owner): Promise<void> {
    const { rows } = await tx.q.query<RangeRow>(`WITH gone AS (DELETE FROM page_ranges WHERE ${OWNER} RETURNING ${COLUMNS}) SELECT * FROM gone ORDER BY first_byte`, [
      ...owner,
    ]);
    tx.refs.release(rows.map((row) => row.content_id));
  }

  private async insertRows(tx: BlobTx, owner: Owner, ranges: readonly StoredRange[]): Promise<void> {
    if (ranges.length === 0) return;
    await tx.q.query(
      `INSERT INTO page_ranges (account, container, blob, snapshot, ${COLUMNS})
       SELECT $1, $2, $3, $4, * FROM unnest($5::bigint[], $6::bigint[], $7::text[], $8::bigint[])`,
      [...owner, ranges.map((range) => range.first), ranges.map((range) => range.last), ranges.map((range) => range.contentId), ranges.map((range) => range.contentOffset)],
    );
  }
}

/** BIGINT columns come back from `pg` as strings; a page blob's offsets stay below 2^53. */
function toRange(row: RangeRow): StoredRange {
  return { first: Number(row.first_byte), last: Number(row.last_byte), contentId: row.content_id, contentOffset: Number(row.content_offset) };
}
