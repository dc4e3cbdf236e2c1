import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/storage/http/errors.js';
import { checkFilePath, checkShareName, leafName, parentKey, pathKey } from '../../src/storage/file/names.js';

function codeOf(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return error instanceof StorageError ? error.code : 'not a StorageError';
  }
}

describe('share names', () => {
  it.each(['abc', 'my-share-1', 'a'.repeat(63)])('accepts %s', (name) => expect(codeOf(() => checkShareName(name))).toBeUndefined());
  it.each(['ab', 'a'.repeat(64), 'My-share', 'my--share', '-share', 'share-', 'my_share', 'sh.re'])('refuses %s', (name) =>
    expect(codeOf(() => checkShareName(name))).toBe('InvalidResourceName'),
  );
});

describe('file paths', () => {
  it.each(['a', 'dir/sub/file.txt', 'spaces are fine', 'ünïcödé/名前', 'x'.repeat(255), 'a.b.c', '#hash%percent'])('accepts %s', (path) =>
    expect(codeOf(() => checkFilePath(path))).toBeUndefined(),
  );
  it.each([
    ['a segment over 255 characters', 'x'.repeat(256)],
    ['an empty segment', 'a//b'],
    ['a trailing slash', 'a/'],
    ['a leading slash', '/a'],
    ['.', 'a/./b'],
    ['..', '../etc/passwd'],
    ['a backslash', 'a\\b'],
    ['a colon', 'c:'],
    ['a pipe', 'a|b'],
    ['angle brackets', 'a<b>'],
    ['an asterisk', '*'],
    ['a question mark', 'what?'],
    ['a double quote', 'say "hi"'],
    ['a control character', 'a\u0001b'],
    ['more than 2048 characters', Array.from({ length: 10 }, () => 'y'.repeat(250)).join('/')],
    ['more than 250 levels', Array.from({ length: 251 }, () => 'd').join('/')],
  ])('refuses %s', (_why, path) => expect(codeOf(() => checkFilePath(path))).toBe('InvalidResourceName'));
});

describe('path keys', () => {
  it('are case-insensitive', () => expect(pathKey('Dir/File.TXT')).toBe(pathKey('dir/file.txt')));
  it('name the parent directory', () => {
    expect(parentKey('a/b/c')).toBe('a/b');
    expect(parentKey('a')).toBe('');
    expect(parentKey('')).toBeNull();
  });
  it('name the last segment', () => expect(leafName('a/b/Name.txt')).toBe('Name.txt'));
});
