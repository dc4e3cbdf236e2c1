import type { FileNodeRecord } from '../../db/records.js';
import { httpDate } from '../http/headers.js';

/** ETag and Last-Modified of a file or directory, which nearly every response carries. */
export function versionHeaders(node: FileNodeRecord) {
  return { etag: node.etag, 'last-modified': httpDate(node.lastModified) };
}
