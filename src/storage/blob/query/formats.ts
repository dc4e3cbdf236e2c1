import type { Column, QueryRecord, Value } from './sql.js';

/**
 * The text formats of Query Blob Contents: delimited text (CSV and kin) and
 * JSON lines, read a chunk at a time and written a record at a time.
 */

export type Format =
  | { type: 'delimited'; separator: string; quote: string; recordSeparator: string; escape: string; headers: boolean }
  | { type: 'json'; recordSeparator: string };

export const DEFAULT_DELIMITED: Format = { type: 'delimited', separator: ',', quote: '"', recordSeparator: '\n', escape: '', headers: false };

/** A record read from the blob, with where it started (for error records). */
export interface ReadRecord extends QueryRecord {
  /** Its fields as read, for `SELECT *`: the CSV fields, or the JSON value. */
  raw: string[] | unknown;
}

/** Splits delimited text into records of fields, honouring quotes and escapes across chunk boundaries. */
export class DelimitedReader {
  private field = '';
  private fields: string[] = [];
  private inQuotes = false;
  /** A quote seen inside quotes: the next character tells an escaped quote ("") from the closing one. */
  private quoteSeen = false;
  private escaped = false;
  /** Field names, from the first record when the input has headers. */
  headerNames?: string[];
  private readonly pending: string[][] = [];

  constructor(private readonly format: Extract<Format, { type: 'delimited' }>) {}

  push(text: string): ReadRecord[] {
    const { separator, quote, recordSeparator, escape } = this.format;
    for (const c of text) {
      if (this.escaped) {
        this.field += c;
        this.escaped = false;
        continue;
      }
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (c === quote) {
          this.field += c;
          continue;
        }
        this.inQuotes = false;
      }
      if (escape !== '' && c === escape) {
        this.escaped = true;
      } else if (this.inQuotes) {
        if (c === quote) this.quoteSeen = true;
        else this.field += c;
      } else if (quote !== '' && c === quote) {
        this.inQuotes = true;
      } else if (c === separator) {
        this.fields.push(this.field);
        this.field = '';
      } else if (c === recordSeparator) {
        this.endRecord();
      } else {
        this.field += c;
      }
    }
    return this.take();
  }

  /** The last record, when the text does not end with a record separator. */
  end(): ReadRecord[] {
    if (this.field !== '' || this.fields.length > 0) this.endRecord();
    return this.take();
  }

  private endRecord(): void {
    // '\n'-separated text written on Windows ends each record with '\r'.
    this.fields.push(this.format.recordSeparator === '\n' && this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field);
    const fields = this.fields;
    this.fields = [];
    this.field = '';
    if (this.format.headers && this.headerNames === undefined) this.headerNames = fields;
    else this.pending.push(fields);
  }

  private take(): ReadRecord[] {
    const records = this.pending.splice(0).map((fields) => csvRecord(fields, this.headerNames));
    return records;
  }
}

function csvRecord(fields: string[], headers: string[] | undefined): ReadRecord {
  return {
    raw: fields,
    field(column: Column): Value {
      if (column.kind === 'position') return fields[column.index - 1];
      const at = headers?.indexOf(column.path.join('.')) ?? -1;
      return at === -1 ? undefined : fields[at];
    },
  };
}

/** Splits JSON lines into records; a line that is not a JSON object is reported, and skipped. */
export class JsonReader {
  private carry = '';
  private offset = 0;

  constructor(
    private readonly format: Extract<Format, { type: 'json' }>,
    private readonly onBadRecord: (position: number, why: string) => void,
  ) {}

  push(text: string): ReadRecord[] {
    const lines = (this.carry + text).split(this.format.recordSeparator);
    this.carry = lines.pop()!;
    return this.parse(lines);
  }

  end(): ReadRecord[] {
    const last = this.carry;
    this.carry = '';
    return this.parse([last]);
  }

  private parse(lines: string[]): ReadRecord[] {
    const records: ReadRecord[] = [];
    for (const line of lines) {
      const at = this.offset;
      this.offset += Buffer.byteLength(line) + Buffer.byteLength(this.format.recordSeparator);
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        this.onBadRecord(at, `the record is not JSON: ${(error as Error).message}`);
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        this.onBadRecord(at, 'each record must be a JSON object.');
        continue;
      }
      records.push(jsonRecord(value as Record<string, unknown>));
    }
    return records;
  }
}

function jsonRecord(value: Record<string, unknown>): ReadRecord {
  return {
    raw: value,
    field(column: Column): Value {
      if (column.kind === 'position') return undefined;
      let node: unknown = value;
      for (const part of column.path) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
      return node === undefined || node === null || typeof node !== 'object' ? (node as Value) : JSON.stringify(node);
    },
  };
}

/** One output record in `format`: `values` named by `names` (for JSON output). */
export function formatRecord(format: Format, names: string[], values: unknown[]): string {
  if (format.type === 'json') {
    const object: Record<string, unknown> = {};
    names.forEach((name, i) => (object[name] = values[i] ?? null));
    return JSON.stringify(object) + format.recordSeparator;
  }
  return values.map((value) => delimitedField(format, value)).join(format.separator) + format.recordSeparator;
}

function delimitedField(format: Extract<Format, { type: 'delimited' }>, value: unknown): string {
  const text = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const { quote, separator, recordSeparator, escape } = format;
  const special = text.includes(separator) || text.includes(recordSeparator) || (quote !== '' && text.includes(quote));
  if (!special) return text;
  if (quote !== '') return quote + text.split(quote).join(quote + quote) + quote;
  if (escape !== '') return [...text].map((c) => (c === separator || c === recordSeparator || c === escape ? escape + c : c)).join('');
  return text;
}
