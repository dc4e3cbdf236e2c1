import type { ContentRefs } from './content-refs.js';
import { cutOut, sameRanges } from './range-math.js';
import type { StoredRange } from './records.js';
import type { Db } from './sqlite.js';

/** The key columns' values of whatever owns a set of ranges (a file's id; a page blob's account, container, name and snapshot). */
export type Owner = readonly (string | number)[];

/**
 * The written ranges of sparse content (Azure Files' files, page blobs): rows
 * of `first_byte, last_byte, content_id, content_offset` under an owner's key
 * columns, never overlapping, each holding one reference on its content file.
 * Bytes no row covers read as zeros. Every method runs inside the caller's
 * transaction; methods that drop references add the ids nothing uses any more
 * to `orphans`.
 */
export class RangeRows {
  private readonly stmt;

  constructor(
    db: Db,
    table: string,
    ownerColumns: readonly string[],
    private readonly refs: ContentRefs,
  ) {
    const owner = ownerColumns.map((column) => `${column} = ?`).join(' AND ');
    const columns = 'first_byte AS first, last_byte AS last, content_id AS contentId, content_offset AS contentOffset';
    this.stmt = {
      // Ranges never overlap, so those touching [first, last] start at or after the last one starting at or before `first`.
      overlapping: db.prepare(
        `SELECT ${columns} FROM ${table} WHERE ${owner} AND first_byte <= ?
           AND first_byte >= (SELECT COALESCE(MAX(first_byte), 0) FROM ${table} WHERE ${owner} AND first_byte <= ?)
         ORDER BY first_byte`,
      ),
      first: db.prepare(`SELECT ${columns} FROM ${table} WHERE ${owner} ORDER BY first_byte LIMIT ?`),
      all: db.prepare(`SELECT ${columns} FROM ${table} WHERE ${owner} ORDER BY first_byte`),
      insert: db.prepare(`INSERT INTO ${table} (${ownerColumns.join(', ')}, first_byte, last_byte, content_id, content_offset) VALUES (${ownerColumns.map(() => '?').join(', ')}, ?, ?, ?, ?)`),
      delete: db.prepare(`DELETE FROM ${table} WHERE ${owner} AND first_byte = ?`),
      count: db.prepare(`SELECT COUNT(*) FROM ${table} WHERE ${owner}`).pluck(),
      content: db.prepare(`SELECT content_id FROM ${table} WHERE ${owner}`).pluck(),
      deleteAll: db.prepare(`DELETE FROM ${table} WHERE ${owner}`),
      rename: db.prepare(`UPDATE ${table} SET ${ownerColumns.map((column) => `${column} = ?`).join(', ')} WHERE ${owner}`),
    };
  }

  /** The ranges that overlap bytes [first, last], in order. */
  overlapping(owner: Owner, first: number, last: number): StoredRange[] {
    return (this.stmt.overlapping.all(...owner, last, ...owner, first) as StoredRange[]).filter((range) => range.last >= first);
  }

  /** The first `limit` ranges, in order. */
  first(owner: Owner, limit: number): StoredRange[] {
    return this.stmt.first.all(...owner, limit) as StoredRange[];
  }

  all(owner: Owner): StoredRange[] {
    return this.stmt.all.all(...owner) as StoredRange[];
  }

  count(owner: Owner): number {
    return this.stmt.count.get(...owner) as number;
  }

  /** Stores `range` (whose content holds no reference from it yet) over whatever was written there. */
  write(owner: Owner, range: StoredRange, orphans: string[]): void {
    // The reference first: the ranges cleared may be in the same segment, whose count must not pass through zero.
    this.refs.add([range.contentId]);
    this.clear(owner, range.first, range.last, orphans);
    this.insert(owner, range);
  }

  /** Forgets bytes [first, last]: ranges inside go, ranges across an end are trimmed or split. */
  clear(owner: Owner, first: number, last: number, orphans: string[]): void {
    for (const range of this.overlapping(owner, first, last)) {
      this.stmt.delete.run(...owner, range.first);
      const parts = cutOut(range, first, last);
      for (const part of parts) this.insert(owner, part);
      // Add the parts' references before releasing the old one, so a split range's content never drops to zero.
      this.refs.add(parts.map((part) => part.contentId));
      this.refs.release([range.contentId], orphans);
    }
  }

  /**
   * Replaces `expected`, the ranges over [merged.first, merged.last] exactly as
   * they were read, by `merged` over the same bytes. False, changing nothing,
   * when a write changed any of them meanwhile.
   */
  replace(owner: Owner, expected: readonly StoredRange[], merged: StoredRange, orphans: string[]): boolean {
    const current = this.overlapping(owner, merged.first, merged.last);
    if (!sameRanges(current, expected)) return false;
    for (const range of current) this.stmt.delete.run(...owner, range.first);
    this.refs.add([merged.contentId]);
    this.insert(owner, merged);
    this.refs.release(current.map((range) => range.contentId), orphans);
    return true;
  }

  /** Gives `to` (which has none) the same ranges as `from`, over the same content files. */
  copy(from: Owner, to: Owner): void {
    this.insertAll(to, this.all(from));
  }

  /** Stores `ranges` (in order, not overlapping) for an owner that has none, each taking a reference on its content. */
  insertAll(owner: Owner, ranges: readonly StoredRange[]): void {
    for (const range of ranges) {
      this.refs.add([range.contentId]);
      this.insert(owner, range);
    }
  }

  /** Hands every range of `from` to `to` (which has none), references and all. */
  rename(from: Owner, to: Owner): void {
    this.stmt.rename.run(...to, ...from);
  }

  /** Forgets every range of the owner. */
  drop(owner: Owner, orphans: string[]): void {
    this.refs.release(this.stmt.content.all(...owner) as string[], orphans);
    this.stmt.deleteAll.run(...owner);
  }

  private insert(owner: Owner, range: StoredRange): void {
    this.stmt.insert.run(...owner, range.first, range.last, range.contentId, range.contentOffset);
  }
}
