import type { StoredRange } from './records.js';

/**
 * The parts of `range` outside bytes [first, last]: none when the span covers
 * it, one when the span covers an end, two when the span falls inside it. Each
 * part keeps pointing at the same content file, shifted to its own first byte.
 */
export function cutOut(range: StoredRange, first: number, last: number): StoredRange[] {
  const parts: StoredRange[] = [];
  if (range.first < first) {
    parts.push({ ...range, last: Math.min(range.last, first - 1) });
  }
  if (range.last > last) {
    const start = Math.max(range.first, last + 1);
    parts.push({ ...range, first: start, contentOffset: range.contentOffset + (start - range.first) });
  }
  return parts;
}

/** Whether two lists of ranges are the same rows: same bytes, same content file, same offset, in the same order. */
export function sameRanges(a: readonly StoredRange[], b: readonly StoredRange[]): boolean {
  return (
    a.length === b.length &&
    a.every((range, i) => range.first === b[i]!.first && range.last === b[i]!.last && range.contentId === b[i]!.contentId && range.contentOffset === b[i]!.contentOffset)
  );
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

/**
 * What changed from `previous` to `current` (each in order, not overlapping):
 * the spans written since (covered now by other content, or at another offset
 * of it) and the spans cleared since (written then, not now). Content files
 * are never rewritten, so the same file at the same offset means the same bytes.
 */
export function diffRanges(
  previous: readonly StoredRange[],
  current: readonly StoredRange[],
): { changed: { first: number; last: number }[]; cleared: { first: number; last: number }[] } {
  const bounds = new Set<number>();
  for (const range of [...previous, ...current]) bounds.add(range.first).add(range.last + 1);
  const points = [...bounds].sort((a, b) => a - b);
  const changed: { first: number; last: number }[] = [];
  const cleared: { first: number; last: number }[] = [];
  let p = 0;
  let c = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const first = points[k]!;
    const last = points[k + 1]! - 1;
    while (p < previous.length && previous[p]!.last < first) p++;
    while (c < current.length && current[c]!.last < first) c++;
    const before = previous[p] !== undefined && previous[p]!.first <= first ? previous[p] : undefined;
    const now = current[c] !== undefined && current[c]!.first <= first ? current[c] : undefined;
    if (now) {
      const same = before !== undefined && before.contentId === now.contentId && before.contentOffset - before.first === now.contentOffset - now.first;
      if (!same) changed.push({ first, last });
    } else if (before) {
      cleared.push({ first, last });
    }
  }
  return { changed: coalesce(changed), cleared: coalesce(cleared) };
}
