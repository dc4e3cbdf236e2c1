import type { IncomingHttpHeaders } from 'node:http';
import { StorageError, errors } from './errors.js';

export interface Versioned {
  etag: string;
  lastModified: number;
}

/** A 304 for reads whose If-None-Match / If-Modified-Since says the client's copy is current. */
export class NotModified extends StorageError {
  constructor() {
    super(304, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.');
  }
}

/**
 * Evaluates If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since
 * against the resource's current version (undefined when it does not exist), as
 * Azure does: reads answer 304 where the client's copy is current, writes 412.
 */
export function checkConditions(headers: IncomingHttpHeaders, current: Versioned | undefined, read: boolean): void {
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  if (ifMatch === undefined && ifNoneMatch === undefined && ifModifiedSince === undefined && ifUnmodifiedSince === undefined) return;

  if (ifMatch !== undefined && !(current && etagListMatches(ifMatch, current.etag))) throw errors.conditionNotMet();
  if (ifUnmodifiedSince !== undefined && current && seconds(current.lastModified) > parseDate(ifUnmodifiedSince, 'If-Unmodified-Since')) {
    throw errors.conditionNotMet();
  }
  if (ifNoneMatch !== undefined && current && etagListMatches(ifNoneMatch, current.etag)) {
    if (read) throw new NotModified();
    throw ifNoneMatch.trim() === '*'
      ? new StorageError(409, 'BlobAlreadyExists', 'The specified blob already exists (If-None-Match: * forbids overwriting it).')
      : errors.conditionNotMet();
  }
  if (ifModifiedSince !== undefined && current && seconds(current.lastModified) <= parseDate(ifModifiedSince, 'If-Modified-Since')) {
    if (read) throw new NotModified();
    throw errors.conditionNotMet();
  }
}

function etagListMatches(list: string, etag: string): boolean {
  for (const candidate of list.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || tag === etag || `"${tag}"` === etag) return true;
  }
  return false;
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function parseDate(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw errors.invalidHeader(name, 'it must be an HTTP date such as "Sun, 06 Nov 1994 08:49:37 GMT".');
  return seconds(ms);
}
