import { describe, expect, it } from 'vitest';
import { flushDelay } from '../../../src/jobs/job-log.js';

describe("a job log's pace", () => {
  it('appends every half second at first, then less often, so 50,000 appends last about 62 hours of steady output', () => {
    expect(flushDelay(0)).toBe(500);
    expect(flushDelay(9_999)).toBe(500);
    expect(flushDelay(10_000)).toBe(2_500);
    let seconds = 0;
    for (let appends = 0; appends < 50_000; appends++) seconds += flushDelay(appends) / 1000;
    expect(seconds / 3600).toBeCloseTo(62.5, 1);
  });
});
