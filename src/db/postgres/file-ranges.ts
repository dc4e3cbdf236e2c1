import { cutOut } from '../range-math.js';
import type { StoredRange } from '../records.js';
import type { FileTx } from './file-tx.js';
import type { Queryable } from './sql.js';

const COLUMNS = 'first_byte, last_byte, content_id, content_offset';

interface RangeRow {
  first_byte: string;
  last_byte: string;
  content_id: string;
  content_offset: string;
}

/**
 * The written ranges of files (table file_ranges), the PostgreSQL side of
 * range-rows.ts for Azure Files: rows never overlap and each holds one
 * reference on its content file. Writes run in the caller's transaction under
 * the file's lock (see files.ts) and note their reference changes in the order
 * RangeRows makes them, so the orphans come out the same as on SQLite.
 */
export class PgFileRanges {
  /** The ranges that overlap bytes [first, last], in order. */
  async overlapping(q: Queryable, fileId: number, first: number, last: number): Promise<StoredRange[]> {
    // Ranges never overlap, so those touching [first, last] start at or after the last one starting at or before `first`.
    const { rows } = await q.query<RangeRow>(
      `SELECT ${COLUMNS} FROM file_ranges WHERE file_id = $1 AND first_byte <= $2
         AND first_byte >= (SELECT COALESCE(MAX(first_byte), 0) FROM file_ranges WHERE file_id = $1 AND first_byte <= $3)
       ORDER BY first_byte`,
      [fileId, last, first],
    );
    return rows.map(toRange).filter((range) => range.last >= first);
  }

  async all(q: Queryable, fileId: number): Promise<StoredRange[]> {
    const { rows } = await q.query<RangeRow>(`SELECT ${COLUMNS} FROM file_ranges WHERE file_id = $1 ORDER BY first_byte`, [fileId]);
    return rows.map(toRange);
  }

  async count(q: Queryable, fileId: number): Promise<number> {
    const { rows } = await q.query<{ count: string }>('SELECT COUNT(*) AS count FROM file_ranges WHERE file_id = $1', [fileId]);
    return Number(rows[0]!.count);
  }

  /** Stores `range` (whose content holds no reference from it yet) over whatever was written there. */
  async write(tx: FileTx, fileId: number, range: StoredRange): Promise<void> {
    await this.clear(tx, fileId, range.first, range.last);
    tx.refs.add([range.contentId]);
    await insertRows(tx.q, fileId, [range]);
  }

  /** Forgets bytes [first, last]: ranges inside go, ranges across an end are trimmed or split. */
  async clear(tx: FileTx, fileId: number, first: number, last: number): Promise<void> {
    const touched = await this.overlapping(tx.q, fileId, first, last);
    if (touched.length === 0) return;
    await tx.q.query('DELETE FROM file_ranges WHERE file_id = $1 AND first_byte = ANY($2::bigint[])', [fileId, touched.map((range) => range.first)]);
    const kept: StoredRange[] = [];
    for (const range of touched) {
      const parts = cutOut(range, first, last);
      kept.push(...parts);
      // Each part's reference before the old range's release, as RangeRows does: a split range's content never drops to zero.
      tx.refs.add(parts.map((part) => part.contentId));
      tx.refs.release([range.contentId]);
    }
    await insertRows(tx.q, fileId, kept);
  }

  /**
   * Replaces `expected`, the ranges over [merged.first, merged.last] exactly as
   * they were read, by `merged` over the same bytes. False, changing nothing,
   * when a write changed any of them meanwhile.
   */
  async replace(tx: FileTx, fileId: number, expected: readonly StoredRange[], merged: StoredRange): Promise<boolean> {
    const current = await this.overlapping(tx.q, fileId, merged.first, merged.last);
    const unchanged =
      current.length === expected.length &&
      current.every(
        (range, i) =>
          range.first === expected[i]!.first &&
          range.last === expected[i]!.last &&
          range.contentId === expected[i]!.contentId &&
          range.contentOffset === expected[i]!.contentOffset,
      );
    if (!unchanged) return false;
    await tx.q.query('DELETE FROM file_ranges WHERE file_id = $1 AND first_byte = ANY($2::bigint[])', [fileId, current.map((range) => range.first)]);
    tx.refs.add([merged.contentId]);
    await insertRows(tx.q, fileId, [merged]);
    tx.refs.release(current.map((range) => range.contentId));
    return true;
  }

  /** Gives file `to` (which has none) the same ranges as file `from`, over the same content files. */
  async copy(tx: FileTx, from: number, to: number): Promise<void> {
    const { rows } = await tx.q.query<{ content_id: string }>(
      `WITH copied AS (
         INSERT INTO file_ranges (file_id, ${COLUMNS}) SELECT $2, ${COLUMNS} FROM file_ranges WHERE file_id = $1 RETURNING first_byte, content_id
       ) SELECT content_id FROM copied ORDER BY first_byte`,
      [from, to],
    );
    tx.refs.add(rows.map((row) => row.content_id));
  }

  /** Forgets every range of the file. */
  async drop(tx: FileTx, fileId: number): Promise<void> {
    const { rows } = await tx.q.query<{ content_id: string }>(
      'WITH gone AS (DELETE FROM file_ranges WHERE file_id = $1 RETURNING first_byte, content_id) SELECT content_id FROM gone ORDER BY first_byte',
      [fileId],
    );
    tx.refs.release(rows.map((row) => row.content_id));
  }
}

async function insertRows(q: Queryable, fileId: number, ranges: readonly StoredRange[]): Promise<void> {
  if (ranges.length === 0) return;
  await q.query(
    `INSERT INTO file_ranges (file_id, ${COLUMNS}) SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[])`,
    [fileId, ranges.map((range) => range.first), ranges.map((range) => range.last), ranges.map((range) => range.contentId), ranges.map((range) => range.contentOffset)],
  );
}

/** BIGINT columns come back from `pg` as strings; a file's offsets stay below 4 TiB, well inside 2^53. */
function toRange(row: RangeRow): StoredRange {
  return { first: Number(row.first_byte), last: Number(row.last_byte), contentId: row.content_id, contentOffset: Number(row.content_offset) };
}
