import { describe, expect, it } from 'vitest';
import { coalesce, cutOut, diffRanges } from '../../src/db/range-math.js';

const range = { first: 100, last: 199, contentId: 'c', contentOffset: 10 };

describe('cutOut', () => {
  it('drops a range the span covers', () => {
    expect(cutOut(range, 100, 199)).toEqual([]);
    expect(cutOut(range, 0, 500)).toEqual([]);
  });

  it('keeps the head when the span covers the tail', () => {
    expect(cutOut(range, 150, 300)).toEqual([{ first: 100, last: 149, contentId: 'c', contentOffset: 10 }]);
  });

  it('keeps the tail, shifted into its content file, when the span covers the head', () => {
    expect(cutOut(range, 0, 119)).toEqual([{ first: 120, last: 199, contentId: 'c', contentOffset: 30 }]);
  });

  it('splits a range around a span inside it', () => {
    expect(cutOut(range, 110, 189)).toEqual([
      { first: 100, last: 109, contentId: 'c', contentOffset: 10 },
      { first: 190, last: 199, contentId: 'c', contentOffset: 100 },
    ]);
  });

  it('cuts single bytes at either end', () => {
    expect(cutOut(range, 100, 100)).toEqual([{ first: 101, last: 199, contentId: 'c', contentOffset: 11 }]);
    expect(cutOut(range, 199, 199)).toEqual([{ first: 100, last: 198, contentId: 'c', contentOffset: 10 }]);
  });
});

describe('coalesce', () => {
  it('joins touching and overlapping ranges and keeps gaps', () => {
    expect(
      coalesce([
        { first: 0, last: 9 },
        { first: 10, last: 19 },
        { first: 15, last: 30 },
        { first: 32, last: 40 },
      ]),
    ).toEqual([
      { first: 0, last: 30 },
      { first: 32, last: 40 },
    ]);
  });

  it('does not modify its input', () => {
    const input = [
      { first: 0, last: 1 },
      { first: 2, last: 3 },
    ];
    coalesce(input);
    expect(input[0]).toEqual({ first: 0, last: 1 });
  });
});

describe('diffRanges', () => {
  const at = (first: number, last: number, contentId: string, contentOffset = 0) => ({ first, last, contentId, contentOffset });

  it('reports nothing for the same ranges, even when one was split since', () => {
    const before = [at(0, 1023, 'a')];
    expect(diffRanges(before, before)).toEqual({ changed: [], cleared: [] });
    // A clear in the middle leaves the same content at the same offsets on either side.
    expect(diffRanges(before, [at(0, 511, 'a'), at(768, 1023, 'a', 768)])).toEqual({ changed: [], cleared: [{ first: 512, last: 767 }] });
  });

  it('reports new content, content moved to another offset, and bytes written only now', () => {
    expect(diffRanges([at(0, 1023, 'a')], [at(0, 511, 'a'), at(512, 1023, 'b')])).toEqual({ changed: [{ first: 512, last: 1023 }], cleared: [] });
    expect(diffRanges([at(0, 511, 'a')], [at(0, 511, 'a', 512)])).toEqual({ changed: [{ first: 0, last: 511 }], cleared: [] });
    expect(diffRanges([], [at(512, 1023, 'c'), at(1024, 2047, 'd')])).toEqual({ changed: [{ first: 512, last: 2047 }], cleared: [] });
    expect(diffRanges([at(0, 4095, 'a')], [])).toEqual({ changed: [], cleared: [{ first: 0, last: 4095 }] });
  });
});
