import type { IncomingHttpHeaders } from 'node:http';
import { StorageError, errors } from './errors.js';
import { TagExpressionError, matchesTags, parseTagExpression } from './tag-expressions.js';

export interface Versioned {
  etag: string;
  lastModified: number;
  /** Blob index tags, which x-ms-if-tags tests. */
  tags?: Record<string, string>;
}

/** A 304 for reads whose If-None-Match / If-Modified-Since says the client's copy is current. */
export class NotModified extends StorageError {
  constructor() {
    super(304, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.');
  }
}

/** What a request does with the resource its conditions are about: a write that creates it treats If-None-Match: * as "only if absent". */
export type ConditionalUse = 'read' | 'write' | 'create';

/**
 * Evaluates If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since
 * against the resource's current version (undefined when it does not exist), as
 * Azure does: reads answer 304 where the client's copy is current, writes 412,
 * and a creating write whose If-None-Match: * finds the resource 409.
 */
export function checkConditions(headers: IncomingHttpHeaders, current: Versioned | undefined, use: ConditionalUse): void {
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  const ifTags = headers['x-ms-if-tags'] as string | undefined;
  if (ifMatch === undefined && ifNoneMatch === undefined && ifModifiedSince === undefined && ifUnmodifiedSince === undefined && ifTags === undefined) return;
  if (ifTags !== undefined && !(current && tagsMatch(ifTags, current.tags ?? {}))) throw errors.conditionNotMet();
  const read = use === 'read';
  if (read && ifNoneMatch?.trim() === '*') {
    throw errors.invalidHeader('If-None-Match', "'*' means \"only if it does not exist\", which applies to writes; on a read, send the ETag you hold.");
  }

  if (ifMatch !== undefined && !(current && etagListMatches(ifMatch, current.etag))) throw errors.conditionNotMet();
  if (ifUnmodifiedSince !== undefined && current && seconds(current.lastModified) > parseDate(ifUnmodifiedSince, 'If-Unmodified-Since')) {
    throw errors.conditionNotMet();
  }
  if (ifNoneMatch !== undefined && current && etagListMatches(ifNoneMatch, current.etag)) {
    if (read) throw new NotModified();
    throw use === 'create' && ifNoneMatch.trim() === '*'
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

function tagsMatch(condition: string, tags: Record<string, string>): boolean {
  try {
    return matchesTags(parseTagExpression(condition, { conditions: true, container: false }), tags, '');
  } catch (error) {
    if (error instanceof TagExpressionError) throw errors.invalidHeader('x-ms-if-tags', `${error.message}.`);
    throw error;
  }
}
