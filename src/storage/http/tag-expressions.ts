/**
 * The SQL-like expressions over blob index tags that Find Blobs by Tags (`where`)
 * and conditional requests (`x-ms-if-tags`) take: `"key" op 'value'` clauses,
 * with AND, and for conditions also OR, parentheses and `<>`. Keys are
 * double-quoted (or bare words), values single-quoted; comparisons are on
 * strings, byte by byte. A blob without the key satisfies no comparison of it.
 */

export type Operator = '=' | '<>' | '>' | '>=' | '<' | '<=';

export type TagExpression =
  | { kind: 'compare'; key: string; op: Operator; value: string }
  | { kind: 'and' | 'or'; left: TagExpression; right: TagExpression };

export interface Dialect {
  /** `x-ms-if-tags`: OR, parentheses and <> are allowed. `where`: AND of comparisons only. */
  conditions: boolean;
  /** `@container = 'name'` may appear (Find Blobs by Tags on the account). */
  container: boolean;
}

/** Thrown with what is wrong and where (1-based character position); the caller maps it to its 400. */
export class TagExpressionError extends Error {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`Error parsing query at or near character position ${position}: ${reason}`);
  }
}

/** At most this many distinct tags in a `where`, and this many comparisons in an `x-ms-if-tags`. */
const MAX_TAGS = 10;

type Token = { type: 'key' | 'value' | 'op' | 'word' | 'open' | 'close'; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const at = i;
    if (c === '"' || c === "'") {
      const end = source.indexOf(c, i + 1);
      if (end < 0) throw new TagExpressionError(at + 1, `the ${c === '"' ? 'key' : 'value'} has no closing ${c}`);
      tokens.push({ type: c === '"' ? 'key' : 'value', text: source.slice(i + 1, end), at });
      i = end + 1;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c === '(' ? 'open' : 'close', text: c, at });
      i++;
    } else if ('=<>'.includes(c)) {
      const two = source.slice(i, i + 2);
      const op = two === '<>' || two === '>=' || two === '<=' ? two : c;
      tokens.push({ type: 'op', text: op, at });
      i += op.length;
    } else {
      const match = /^@?[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
      if (!match) throw new TagExpressionError(at + 1, `unexpected '${c}'`);
      tokens.push({ type: 'word', text: match[0], at });
      i += match[0].length;
    }
  }
  return tokens;
}

export function parseTagExpression(source: string, dialect: Dialect): TagExpression {
  const tokens = tokenize(source);
  let position = 0;
  let comparisons = 0;
  const peek = () => tokens[position];
  const here = () => (peek() ? peek()!.at + 1 : source.length + 1);
  const fail = (reason: string): never => {
    throw new TagExpressionError(here(), reason);
  };
  const keyword = (word: string) => peek()?.type === 'word' && peek()!.text.toUpperCase() === word;

  const comparison = (): TagExpression => {
    const token = peek();
    let key: string;
    if (token?.type === 'key') key = token.text;
    else if (token?.type === 'word' && token.text.startsWith('@')) {
      if (token.text.toLowerCase() !== '@container' || !dialect.container) fail(`unsupported parameter '${token.text}'`);
      key = '@container';
    } else if (token?.type === 'word' && !keyword('AND') && !keyword('OR')) key = token.text;
    else return fail('expected a tag name, such as "project"');
    if (key === '' || key.length > 128) fail('tag must be between 1 and 128 characters in length');
    position++;
    const op = peek();
    if (op?.type !== 'op') return fail('expected an operator');
    if (op.text === '<>' && !dialect.conditions) fail('unexpected <>');
    if (key === '@container' && op.text !== '=') fail("@container can only be compared with '='");
    position++;
    const value = peek();
    if (value?.type !== 'value') return fail('expecting tag value in single quotes');
    if (value.text.length > 256) fail('tag value must be between 0 and 256 characters in length');
    position++;
    if (dialect.conditions && ++comparisons > MAX_TAGS) fail(`an expression may make at most ${MAX_TAGS} comparisons`);
    return { kind: 'compare', key, op: op.text as Operator, value: value.text };
  };

  const primary = (): TagExpression => {
    if (peek()?.type !== 'open') return comparison();
    if (!dialect.conditions) fail('unexpected (');
    position++;
    const inner = or();
    if (peek()?.type !== 'close') fail("expected ')'");
    position++;
    return inner;
  };

  const and = (): TagExpression => {
    let left = primary();
    while (keyword('AND')) {
      position++;
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };

  const or = (): TagExpression => {
    let left = and();
    while (keyword('OR')) {
      if (!dialect.conditions) fail('unexpected or');
      position++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  if (tokens.length === 0) throw new TagExpressionError(1, 'the expression is empty');
  const expression = or();
  if (position < tokens.length) fail(`unexpected '${peek()!.text}'`);
  if (!dialect.conditions) checkFilter(expression);
  return expression;
}

/**
 * Find Blobs by Tags compares at most ten tags, and each at most once, or
 * twice when the two comparisons bound a range from both sides.
 */
function checkFilter(expression: TagExpression): void {
  const byKey = new Map<string, Operator[]>();
  const collect = (node: TagExpression) => {
    if (node.kind !== 'compare') {
      collect(node.left);
      collect(node.right);
    } else if (node.key !== '@container') byKey.set(node.key, [...(byKey.get(node.key) ?? []), node.op]);
  };
  collect(expression);
  if (byKey.size > MAX_TAGS) throw new TagExpressionError(1, `there can be at most ${MAX_TAGS} unique tags in a query`);
  for (const [key, ops] of byKey) {
    const lower = ops.filter((op) => op === '>' || op === '>=').length;
    const upper = ops.filter((op) => op === '<' || op === '<=').length;
    if (ops.length > 1 && !(ops.length === 2 && lower === 1 && upper === 1)) {
      throw new TagExpressionError(1, `can't have multiple conditions for a single tag unless they define a range ("${key}")`);
    }
  }
}

/** Whether a blob with these tags (and in this container) satisfies the expression. */
export function matchesTags(expression: TagExpression, tags: Record<string, string>, container: string): boolean {
  if (expression.kind !== 'compare') {
    const left = matchesTags(expression.left, tags, container);
    return expression.kind === 'and' ? left && matchesTags(expression.right, tags, container) : left || matchesTags(expression.right, tags, container);
  }
  const actual = expression.key === '@container' ? container : tags[expression.key];
  if (actual === undefined) return false;
  switch (expression.op) {
    case '=':
      return actual === expression.value;
    case '<>':
      return actual !== expression.value;
    case '>':
      return actual > expression.value;
    case '>=':
      return actual >= expression.value;
    case '<':
      return actual < expression.value;
    case '<=':
      return actual <= expression.value;
  }
  return false;
}

/** The tag keys an expression compares (Find Blobs by Tags answers those of each blob). */
export function comparedKeys(expression: TagExpression): Set<string> {
  if (expression.kind === 'compare') return new Set(expression.key === '@container' ? [] : [expression.key]);
  return new Set([...comparedKeys(expression.left), ...comparedKeys(expression.right)]);
}
