import { describe, it, expect } from 'vitest';
import { compareHeader } from '../../../node_modules/@azure/storage-common/dist/esm/utils/SharedKeyComparator.js';
import { compareHeaderNames } from '../../../src/storage/auth/header-order.js';

describe('compareHeaderNames', () => {
  it('orders names exactly as the JS SDK signs them', () => {
    // Every pair of short names over the characters where the culture-aware order
    // and the ordinal order part ways.
    const alphabet = ['a', 'b', '1', '-', "'", '_', '.', '~'];
    const names = [''];
    for (let length = 1; length <= 3; length++) {
      for (const prefix of names.filter((n) => n.length === length - 1)) for (const c of alphabet) names.push(prefix + c);
    }
    let disagreements = 0;
    for (const a of names) {
      for (const b of names) {
        if (a === b) continue;
        if (compareHeader(a, b) < 0 !== compareHeaderNames(a, b) < 0) disagreements++;
      }
    }
    expect(disagreements).toBe(0);
  });

  it('puts underscores before digits, unlike an ordinal sort', () => {
    const names = ['x-ms-meta-run1', 'x-ms-meta-run_1', 'x-ms-date'];
    expect(names.sort(compareHeaderNames)).toEqual(['x-ms-date', 'x-ms-meta-run_1', 'x-ms-meta-run1']);
  });
});
