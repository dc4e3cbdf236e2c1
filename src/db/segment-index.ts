import { SEGMENT_END, SEGMENT_PREFIX } from '../bytes/segments.js';
import type { AsyncStore } from './async-store.js';
import { ContentRefs } from './content-refs.js';
import { RangeRows, type OwnedRange } from './range-rows.js';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

/** A page range to point at a copy of its bytes, `offset` into `to`. */
export interface PageMove {
  page: OwnedRange;
  to: string;
  offset: number;
}

/**
 * The page ranges whose bytes are in segments (src/bytes/segments.ts), as their
 * compactor sees them. Only the embedded dialect has it: only a node alone
 * writes segments.
 */
export class SegmentRepo {
  private readonly refs: ContentRefs;
  private readonly pages: RangeRows;
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.refs = new ContentRefs(db);
    this.pages = new RangeRows(db, 'page_ranges', ['account', 'container', 'blob', 'snapshot'], this.refs);
    this.stmt = {
      after: db.prepare(`SELECT id, refs FROM content WHERE id > ? AND id < '${SEGMENT_END}' AND refs > 0 ORDER BY id LIMIT ?`),
      refs: db.prepare('SELECT refs FROM content WHERE id = ? AND refs > 0').pluck(),
    };
  }

  /** Up to `limit` segments something refers to, in id order, after `after`, each with its count of references (pages). */
  segmentsAfter(after: string, limit: number): { id: string; refs: number }[] {
    return this.stmt.after.all(after < SEGMENT_PREFIX ? SEGMENT_PREFIX : after, limit) as { id: string; refs: number }[];
  }

  /** The pages, whoever's, whose bytes are in `segment`. */
  pagesIn(segment: string): OwnedRange[] {
    return this.pages.inSegment(segment);
  }

  /**
   * Points each page range, if it is still as read, at a copy of its bytes; a
   * range a write changed meanwhile stays. Returns the content nothing refers to any more.
   */
  movePages(moves: readonly PageMove[]): string[] {
    return transact(this.db, () => {
      const orphans: string[] = [];
      for (const move of moves) this.pages.move(move.page, move.to, move.offset, orphans);
      return orphans;
    });
  }

  /** Whether anything refers to the content. */
  isReferenced(id: string): boolean {
    return this.stmt.refs.get(id) !== undefined;
  }
}

export type SegmentIndex = AsyncStore<SegmentRepo>;
