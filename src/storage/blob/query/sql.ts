/**
 * The SQL of Query Blob Contents, as far as this server takes it:
 *
 *   SELECT * | COUNT(*) | column [, column ...] FROM BlobStorage [WHERE condition] [LIMIT n]
 *
 * A column is a name (a CSV header, or a JSON field, dotted for nested ones),
 * a double-quoted name, or `_N`, the Nth field of a CSV record. A condition
 * combines comparisons (= != <> < <= > >=) of columns and literals ('text',
 * numbers), IS [NOT] NULL, AND, OR, NOT and parentheses. Two values compare as
 * numbers when both are numbers, else as text; a missing value compares false.
 */

export type Value = string | number | boolean | null | undefined;

/** A record as a query sees it: a field by name or by 1-based position. */
export interface QueryRecord {
  field(column: Column): Value;
}

export type Column = { kind: 'position'; index: number; text: string } | { kind: 'name'; path: string[]; text: string };

type Operand = { kind: 'column'; column: Column } | { kind: 'literal'; value: string | number };
export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; inner: Condition }
  | { kind: 'compare'; op: string; left: Operand; right: Operand }
  | { kind: 'null'; operand: Operand; negated: boolean };

export interface Query {
  /** Columns to output; undefined for `*`. */
  columns?: Column[];
  count: boolean;
  where?: Condition;
  limit?: number;
}

/** A query that does not parse: its message says where and what was expected. */
export class QuerySyntaxError extends Error {}

type Token = { kind: 'word' | 'quoted' | 'string' | 'number' | 'symbol'; text: string; at: number };

const SYMBOLS = ['<=', '>=', '<>', '!=', '=', '<', '>', '(', ')', ',', '*'];

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new QuerySyntaxError(`the ${c === "'" ? 'string' : 'quoted name'} starting at character ${i + 1} is not closed with ${c}.`);
        if (sql[j] === c && sql[j + 1] === c) {
          text += c;
          j += 2;
        } else if (sql[j] === c) {
          break;
        } else {
          text += sql[j++];
        }
      }
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', text, at: i });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const match = /^-?\d+(\.\d+)?/.exec(sql.slice(i))!;
      tokens.push({ kind: 'number', text: match[0], at: i });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(sql.slice(i))!;
      tokens.push({ kind: 'word', text: match[0], at: i });
      i += match[0].length;
    } else {
      const symbol = SYMBOLS.find((s) => sql.startsWith(s, i));
      if (!symbol) throw new QuerySyntaxError(`unexpected '${c}' at character ${i + 1}.`);
      tokens.push({ kind: 'symbol', text: symbol, at: i });
      i += symbol.length;
    }
  }
  return tokens;
}

const KEYWORDS = new Set(['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IS', 'NULL', 'LIMIT', 'COUNT']);

export function parseQuery(sql: string): Query {
  const tokens = tokenize(sql);
  let position = 0;
  const peek = () => tokens[position];
  const where = () => (peek() ? `at character ${peek()!.at + 1} ('${peek()!.text}')` : 'at the end');
  const isWord = (word: string) => peek()?.kind === 'word' && peek()!.text.toUpperCase() === word;
  const isSymbol = (symbol: string) => peek()?.kind === 'symbol' && peek()!.text === symbol;
  const expectWord = (word: string) => {
    if (!isWord(word)) throw new QuerySyntaxError(`expected ${word} ${where()}.`);
    position++;
  };
  const expectSymbol = (symbol: string) => {
    if (!isSymbol(symbol)) throw new QuerySyntaxError(`expected '${symbol}' ${where()}.`);
    position++;
  };

  const column = (): Column => {
    const token = peek();
    if (token?.kind === 'quoted') {
      position++;
      return { kind: 'name', path: [token.text], text: token.text };
    }
    if (token?.kind !== 'word' || KEYWORDS.has(token.text.toUpperCase())) throw new QuerySyntaxError(`expected a column ${where()}.`);
    position++;
    const positional = /^_(\d+)$/.exec(token.text);
    if (positional) {
      const index = Number(positional[1]);
      if (index < 1) throw new QuerySyntaxError(`column positions start at _1, not ${token.text}.`);
      return { kind: 'position', index, text: token.text };
    }
    return { kind: 'name', path: token.text.split('.'), text: token.text };
  };

  const operand = (): Operand => {
    const token = peek();
    if (token?.kind === 'string') {
      position++;
      return { kind: 'literal', value: token.text };
    }
    if (token?.kind === 'number') {
      position++;
      return { kind: 'literal', value: Number(token.text) };
    }
    return { kind: 'column', column: column() };
  };

  const comparison = (): Condition => {
    if (isSymbol('(')) {
      position++;
      const inner = or();
      expectSymbol(')');
      return inner;
    }
    const left = operand();
    if (isWord('IS')) {
      position++;
      const negated = isWord('NOT');
      if (negated) position++;
      expectWord('NULL');
      return { kind: 'null', operand: left, negated };
    }
    const op = peek();
    if (op?.kind !== 'symbol' || !['=', '!=', '<>', '<', '<=', '>', '>='].includes(op.text)) throw new QuerySyntaxError(`expected a comparison (= != < <= > >=) ${where()}.`);
    position++;
    return { kind: 'compare', op: op.text === '!=' ? '<>' : op.text, left, right: operand() };
  };
  const not = (): Condition => {
    if (isWord('NOT')) {
      position++;
      return { kind: 'not', inner: not() };
    }
    return comparison();
  };
  const and = (): Condition => {
    let left = not();
    while (isWord('AND')) {
      position++;
      left = { kind: 'and', left, right: not() };
    }
    return left;
  };
  const or = (): Condition => {
    let left = and();
    while (isWord('OR')) {
      position++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };

  expectWord('SELECT');
  const query: Query = { count: false };
  if (isSymbol('*')) {
    position++;
  } else if (isWord('COUNT')) {
    position++;
    expectSymbol('(');
    expectSymbol('*');
    expectSymbol(')');
    query.count = true;
  } else {
    query.columns = [column()];
    while (isSymbol(',')) {
      position++;
      query.columns.push(column());
    }
  }
  expectWord('FROM');
  if (!isWord('BLOBSTORAGE')) throw new QuerySyntaxError(`the query reads FROM BlobStorage, the blob itself; found ${where()}.`);
  position++;
  if (isWord('WHERE')) {
    position++;
    query.where = or();
  }
  if (isWord('LIMIT')) {
    position++;
    const token = peek();
    if (token?.kind !== 'number' || !/^\d+$/.test(token.text)) throw new QuerySyntaxError(`LIMIT takes a whole number ${where()}.`);
    query.limit = Number(token.text);
    position++;
  }
  if (peek()) throw new QuerySyntaxError(`unexpected ${where()}; the query should end there.`);
  return query;
}

function valueOf(operand: Operand, record: QueryRecord): Value {
  return operand.kind === 'literal' ? operand.value : record.field(operand.column);
}

function asNumber(value: Value): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function compare(op: string, left: Value, right: Value): boolean {
  if (left === null || left === undefined || right === null || right === undefined) return false;
  const a = asNumber(left);
  const b = asNumber(right);
  const order = a !== undefined && b !== undefined ? a - b : String(left) < String(right) ? -1 : String(left) > String(right) ? 1 : 0;
  switch (op) {
    case '=':
      return order === 0;
    case '<>':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    default:
      return order >= 0;
  }
}

export function matches(condition: Condition, record: QueryRecord): boolean {
  switch (condition.kind) {
    case 'and':
      return matches(condition.left, record) && matches(condition.right, record);
    case 'or':
      return matches(condition.left, record) || matches(condition.right, record);
    case 'not':
      return !matches(condition.inner, record);
    case 'null': {
      const value = valueOf(condition.operand, record);
      return (value === null || value === undefined || value === '') !== condition.negated;
    }
    case 'compare':
      return compare(condition.op, valueOf(condition.left, record), valueOf(condition.right, record));
  }
}
