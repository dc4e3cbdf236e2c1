import { randomBytes } from 'node:crypto';
import type { Db } from './sqlite.js';

/** Content kept in the metadata store (small blob bodies) rather than as a file. */
export const INLINE_PREFIX = 'inline:';

let inlineCount = 0;
const inlineProcess = randomBytes(4).toString('hex');

/**
 * A new id for inline content. Ids are keys of the content and inline_content
 * B-trees: ordered by time and then a counter, each new one lands on the
 * rightmost page, which the commits of one batch share. Random ids put every
 * append on a page of its own, which doubled its commit's cost. The process's
 * random tag keeps two servers that restart within a millisecond apart.
 */
export function newInlineId(): string {
  inlineCount = (inlineCount + 1) >>> 0;
  return `${INLINE_PREFIX}${Date.now().toString(16).padStart(12, '0')}${inlineCount.toString(16).padStart(8, '0')}${inlineProcess}`;
}

export function isInline(id: string): boolean {
  return id.startsWith(INLINE_PREFIX);
}

/**
 * Reference counts of content. Blobs (through their extents) and uncommitted
 * blocks hold references; a file whose count drops to zero is returned to the
 * caller to unlink once the transaction has committed, and inline content is
 * deleted in the transaction itself. Every method must run inside the caller's
 * transaction.
 */
export class ContentRefs {
  private readonly insert;
  private readonly decrement;
  private readonly dropIfUnused;
  private readonly dropInline;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT INTO content (id, refs) VALUES (?, 1) ON CONFLICT (id) DO UPDATE SET refs = refs + 1');
    this.decrement = db.prepare('UPDATE content SET refs = refs - 1 WHERE id = ? RETURNING refs').pluck();
    this.dropIfUnused = db.prepare('DELETE FROM content WHERE id = ? AND refs <= 0');
    this.dropInline = db.prepare('DELETE FROM inline_content WHERE id = ?');
  }

  add(ids: Iterable<string>): void {
    for (const id of ids) this.insert.run(id);
  }

  /** Drops one reference from each id; returns the files nothing refers to any more. */
  release(ids: Iterable<string>, orphans: string[]): void {
    for (const id of ids) {
      const left = this.decrement.get(id) as number | undefined;
      if (left !== undefined && left <= 0) {
        this.dropIfUnused.run(id);
        if (isInline(id)) this.dropInline.run(id);
        else orphans.push(id);
      }
    }
  }
}

/** Every content id something still refers to, whichever service: what the start-up sweep keeps. */
export function referencedContent(db: Db): Set<string> {
  return new Set(db.prepare('SELECT id FROM content WHERE refs > 0').pluck().all() as string[]);
}
