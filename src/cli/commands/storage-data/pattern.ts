/**
 * az's `--pattern`: Python's fnmatch, which az matches against a whole path.
 * `*` matches any run of characters, '/' included (so `*.txt` matches
 * `a/b.txt`); `?` one character; `[seq]` and `[!seq]` a character in or out
 * of the set. Matching is case-sensitive, as fnmatch is on Linux.
 */
export function fnmatch(pattern: string): (path: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      // A ']' right after '[' or '[!' belongs to the set; an unclosed '[' is a plain character.
      let end = i + 1;
      if (pattern[end] === '!') end++;
      if (pattern[end] === ']') end++;
      while (end < pattern.length && pattern[end] !== ']') end++;
      if (end >= pattern.length) source += '\\[';
      else {
        let set = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        else if (set.startsWith('^')) set = `\\${set}`;
        source += `[${set}]`;
        i = end;
      }
    } else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 's');
  return (path) => regex.test(path);
}
