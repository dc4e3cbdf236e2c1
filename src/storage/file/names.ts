import { StorageError } from '../http/errors.js';
import { isContainerOrShareName } from '../http/resource-names.js';

const invalidName = (why: string) => new StorageError(400, 'InvalidResourceName', `The specified resource name contains invalid characters or is too long: ${why}`);

export function checkShareName(name: string): void {
  if (!isContainerOrShareName(name)) {
    throw invalidName(`share name '${name}' must be 3-63 characters of lowercase letters, digits and single hyphens, starting and ending with a letter or digit.`);
  }
}

const MAX_SEGMENT = 255;
const MAX_PATH = 2048;
const MAX_DEPTH = 250;
// Azure refuses these in file and directory names, and control characters.
const FORBIDDEN = /["\\/:|<>*?\u0000-\u001f]/;

/**
 * A directory or file path below the share: segments separated by '/', each
 * 1-255 characters, none '.' or '..' and none with `"\/:|<>*?` or control
 * characters. Names only ever become metadata keys, never file-system paths,
 * but refusing what Azure refuses keeps clients honest.
 */
export function checkFilePath(path: string): void {
  if (path.length > MAX_PATH) throw invalidName(`a path may be at most ${MAX_PATH} characters; this one has ${path.length}.`);
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) throw invalidName(`a path may be at most ${MAX_DEPTH} directories deep.`);
  for (const segment of segments) {
    if (segment === '') throw invalidName(`'${path}' has an empty segment: remove leading, trailing or doubled '/'.`);
    if (segment.length > MAX_SEGMENT) throw invalidName(`each directory or file name may be at most ${MAX_SEGMENT} characters; '${segment.slice(0, 32)}...' has ${segment.length}.`);
    if (segment === '.' || segment === '..') throw invalidName(`'.' and '..' are not valid directory or file names.`);
    const bad = FORBIDDEN.exec(segment);
    if (bad) {
      const shown = bad[0] < ' ' ? `control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}` : `'${bad[0]}'`;
      throw invalidName(`'${segment}' contains ${shown}; names cannot contain " \\ / : | < > * ? or control characters.`);
    }
  }
}

/** The key that identifies a path: Azure Files names are case-insensitive. */
export function pathKey(path: string): string {
  return path.toLowerCase();
}

/** The parent directory's key ('' for the share root), or null for the root itself. */
export function parentKey(key: string): string | null {
  if (key === '') return null;
  const slash = key.lastIndexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

export function leafName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
