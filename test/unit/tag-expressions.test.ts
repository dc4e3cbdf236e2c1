import { describe, expect, it } from 'vitest';
import { TagExpressionError, matchesTags, parseTagExpression } from '../../src/storage/http/tag-expressions.js';

const conditions = { conditions: true, container: false };
const filter = { conditions: false, container: true };
const matches = (source: string, tags: Record<string, string>, dialect = conditions, container = 'c') => matchesTags(parseTagExpression(source, dialect), tags, container);

describe('tag expressions', () => {
  it('binds AND tighter than OR, honours parentheses, and compares strings byte by byte', () => {
    const tags = { a: '1', b: '2', rank: '10' };
    expect(matches(`"a" = '1' OR "a" = '9' AND "b" = '9'`, tags)).toBe(true);
    expect(matches(`("a" = '1' OR "a" = '9') AND "b" = '9'`, tags)).toBe(false);
    // '10' < '9' as strings, as Azure compares them.
    expect(matches(`"rank" < '9'`, tags)).toBe(true);
    expect(matches(`rank >= '10' and a <> '2'`, tags)).toBe(true);
    expect(matches(`"missing" <> 'x'`, tags)).toBe(false);
  });

  it('limits Find Blobs by Tags to AND, the six operators but <>, @container, and ranges', () => {
    expect(matches(`@container = 'c' AND "a" = '1'`, { a: '1' }, filter)).toBe(true);
    expect(matches(`@container = 'other' AND "a" = '1'`, { a: '1' }, filter)).toBe(false);
    for (const [source, reason] of [
      [`"a" = '1' OR "b" = '2'`, 'unexpected or'],
      [`"a" <> '1'`, 'unexpected <>'],
      [`("a" = '1')`, 'unexpected ('],
      [`"a" > '1' AND "a" > '2'`, 'unless they define a range'],
      [`@owner = 'x'`, "unsupported parameter '@owner'"],
      [`"a" = 1`, "unexpected '1'"],
      [`"a" = b`, 'expecting tag value'],
    ]) {
      const error = (() => {
        try {
          parseTagExpression(source!, filter);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(TagExpressionError);
      expect((error as Error).message).toContain(reason);
    }
    expect(() => parseTagExpression(`"a" = 'x`, conditions)).toThrow('Error parsing query at or near character position 7: the value has no closing');
  });
});
