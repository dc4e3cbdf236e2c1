import { SEGMENT_END, SEGMENT_PREFIX } from '../bytes/segments.js';
import type { AsyncStore } from './async-store.js';
import { ContentRefs } from './content-refs.js';
import type { StoredRange } from './records.js';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

/** A page range with the page blob (or snapshot, or version) whose it is: account, container, blob, snapshot. */
export interface OwnedRange {
  owner: readonly [string, string, string, string];
  range: StoredRange;
}

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
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.refs = new ContentRefs(db);
    this.stmt = {
      referenced: db.prepare(`SELECT id, refs FROM content WHERE id >= '${SEGMENT_PREFIX}' AND id < '${SEGMENT_END}' AND refs > 0`),
      refs: db.prepare('SELECT refs FROM content WHERE id = ? AND refs > 0').pluck(),
      // The segment terms as the partial index page_ranges_segments states them, so SQLite may use it.
      pagesIn: db.prepare(
        `SELECT account, container, blob, snapshot, first_byte AS first, last_byte AS last, content_id AS contentId, content_offset AS contentOffset
           FROM page_ranges WHERE content_id = ? AND content_id >= '${SEGMENT_PREFIX}' AND content_id < '${SEGMENT_END}'`,
      ),
      move: db.prepare(
        `UPDATE page_ranges SET content_id = ?, content_offset = ?
          WHERE account = ? AND container = ? AND blob = ? AND snapshot = ? AND first_byte = ? AND last_byte = ? AND content_id = ? AND content_offset = ?`,
      ),
    };
  }

  /** The segments something refers to, each with its count of references (pages). */
  referencedSegments(): { id: string; refs: number }[] {
    return this.stmt.referenced.all() as { id: string; refs: number }[];
  }

  /** The pages, whoever's, whose bytes are in `segment`. */
  pagesIn(segment: string): OwnedRange[] {
    type Row = StoredRange & { account: string; container: string; blob: string; snapshot: string };
    return (this.stmt.pagesIn.all(segment) as Row[]).map(({ account, container, blob, snapshot, ...range }) => ({ owner: [account, container, blob, snapshot], range }));
  }

  /**
   * Points each page range, if it is still as read, at a copy of its bytes; a
   * range a write changed meanwhile stays. Returns the content nothing refers to any more.
   */
  movePages(moves: readonly PageMove[]): string[] {
    return transact(this.db, () => {
      const orphans: string[] = [];
      for (const { page, to, offset } of moves) {
        const { first, last, contentId, contentOffset } = page.range;
        if (this.stmt.move.run(to, offset, ...page.owner, first, last, contentId, contentOffset).changes === 0) continue;
        this.refs.add([to]);
        this.refs.release([contentId], orphans);
      }
      return orphans;
    });
  }

  /** Whether anything refers to the content. */
  isReferenced(id: string): boolean {
    return this.stmt.refs.get(id) !== undefined;
  }
}

export type SegmentIndex = AsyncStore<SegmentRepo>;
