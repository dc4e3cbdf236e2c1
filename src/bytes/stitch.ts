import type { StoredRange } from '../db/records.js';
import type { BodyPiece } from './body-pieces.js';

// Shared and never written to, so every unwritten gap can be served from it.
const ZEROS = Buffer.alloc(256 * 1024);

/**
 * Bytes [first, last] of sparse content (a file, a page blob) from its written
 * `ranges` (in order, overlapping that span), gaps as zeros. The caller pins
 * the content files.
 */
export function* stitch(ranges: readonly StoredRange[], first: number, last: number): Generator<BodyPiece> {
  let position = first;
  for (const range of ranges) {
    const from = Math.max(range.first, first);
    const to = Math.min(range.last, last);
    if (from > position) yield* zeros(from - position);
    yield { id: range.contentId, start: range.contentOffset + (from - range.first), end: range.contentOffset + (to - range.first) };
    position = to + 1;
  }
  if (position <= last) yield* zeros(last - position + 1);
}

function* zeros(count: number): Generator<Buffer> {
  for (let left = count; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
}
