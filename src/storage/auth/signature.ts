import { createHmac, timingSafeEqual } from 'node:crypto';

const HMAC_SHA256_BYTES = 32;

/**
 * The bytes of a base64 HMAC-SHA256 signature as sent, or undefined when it cannot
 * be one. Comparing bytes, not strings, lets timingSafeEqual do the comparison.
 */
export function decodeSignature(signature: string): Buffer | undefined {
  const bytes = Buffer.from(signature, 'base64');
  return bytes.length === HMAC_SHA256_BYTES ? bytes : undefined;
}

/**
 * Which key signed `stringToSign` into `expected`: 0, 1, or -1 for neither.
 * key2 is only tried when key1 fails, so the common case costs one HMAC.
 */
export function matchKey(stringToSign: string, keys: readonly [Buffer, Buffer], expected: Buffer): 0 | 1 | -1 {
  if (timingSafeEqual(hmacSha256(keys[0], stringToSign), expected)) return 0;
  if (timingSafeEqual(hmacSha256(keys[1], stringToSign), expected)) return 1;
  return -1;
}

/** The signature Shared Key and SAS use: HMAC-SHA256 of the UTF-8 string-to-sign under the decoded account key. */
export function hmacSha256(key: Buffer, stringToSign: string): Buffer {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest();
}
