/**
 * The order of canonicalized `x-ms-*` header names in a Shared Key string-to-sign.
 *
 * Azure Storage sorts them with .NET's en-US culture-aware comparison, not
 * ordinally, and the JS SDK imitates it. The two disagree when a name holds '-'
 * or '_' where another holds a letter or digit (`x-ms-meta-run_1` sorts before
 * `x-ms-meta-run1` here, after it ordinally), so an ordinal sort would reject
 * valid SDK requests with such metadata names.
 *
 * The collation, restricted to the characters of HTTP header names:
 * 1. compare the characters' primary weights, skipping hyphen and apostrophe,
 *    which weigh nothing at this level (a shorter sequence sorts first);
 * 2. (case level: names arrive lowercased from node:http, so it never decides;)
 * 3. on a tie, walk both names position by position: at the first position where
 *    they differ, an ordinary character sorts before a hyphen, apostrophe or the
 *    end of the name, the end before an apostrophe, an apostrophe before a hyphen.
 */

const PRIMARY_ORDER = "!#$%&*.^_`|~+0123456789abcdefghijklmnopqrstuvwxyz";
const primaryWeight = new Uint8Array(128);
for (let i = 0; i < PRIMARY_ORDER.length; i++) {
  primaryWeight[PRIMARY_ORDER.charCodeAt(i)] = i + 1;
  primaryWeight[PRIMARY_ORDER.toUpperCase().charCodeAt(i)] = i + 1;
}

const ORDINARY = 0;
const END = 1;
const APOSTROPHE = 2;
const HYPHEN = 3;

function weightAt(name: string, index: number): number {
  const code = name.charCodeAt(index);
  return code < 128 ? primaryWeight[code]! : 0;
}

function tertiaryAt(name: string, index: number): number {
  if (index >= name.length) return END;
  const code = name.charCodeAt(index);
  return code === 0x2d ? HYPHEN : code === 0x27 ? APOSTROPHE : ORDINARY;
}

export function compareHeaderNames(a: string, b: string): number {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && weightAt(a, i) === 0) i++;
    while (j < b.length && weightAt(b, j) === 0) j++;
    if (i === a.length || j === b.length) {
      if (i < a.length) return 1;
      if (j < b.length) return -1;
      break;
    }
    const difference = weightAt(a, i) - weightAt(b, j);
    if (difference !== 0) return difference;
    i++;
    j++;
  }
  for (let k = 0; ; k++) {
    const wa = tertiaryAt(a, k);
    const wb = tertiaryAt(b, k);
    if (wa === wb) {
      if (wa === END) return 0;
      continue;
    }
    if (wa === ORDINARY) return -1;
    if (wb === ORDINARY) return 1;
    return wa - wb;
  }
}
