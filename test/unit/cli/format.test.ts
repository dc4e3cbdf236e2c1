import { describe, expect, test } from 'vitest';
import { formatOutput, toPlain } from '../../../src/cli/output/format.js';

const items = [
  { name: 'a', resource_group: 'rg', enabled: true, count: 2, tags: { x: '1' }, missing: null },
  { name: 'bbbb', resource_group: 'rg', enabled: false, count: 10, extra: 'late' },
];

describe('az output formats', () => {
  test('table: scalar columns in first-seen order, headed in PascalCase, nested values left out, Python booleans', () => {
    expect(formatOutput(items, 'table', false)).toBe(
      ['Name  ResourceGroup  Enabled  Count  Missing  Extra', '----  -------------  -------  -----  -------  -----', 'a     rg             True     2', 'bbbb  rg             False    10              late', ''].join('\n'),
    );
    expect(formatOutput(['x', 'y'], 'table', false)).toBe('Result\n------\nx\ny\n');
    expect(formatOutput([], 'table', false)).toBe('');
  });

  test('tsv: one line per item, scalar fields only; a scalar alone', () => {
    expect(formatOutput(items, 'tsv', false)).toBe('a\trg\tTrue\t2\t\nbbbb\trg\tFalse\t10\tlate\n');
    expect(formatOutput('id-1', 'tsv', false)).toBe('id-1\n');
    expect(formatOutput(['k1', 'k2'], 'tsv', false)).toBe('k1\nk2\n');
    expect(formatOutput(null, 'tsv', false)).toBe('\n');
  });

  test('json and yaml; jsonc colors only for a terminal; none prints nothing', () => {
    expect(formatOutput({ a: [1] }, 'json', false)).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    expect(formatOutput({ a: 'b', n: 1, t: true }, 'yaml', false)).toBe('a: b\nn: 1\nt: true\n');
    expect(formatOutput({ a: 'b' }, 'jsonc', false)).toBe('{\n  "a": "b"\n}\n');
    expect(formatOutput({ a: 'b', n: null }, 'jsonc', true)).toBe('{\n  \x1b[94m"a"\x1b[0m: \x1b[32m"b"\x1b[0m,\n  \x1b[94m"n"\x1b[0m: \x1b[33mnull\x1b[0m\n}\n');
    expect(formatOutput({ a: 1 }, 'none', false)).toBe('');
  });

  test('toPlain turns dates into ISO strings and drops undefined fields, as the service JSON had them', () => {
    expect(toPlain({ at: new Date(0), gone: undefined, list: [new Date(1000)] })).toEqual({ at: '1970-01-01T00:00:00.000Z', list: ['1970-01-01T00:00:01.000Z'] });
  });
});
