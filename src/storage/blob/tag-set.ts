import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { BlobRecord } from '../../db/records.js';
import { parseXml } from '../http/body.js';
import { StorageError, errors, escapeXml } from '../http/errors.js';
import { header } from '../http/headers.js';

/** A blob's index tags: the rules they follow and how they are read and written on the wire. */

const MAX_TAGS = 10;
const TAG_TEXT = /^[A-Za-z0-9 +\-./:=_]*$/;
const RULES = 'at most 10 tags; keys of 1-128 and values of 0-256 characters, each letters, digits, spaces or + - . / : = _';

export type Tags = Record<string, string>;

const invalidTag = (why: string) => new StorageError(400, 'InvalidTag', `The tags specified are invalid: ${why} (${RULES}).`);

function checkTags(pairs: [string, string][]): Tags {
  if (pairs.length > MAX_TAGS) throw invalidTag(`${pairs.length} tags were given`);
  const tags: Tags = {};
  for (const [key, value] of pairs) {
    if (key.length < 1 || key.length > 128) throw invalidTag(`the key '${key.slice(0, 140)}' has ${key.length} characters`);
    if (value.length > 256) throw invalidTag(`the value of '${key}' has ${value.length} characters`);
    if (!TAG_TEXT.test(key) || !TAG_TEXT.test(value)) throw invalidTag(`'${key}' or its value has a character that is not permitted`);
    if (key in tags) throw invalidTag(`the key '${key}' is given twice`);
    tags[key] = value;
  }
  return tags;
}

/** x-ms-tags on Put Blob, Put Block List and Copy Blob: a URL-encoded query string. Undefined when absent. */
export function tagsHeader(headers: IncomingHttpHeaders): Tags | undefined {
  const value = header(headers, 'x-ms-tags');
  if (value === undefined) return undefined;
  try {
    return checkTags([...new URLSearchParams(value)]);
  } catch (error) {
    if (error instanceof StorageError) throw errors.invalidHeader('x-ms-tags', error.message);
    throw error;
  }
}

export function parseTagsBody(body: Buffer): Tags {
  const doc = parseXml(body);
  if (!doc || typeof doc !== 'object' || !('Tags' in doc)) throw errors.invalidXml('the root element must be <Tags>.');
  const raw = doc.Tags?.TagSet?.Tag ?? [];
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  return checkTags(
    list.map((entry) => {
      const tag = entry as { Key?: unknown; Value?: unknown } | undefined;
      if (typeof tag?.Key !== 'string') throw errors.invalidXml('each <Tag> needs a <Key>.');
      return [tag.Key, typeof tag.Value === 'string' ? tag.Value : ''];
    }),
  );
}

export function tagSetXml(tags: Tags, only?: Set<string>): string {
  let xml = '<Tags><TagSet>';
  for (const key in tags) if (!only || only.has(key)) xml += `<Tag><Key>${escapeXml(key)}</Key><Value>${escapeXml(tags[key]!)}</Value></Tag>`;
  return `${xml}</TagSet></Tags>`;
}

/** x-ms-tag-count, on reads of a blob that has tags. */
export function addTagCount(headers: OutgoingHttpHeaders, blob: BlobRecord): void {
  const count = blob.tags ? Object.keys(blob.tags).length : 0;
  if (count > 0) headers['x-ms-tag-count'] = count;
}
