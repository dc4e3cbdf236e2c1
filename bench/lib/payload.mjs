import { createHash } from 'node:crypto';

/**
 * The 1 KiB body the small-object scenarios store and read. It is derived from a
 * fixed seed rather than random so the bare node:http server (another process)
 * can build the very same bytes without being handed them.
 */
export const SMALL_BODY = createHash('shake256', { outputLength: 1024 }).update('mlspace bench 1 KiB').digest();

export const SMALL_BODY_MD5 = createHash('md5').update(SMALL_BODY).digest('base64');
