import { randomBytes } from 'node:crypto';

/**
 * The Avro object container that Query Blob Contents answers with: one schema,
 * the union of Azure's four record types, and blocks of records, each block
 * ended by the file's sync marker. Only what that schema needs is encoded
 * here: longs, booleans, strings and bytes.
 */

const NAMESPACE = 'com.microsoft.azure.storage.queryBlobContents';
const SCHEMA = JSON.stringify([
  { type: 'record', name: `${NAMESPACE}.resultData`, fields: [{ name: 'data', type: 'bytes' }] },
  {
    type: 'record',
    name: `${NAMESPACE}.error`,
    fields: [
      { name: 'fatal', type: 'boolean' },
      { name: 'name', type: 'string' },
      { name: 'description', type: 'string' },
      { name: 'position', type: 'long' },
    ],
  },
  { type: 'record', name: `${NAMESPACE}.progress`, fields: [{ name: 'bytesScanned', type: 'long' }, { name: 'totalBytes', type: 'long' }] },
  { type: 'record', name: `${NAMESPACE}.end`, fields: [{ name: 'totalBytes', type: 'long' }] },
]);

/** Zig-zag variable-length encoding of a long (exact up to 2^53). */
function long(value: number): Buffer {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function bytes(data: Buffer): Buffer {
  return Buffer.concat([long(data.length), data]);
}

const text = (value: string) => bytes(Buffer.from(value, 'utf8'));

/** Records of the union, each led by its branch's index. */
export const queryRecords = {
  resultData: (data: Buffer) => Buffer.concat([long(0), bytes(data)]),
  error: (fatal: boolean, name: string, description: string, position: number) =>
    Buffer.concat([long(1), Buffer.from([fatal ? 1 : 0]), text(name), text(description), long(position)]),
  progress: (bytesScanned: number, totalBytes: number) => Buffer.concat([long(2), long(bytesScanned), long(totalBytes)]),
  end: (totalBytes: number) => Buffer.concat([long(3), long(totalBytes)]),
};

/** Writes the container: its header once, then blocks of encoded records. */
export class AvroContainer {
  private readonly sync = randomBytes(16);

  header(): Buffer {
    const metadata = Buffer.concat([long(2), text('avro.schema'), text(SCHEMA), text('avro.codec'), text('null'), long(0)]);
    return Buffer.concat([Buffer.from('Obj\x01', 'latin1'), metadata, this.sync]);
  }

  block(records: Buffer[]): Buffer {
    const body = Buffer.concat(records);
    return Buffer.concat([long(records.length), long(body.length), body, this.sync]);
  }
}
