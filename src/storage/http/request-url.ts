import { errors } from './errors.js';

export interface ParsedUrl {
  account: string;
  container: string;
  path: string;
  rawPath: string;
  query: URLSearchParams;
}

/**
 * Splits a path-style URL `/{account}/{container}/{path...}?query`. Only the first
 * two separators split: everything after the container is the blob or file path,
 * decoded once, exactly as Azure reads it.
 */
export function parseStorageUrl(url: string): ParsedUrl {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const accountEnd = indexOrEnd(rawPath, '/', 1);
  const containerEnd = indexOrEnd(rawPath, '/', accountEnd + 1);
  return {
    account: decode(rawPath.slice(1, accountEnd)),
    container: decode(rawPath.slice(accountEnd + 1, containerEnd)),
    path: decode(rawPath.slice(containerEnd + 1)),
    rawPath,
    query,
  };
}

function indexOrEnd(text: string, char: string, from: number): number {
  const index = text.indexOf(char, from);
  return index === -1 ? text.length : index;
}

function decode(segment: string): string {
  if (segment.indexOf('%') === -1) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.invalidUri(`'${segment}' is not valid percent-encoded UTF-8; encode reserved characters of names with encodeURIComponent.`);
  }
}
