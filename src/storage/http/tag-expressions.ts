/**
 * The SQL-like expressions over blob index tags that Find Blobs by Tags (`where`)
 * and conditional requests (`x-ms-if-tags`) take: `"key" op 'value'` clauses,
 * with AND, and for conditions also OR, parentheses and `<>`. Keys are
 * double-quoted, values single-quoted; comparisons are on strings, byte by byte.
 * A blob without the key never satisfies a comparison of it (but `<>`).
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

/** Thrown with a message that says what is wrong and where; the caller maps it to its 400. */
export class TagExpressionError extends Error {}

/** A `where` of this many comparisons or more is refused, as Azure refuses it. */
const MAX_COMPARISONS = 10;

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
      if (end < 0) throw new TagExpressionError(`the ${c === '"' ? 'key' : 'value'} that starts at position ${at + 1} has no closing ${c}.`);
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
      if (!match) throw new TagExpressionError(`unexpected '${c}' at position ${at + 1}.`);
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
  const where = () => (peek() ? `at position ${peek()!.at + 1}` : 'at the end');
  const keyword = (word: string) => peek()?.type === 'word' && peek()!.text.toUpperCase() === word;

  const comparison = (): TagExpression => {
    const token = tokens[position++];
    let key: string;
    if (token?.type === 'key') key = token.text;
    else if (token?.type === 'word' && token.text.toLowerCase() === '@container' && dialect.container) key = '@container';
    else throw new TagExpressionError(`expected a tag key in double quotes, such as "project", ${token ? `at position ${token.at + 1}` : 'at the end'}.`);
    if (key === '' || key.length > 128) throw new TagExpressionError(`the tag key "${key}" must be 1 to 128 characters.`);
    const op = tokens[position++];
    if (op?.type !== 'op' || (op.text === '<>' && !dialect.conditions)) {
      throw new TagExpressionError(`expected one of ${dialect.conditions ? "=, <>, >, >=, <, <=" : '=, >, >=, <, <='} after "${key}".`);
    }
    if (key === '@container' && op.text !== '=') throw new TagExpressionError("@container can only be compared with '='.");
    const value = tokens[position++];
    if (value?.type !== 'value') throw new TagExpressionError(`expected a value in single quotes after "${key}" ${op.text}.`);
    if (++comparisons > MAX_COMPARISONS) throw new TagExpressionError(`an expression may compare at most ${MAX_COMPARISONS} tags.`);
    return { kind: 'compare', key, op: op.text as Operator, value: value.text };
  };

  const primary = (): TagExpression => {
    if (peek()?.type !== 'open') return comparison();
    if (!dialect.conditions) throw new TagExpressionError(`parentheses are not allowed here (${where()}); join comparisons with AND.`);
    position++;
    const inner = or();
    if (peek()?.type !== 'close') throw new TagExpressionError(`expected ')' ${where()}.`);
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
      if (!dialect.conditions) throw new TagExpressionError(`OR is not allowed here (${where()}); Find Blobs by Tags joins comparisons with AND only.`);
      position++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  if (tokens.length === 0) throw new TagExpressionError('the expression is empty.');
  const expression = or();
  if (position < tokens.length) throw new TagExpressionError(`unexpected '${tokens[position]!.text}' ${where()}; join comparisons with AND${dialect.conditions ? ' or OR' : ''}.`);
  return expression;
}

/** Whether a blob with these tags (and in this container) satisfies the expression. */
export function matchesTags(expression: TagExpression, tags: Record<string, string>, container: string): boolean {
  if (expression.kind !== 'compare') {
    const left = matchesTags(expression.left, tags, container);
    return expression.kind === 'and' ? left && matchesTags(expression.right, tags, container) : left || matchesTags(expression.right, tags, container);
  }
  const actual = expression.key === '@container' ? container : tags[expression.key];
  if (actual === undefined) return expression.op === '<>';
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
