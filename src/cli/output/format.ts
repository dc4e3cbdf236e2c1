import type YamlModule from 'yaml';
import { lazyModule } from '../lazy-module.js';

const yaml = lazyModule<typeof YamlModule>('yaml');

export const OUTPUT_FORMATS = ['json', 'jsonc', 'table', 'tsv', 'yaml', 'none'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Renders a command's result as az does for each `--output` format. The value
 * is plain JSON data (see toPlain); the result ends with a newline, or is empty.
 */
export function formatOutput(value: unknown, format: OutputFormat, color: boolean): string {
  switch (format) {
    case 'none':
      return '';
    case 'json':
      return `${JSON.stringify(value, null, 2)}\n`;
    case 'jsonc':
      return `${color ? colorJson(value) : JSON.stringify(value, null, 2)}\n`;
    case 'yaml':
      return value === undefined ? '' : yaml().stringify(value);
    case 'table':
      return table(value);
    case 'tsv':
      return tsv(value);
  }
}

/** Dates become ISO strings and undefined fields disappear, as in the JSON the service sent. */
export function toPlain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown) => value === null || typeof value !== 'object';

/** az prints Python's spelling of booleans and of null in tables and tsv; scripts written for az compare with it. */
function scalarText(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return '';
  return String(value);
}

/** Rows of a result: a list's items, or the value itself; a list of scalars becomes a one-column "Result". */
function rows(value: unknown): Record<string, unknown>[] {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return items.map((item) => (isObject(item) ? item : { Result: item }));
}

/** `resourceGroup` and `resource_group` both head their column as `ResourceGroup`, as az's tables do. */
function heading(key: string): string {
  return key
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Columns az's tables leave out (knack's SKIP_KEYS): resource ids and ETags,
 * and ARM resource types ('Microsoft.Storage/storageAccounts'); a `type` that
 * says something else (a datastore's azure_blob) stays.
 */
function skipped(key: string, cell: unknown): boolean {
  return key === 'id' || key === 'etag' || (key === 'type' && typeof cell === 'string' && cell.includes('/'));
}

/** az's default table: one column per top-level scalar field, in the order fields first appear; nested values left out. */
function table(value: unknown): string {
  const data = rows(value);
  const columns: string[] = [];
  for (const row of data) {
    for (const [key, cell] of Object.entries(row)) if (isScalar(cell) && !skipped(key, cell) && !columns.includes(key)) columns.push(key);
  }
  if (columns.length === 0) return '';
  const cells = data.map((row) => columns.map((column) => scalarText(row[column])));
  const headers = columns.map(heading);
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n') + '\n';
}

/** az's tsv: one line per item, its scalar fields tab-separated in order; nested values left out. */
function tsv(value: unknown): string {
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const lines = items.map((item) => (isObject(item) ? Object.values(item).filter(isScalar).map(scalarText).join('\t') : Array.isArray(item) ? item.filter(isScalar).map(scalarText).join('\t') : scalarText(item)));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

const COLORS = { key: '\x1b[94m', string: '\x1b[32m', literal: '\x1b[33m', reset: '\x1b[0m' };

/** Indented JSON with keys, strings and literals colored, for a terminal. */
function colorJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (match, string: string | undefined, colon: string | undefined, literal: string | undefined) => {
      if (string !== undefined) return colon ? `${COLORS.key}${string}${COLORS.reset}${colon}` : `${COLORS.string}${string}${COLORS.reset}`;
      return `${COLORS.literal}${literal ?? match}${COLORS.reset}`;
    },
  );
}
