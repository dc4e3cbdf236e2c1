import { StorageError } from './errors.js';

/** `maxresults`, defaulting to and capped at 5000 as Azure does; zero or negative is an error. */
export function maxResults(query: URLSearchParams): number {
  const raw = query.get('maxresults');
  if (raw === null) return 5000;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new StorageError(400, 'OutOfRangeQueryParameterValue', `Value for query parameter 'maxresults' is out of range: '${raw}'. Use an integer from 1 to 5000.`, {
      QueryParameterName: 'maxresults',
    });
  }
  return Math.min(value, 5000);
}

/** The comma-separated `include` values, each checked against what the operation understands. */
export function includes(query: URLSearchParams, allowed: readonly string[]): Set<string> {
  const raw = query.get('include');
  const values = new Set(raw ? raw.split(',').map((value) => value.trim().toLowerCase()) : []);
  for (const value of values) {
    if (!allowed.includes(value)) {
      throw new StorageError(400, 'InvalidQueryParameterValue', `Value for query parameter 'include' is invalid: '${value}'. Use any of: ${allowed.join(', ')}.`, {
        QueryParameterName: 'include',
      });
    }
  }
  return values;
}

/** A pair of names (a listing's resume point) as markers carry it: JSON, checked; undefined when it is not one. */
export function parseNamePair(text: string): [string, string] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string') ? (value as [string, string]) : undefined;
  } catch {
    return undefined;
  }
}
