import type { OutgoingHttpHeaders } from 'node:http';
import { PassThrough } from 'node:stream';
import { sendPieces } from '../../../bytes/body-pieces.js';
import { parseXml, readSmallBody } from '../../http/body.js';
import { checkConditions } from '../../http/conditions.js';
import { StorageError } from '../../http/errors.js';
import { httpDate } from '../../http/headers.js';
import { writeHead } from '../../http/respond.js';
import { openBlobBytes, requireReadableBlob } from '../blobs.js';
import { LIMITS, type BlobRequest } from '../deps.js';
import { checkOnline } from '../tiers.js';
import { AvroContainer, queryRecords } from './avro.js';
import { DEFAULT_DELIMITED, DelimitedReader, JsonReader, formatRecord, type Format, type ReadRecord } from './formats.js';
import { QuerySyntaxError, matches, parseQuery, type Query } from './sql.js';

/** Result data is sent in pieces of about this size, each with a progress record. */
const FLUSH_BYTES = 64 * 1024;

const invalidNode = (node: string, why: string) =>
  new StorageError(400, 'InvalidXmlNodeValue', `The value for one of the XML nodes is not in the correct format: ${node}: ${why}`, { XmlNodeName: node });

/** A QueryRequest's format (input or output serialization). */
function readFormat(node: any, name: string): Format | undefined {
  if (node === undefined || node === '') return undefined;
  const format = node?.Format;
  const type = typeof format?.Type === 'string' ? format.Type.trim().toLowerCase() : undefined;
  if (type === 'delimited') {
    const config = format.DelimitedTextConfiguration ?? {};
    const one = (field: string, fallback: string) => {
      const value = typeof config[field] === 'string' ? config[field] : fallback;
      if ([...value].length > 1) throw invalidNode(`${name}/Format/DelimitedTextConfiguration/${field}`, 'use a single character.');
      return value;
    };
    return {
      type: 'delimited',
      separator: one('ColumnSeparator', ',') || ',',
      quote: one('FieldQuote', '"'),
      recordSeparator: one('RecordSeparator', '\n') || '\n',
      escape: one('EscapeChar', ''),
      headers: String(config.HasHeaders ?? '').trim().toLowerCase() === 'true',
    };
  }
  if (type === 'json') {
    const separator = typeof format.JsonTextConfiguration?.RecordSeparator === 'string' ? format.JsonTextConfiguration.RecordSeparator : '\n';
    return { type: 'json', recordSeparator: separator || '\n' };
  }
  if (type === 'arrow' || type === 'parquet') {
    throw invalidNode(`${name}/Format/Type`, `${type} is not supported by this server; use delimited or json.`);
  }
  throw invalidNode(`${name}/Format/Type`, 'use delimited or json.');
}

function readRequest(body: Buffer): { query: Query; input: Format; output: Format } {
  const request = parseXml(body, 'untrimmed')?.QueryRequest;
  if (!request || typeof request !== 'object') throw new StorageError(400, 'InvalidXmlDocument', 'XML specified is not syntactically valid: the root element must be <QueryRequest>.');
  if (String(request.QueryType ?? '').trim().toUpperCase() !== 'SQL') throw invalidNode('QueryType', "the only query type is 'SQL'.");
  const expression = typeof request.Expression === 'string' ? request.Expression : '';
  let query: Query;
  try {
    query = parseQuery(expression);
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw invalidNode('Expression', error.message);
    throw error;
  }
  const input = readFormat(request.InputSerialization, 'InputSerialization') ?? DEFAULT_DELIMITED;
  const output = readFormat(request.OutputSerialization, 'OutputSerialization') ?? input;
  return { query, input, output };
}

/**
 * Query Blob Contents: a SQL statement over the blob's records (sql.ts),
 * answered as Azure answers it, an Avro stream of result data, progress and
 * error records and an end record. The blob is read and filtered a chunk at
 * a time, never held whole.
 */
export async function queryBlob(ctx: BlobRequest): Promise<void> {
  const { query, input, output } = readRequest(await readSmallBody(ctx.req, LIMITS.xmlBody));
  const blob = await requireReadableBlob(ctx);
  checkConditions(ctx.req.headers, blob, 'read');
  checkOnline(blob, Date.now());
  const headers: OutgoingHttpHeaders = {
    'content-type': 'avro/binary',
    'last-modified': httpDate(blob.lastModified),
    etag: blob.etag,
    'x-ms-blob-type': blob.blobType ?? 'BlockBlob',
    'x-ms-server-encrypted': 'true',
  };
  const avro = new AvroContainer();
  const errors: Buffer[] = [];
  const reader =
    input.type === 'json'
      ? new JsonReader(input, (position, why) => errors.push(queryRecords.error(false, 'ParseError', why, position)))
      : new DelimitedReader(input);
  const writer = new ResultWriter(query, output, () => (reader instanceof DelimitedReader ? reader.headerNames : undefined));

  const { pieces, release } = await openBlobBytes(ctx, blob, { start: 0, end: blob.size - 1 });
  const bytes = new PassThrough();
  const reading = sendPieces(ctx.deps.content, pieces, bytes);
  reading.catch((error) => bytes.destroy(error));
  writeHead(ctx, 200, headers);
  await send(ctx, avro.header());
  const decoder = new TextDecoder('utf-8');
  let scanned = 0;
  try {
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      scanned += chunk.length;
      writer.add(reader.push(decoder.decode(chunk, { stream: true })));
      if (writer.done()) break;
      if (writer.size() >= FLUSH_BYTES || errors.length > 0) {
        await send(ctx, avro.block([...writer.flush(), ...errors.splice(0), queryRecords.progress(scanned, blob.size)]));
      }
    }
    if (!writer.done()) writer.add(reader.push(decoder.decode()), reader.end());
    await send(ctx, avro.block([...writer.flush(true), ...errors.splice(0), queryRecords.progress(blob.size, blob.size), queryRecords.end(blob.size)]));
    ctx.res.end();
  } finally {
    bytes.destroy();
    await reading.catch(() => {});
    await release();
  }
}

/** Applies the query to records as they come, and gathers its output. */
class ResultWriter {
  private out: string[] = [];
  private outSize = 0;
  private emitted = 0;
  private counted = 0;
  private headerWritten = false;

  constructor(
    private readonly query: Query,
    private readonly format: Format,
    private readonly inputHeaders: () => string[] | undefined,
  ) {}

  add(...batches: ReadRecord[][]): void {
    for (const records of batches) {
      for (const record of records) {
        if (this.done()) return;
        if (this.query.where && !matches(this.query.where, record)) continue;
        if (this.query.count) this.counted++;
        else this.emit(record);
      }
    }
  }

  done(): boolean {
    return this.query.limit !== undefined && this.emitted >= this.query.limit;
  }

  size(): number {
    return this.outSize;
  }

  /** The output gathered so far as result data records (with COUNT(*)'s one record at the end). */
  flush(last = false): Buffer[] {
    if (last && this.query.count) this.push(formatRecord(this.format, ['_1'], [this.counted]));
    if (this.out.length === 0) return [];
    const data = Buffer.from(this.out.join(''), 'utf8');
    this.out = [];
    this.outSize = 0;
    return [queryRecords.resultData(data)];
  }

  private emit(record: ReadRecord): void {
    const headers = this.inputHeaders();
    const columns = this.query.columns;
    let names: string[];
    let values: unknown[];
    if (columns) {
      names = columns.map((column) => (column.kind === 'name' ? column.path[column.path.length - 1]! : column.text));
      values = columns.map((column) => record.field(column));
    } else if (Array.isArray(record.raw)) {
      names = headers ?? record.raw.map((_, i) => `_${i + 1}`);
      values = record.raw;
    } else {
      names = Object.keys(record.raw as object);
      values = Object.values(record.raw as object);
    }
    if (!this.headerWritten && this.format.type === 'delimited' && this.format.headers) this.push(formatRecord(this.format, names, names));
    this.headerWritten = true;
    this.push(formatRecord(this.format, names, values));
    this.emitted++;
  }

  private push(text: string): void {
    this.out.push(text);
    this.outSize += text.length;
  }
}

/** Writes to the response, waiting while the client is behind. */
function send(ctx: BlobRequest, data: Buffer): Promise<void> {
  if (ctx.res.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    ctx.res.once('drain', resolve);
    ctx.res.once('close', () => reject(new Error('the client went away')));
  });
}
