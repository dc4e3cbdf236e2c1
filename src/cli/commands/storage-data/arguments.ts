import { InvalidArgumentError, Option } from 'commander';
import { parseTags } from '../common.js';

/**
 * az's three-state flags (`--overwrite`, `--overwrite true`, `--overwrite false`):
 * given alone the flag is true, and scripts may spell the value out.
 */
export function threeStateFlag(flags: string, description: string): Option {
  return new Option(`${flags} [true|false]`, description).argParser((value: string | undefined) => {
    if (value === undefined || /^true$/i.test(value)) return true;
    if (/^false$/i.test(value)) return false;
    throw new InvalidArgumentError('expected true or false (or nothing, for true).');
  });
}

export const METADATA_HELP = 'space-separated metadata: key=value [key=value ...]';

/** `--metadata a=b c=d`, as az takes it: each pair split at its first '='. */
export function parseMetadata(values: string[] | undefined): Record<string, string> | undefined {
  return parseTags(values);
}

/** `--num-results`: a positive count, or '*' for everything. */
export function numResults(value: string): number {
  if (value === '*') return Infinity;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("expected a positive number, or '*' for all.");
  return Number(value);
}

/**
 * az's UTC date-times: `2030-12-31T12:59Z`, `2030-12-31T12:59:59Z` or
 * `2030-12-31Z`. The 'Z' is required: a SAS's times are UTC, and a time
 * without a zone would be read in the local one by some tools and UTC by others.
 */
export function utcDateTime(value: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?Z$/.exec(value);
  const fields = match?.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  if (fields) {
    const [year, month, day, hour, minute, second] = fields as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    // Date.UTC rolls 2030-02-30 over into March; such a date is a typo, not a time.
    if (date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60) return date;
  }
  throw new InvalidArgumentError(`'${value}' is not a UTC date-time; give it as 2030-12-31T12:59Z or 2030-12-31T12:59:59Z (the Z is required).`);
}

/** A SAS's permission letters, each with the name az's help gives it. */
export interface PermissionSet {
  /** What the SAS is for, in messages: 'blob', 'container', 'file'. */
  resource: string;
  letters: Record<string, string>;
}

export const BLOB_PERMISSIONS: PermissionSet = {
  resource: 'blob',
  letters: { r: 'read', a: 'add', c: 'create', w: 'write', d: 'delete', x: 'delete_previous_version', y: 'permanent_delete', t: 'tag', m: 'move', e: 'execute', i: 'set_immutability_policy' },
};

export const CONTAINER_PERMISSIONS: PermissionSet = {
  resource: 'container',
  letters: { ...BLOB_PERMISSIONS.letters, l: 'list', f: 'filter_by_tags' },
};

export const FILE_PERMISSIONS: PermissionSet = { resource: 'file', letters: { r: 'read', c: 'create', w: 'write', d: 'delete' } };

export function permissionsHelp(set: PermissionSet): string {
  return `the SAS's permissions, letters of: ${Object.entries(set.letters)
    .map(([letter, name]) => `(${letter})${name}`)
    .join(' ')}`;
}

/** Checks `--permissions` letters against what a SAS for the resource can grant; commander reports the error. */
export function permissionsFor(set: PermissionSet): (value: string) => string {
  return (value) => {
    const bad = [...value].filter((letter) => !(letter in set.letters));
    if (value === '' || bad.length > 0) {
      const allowed = Object.keys(set.letters).join('');
      throw new InvalidArgumentError(`${bad.length > 0 ? `'${[...new Set(bad)].join('')}' ${bad.length === 1 ? 'is not a permission' : 'are not permissions'} of a ${set.resource} SAS` : 'no permission given'}; use letters of '${allowed}'.`);
    }
    return value;
  };
}
