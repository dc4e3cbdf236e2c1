import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BodyLengthError, type ContentStore, type WrittenContent } from '../../bytes/content-store.js';
import { errors } from './errors.js';
import { checkMd5Format, contentLength, header } from './headers.js';

/**
 * Streams a request body into the byte store, checking its length and, when the
 * client sent one, its Content-MD5. Nothing refers to the new file until the
 * caller commits it, so a failed upload leaves nothing visible. The body's MD5
 * is computed when the client sent one or `alwaysMd5` asks for it. `segment`
 * lets a small body go to a shared segment file (ContentStore.write).
 */
export async function receiveBody(
  req: IncomingMessage,
  content: ContentStore,
  maxLength: number,
  alwaysMd5: boolean,
  segment = false,
): Promise<WrittenContent> {
  const length = contentLength(req.headers, maxLength);
  const md5Header = header(req.headers, 'content-md5');
  const expectedMd5 = md5Header === undefined ? undefined : checkMd5Format(md5Header);
  const expectedCrc = expectedCrc64(req.headers);
  let written: WrittenContent;
  try {
    written = await content.write(req, length, { md5: alwaysMd5 || expectedMd5 !== undefined, crc64: expectedCrc !== undefined, segment });
  } catch (error) {
    if (error instanceof BodyLengthError) throw errors.invalidHeader('Content-Length', error.message);
    throw error;
  }
  if ((expectedMd5 && !expectedMd5.equals(written.md5!)) || (expectedCrc && !expectedCrc.equals(written.crc64!))) {
    written.settle?.();
    await content.remove([written.id]);
    throw expectedMd5 ? errors.md5Mismatch() : errors.crc64Mismatch();
  }
  return written;
}

/**
 * x-ms-content-crc64: the base64 of 8 bytes, and never beside Content-MD5
 * (Azure takes one transactional checksum). Undefined when absent.
 */
export function expectedCrc64(headers: IncomingHttpHeaders): Buffer | undefined {
  const value = header(headers, 'x-ms-content-crc64');
  if (value === undefined) return undefined;
  if (header(headers, 'content-md5') !== undefined) {
    throw errors.invalidHeader('x-ms-content-crc64', 'send either Content-MD5 or x-ms-content-crc64, not both.');
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 8 || bytes.toString('base64') !== value) throw errors.invalidHeader('x-ms-content-crc64', 'it must be the base64 of an 8-byte CRC-64.');
  return bytes;
}
