import type { FileRangeRecord } from './records.js';

/**
 * The parts of `range` outside bytes [first, last]: none when the span covers
 * it, one when the span covers an end, two when the span falls inside it. Each
 * part keeps pointing at the same content file, shifted to its own first byte.
 */
export function cutOut(range: FileRangeRecord, first: number, last: number): FileRangeRecord[] {
  const parts: FileRangeRecord[] = [];
  if (range.first < first) {
    parts.push({ ...range, last: Math.min(range.last, first - 1) });
  }
  if (range.last > last) {
    const start = Math.max(range.first, last + 1);
    parts.push({ ...range, first: start, contentOffset: range.contentOffset + (start - range.first) });
  }
  return parts;
}

/** Ranges sorted by offset, with touching ones joined: what List Ranges reports. */
export function coalesce(ranges: readonly { first: number; last: number }[]): { first: number; last: number }[] {
  const joined: { first: number; last: number }[] = [];
  for (const range of ranges) {
    const previous = joined[joined.length - 1];
    if (previous && range.first <= previous.last + 1) previous.last = Math.max(previous.last, range.last);
    else joined.push({ first: range.first, last: range.last });
  }
  return joined;
}
