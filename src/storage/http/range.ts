import type { IncomingHttpHeaders } from 'node:http';
import { StorageError, errors } from './errors.js';
import { header } from './headers.js';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

const RANGE = /^bytes=(\d+)-(\d*)$/;

/**
 * The requested byte range, `x-ms-range` taking precedence over `Range`, clipped
 * to the resource size; undefined means the whole resource. A range starting at
 * or past the end is 416 InvalidRange, as Azure answers. A `Range` that does not
 * parse is ignored, as HTTP lets a server do and as Azure does (the whole
 * resource, 200); a malformed `x-ms-range`, Azure's own header, is refused.
 */
export function requestedRange(headers: IncomingHttpHeaders, size: number): ByteRange | undefined {
  const name = headers['x-ms-range'] !== undefined ? 'x-ms-range' : 'range';
  const value = headers[name] as string | undefined;
  if (value === undefined) return undefined;
  const match = RANGE.exec(value.trim());
  const lenient = name === 'range';
  if (!match && lenient) return undefined;
  if (!match) {
    throw new StorageError(
      400,
      'InvalidHeaderValue',
      `The value for header '${name}' is invalid: use 'bytes=START-END' or 'bytes=START-' with byte offsets (suffix ranges are not supported).`,
      { HeaderName: name },
    );
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? Infinity : Number(match[2]);
  if (end < start) {
    if (lenient) return undefined;
    throw errors.invalidHeader(name, 'the end offset is before the start offset.');
  }
  if (start >= size) throw errors.invalidRange(size);
  return { start, end: Math.min(end, size - 1) };
}

const BOTH_ENDS = /^bytes=(\d+)-(\d+)$/;

/** A `bytes=START-END` value with both ends, START <= END (a write's span, a copy's source range); a value that is not one is refused, naming header `name`. */
export function parseBothEnds(value: string, name: string): { first: number; last: number } {
  const match = BOTH_ENDS.exec(value.trim());
  if (!match) throw errors.invalidHeader(name, "use 'bytes=START-END' with both offsets; END is inclusive.");
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (last < first) throw errors.invalidHeader(name, 'the end offset is before the start offset.');
  return { first, last };
}

/** The bytes a write names (Put Range, Put Page): x-ms-range, or Range; `missing` says what the operation needs when neither is sent. */
export function writeRange(headers: IncomingHttpHeaders, missing: string): { first: number; last: number } {
  const name = headers['x-ms-range'] !== undefined ? 'x-ms-range' : 'range';
  const value = header(headers, name);
  if (value === undefined) throw errors.missingHeader('x-ms-range', missing);
  return parseBothEnds(value, name);
}
