import type { IncomingMessage } from 'node:http';
import { BodyLengthError, type ContentStore, type WrittenContent } from '../../bytes/content-store.js';
import { errors } from './errors.js';
import { checkMd5Format, contentLength, header } from './headers.js';

/**
 * Streams a request body into the byte store, checking its length and, when the
 * client sent one, its Content-MD5. Nothing refers to the new file until the
 * caller commits it, so a failed upload leaves nothing visible. The body's MD5
 * is computed when the client sent one or `alwaysMd5` asks for it.
 */
export async function receiveBody(
  req: IncomingMessage,
  content: ContentStore,
  maxLength: number,
  alwaysMd5: boolean,
): Promise<WrittenContent> {
  const length = contentLength(req.headers, maxLength);
  const md5Header = header(req.headers, 'content-md5');
  const expectedMd5 = md5Header === undefined ? undefined : checkMd5Format(md5Header);
  let written: WrittenContent;
  try {
    written = await content.write(req, length, { md5: alwaysMd5 || expectedMd5 !== undefined });
  } catch (error) {
    if (error instanceof BodyLengthError) throw errors.invalidHeader('Content-Length', error.message);
    throw error;
  }
  if (expectedMd5 && !expectedMd5.equals(written.md5!)) {
    await content.remove([written.id]);
    throw errors.md5Mismatch();
  }
  return written;
}
