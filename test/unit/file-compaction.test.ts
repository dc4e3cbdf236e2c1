import { describe, expect, it } from 'vitest';
import type { StoredRange } from '../../src/db/records.js';
import { planMerges } from '../../src/storage/file/compaction.js';

const MiB = 1024 * 1024;
const range = (first: number, last: number, contentId = `c${first}`): StoredRange => ({ first, last, contentId, contentOffset: 0 });
const spans = (runs: StoredRange[][]) => runs.map((run) => `${run[0]!.first}-${run[run.length - 1]!.last}x${run.length}`);

describe('planMerges', () => {
  it('joins runs of touching ranges and leaves gaps alone', () => {
    expect(spans(planMerges([range(0, 9), range(10, 19), range(20, 29), range(40, 49), range(50, 59), range(70, 79)]))).toEqual(['0-29x3', '40-59x2']);
  });

  it('leaves a lone range and an empty file alone', () => {
    expect(planMerges([range(0, 9)])).toEqual([]);
    expect(planMerges([])).toEqual([]);
  });

  it('caps a merged range at 4 MiB, starting a new run past it', () => {
    const ranges = Array.from({ length: 10 }, (_, i) => range(i * MiB, (i + 1) * MiB - 1));
    expect(spans(planMerges(ranges))).toEqual([`0-${4 * MiB - 1}x4`, `${4 * MiB}-${8 * MiB - 1}x4`, `${8 * MiB}-${10 * MiB - 1}x2`]);
  });

  it('never rewrites a range that is already 4 MiB', () => {
    expect(spans(planMerges([range(0, 9), range(10, 10 + 4 * MiB - 1), range(10 + 4 * MiB, 20 + 4 * MiB)]))).toEqual([]);
  });
});
