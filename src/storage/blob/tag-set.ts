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

const tagsTooLarge = (why: string) => new StorageError(400, 'TagsTooLarge', `The tags specified exceed the maximum permissible limit: ${why} (${RULES}).`);

function checkTags(pairs: [string, string][]): Tags {
  if (pairs.length > MAX_TAGS) throw tagsTooLarge(`${pairs.length} tags were given`);
  const tags: Tags = {};
  for (const [key, value] of pairs) {
    if (key.length === 0) throw new StorageError(400, 'EmptyTagName', 'The name of one of the tag key-value pairs is empty.');
    if (key.length > 128) throw tagsTooLarge(`the key '${key.slice(0, 40)}…' has ${key.length} characters`);
    if (value.length > 256) throw tagsTooLarge(`the value of '${key}' has ${value.length} characters`);
    if (!TAG_TEXT.test(key) || !TAG_TEXT.test(value)) {
      throw new StorageError(400, 'InvalidTag', `The tags specified are invalid. It contains characters that are not permitted: '${key}' or its value (${RULES}).`);
    }
    if (key in tags) throw new StorageError(400, 'DuplicateTagNames', `The tags specified contain duplicate names: '${key}'.`);
    tags[key] = value;
  }
  return tags;
}

/** x-ms-tags on Put Blob, Put Block List and Copy Blob: a URL-encoded query string. Undefined when absent. */
export function tagsHeader(headers: IncomingHttpHeaders): Tags | undefined {
  const value = header(headers, 'x-ms-tags');
  return value === undefined ? undefined : checkTags([...new URLSearchParams(value)]);
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

export function tagCount(blob: BlobRecord): number {
  return blob.tags ? Object.keys(blob.tags).length : 0;
}

/** x-ms-tag-count, on reads of a blob that has tags. */
export function addTagCount(headers: OutgoingHttpHeaders, blob: BlobRecord): void {
  const count = tagCount(blob);
  if (count > 0) headers['x-ms-tag-count'] = count;
}
