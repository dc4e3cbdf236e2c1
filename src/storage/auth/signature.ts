import { createHmac, timingSafeEqual } from 'node:crypto';

/** Canonical base64 of 32 bytes: 43 alphabet characters, the last carrying no stray bits, then one '='. */
const CANONICAL_SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * The bytes of a base64 HMAC-SHA256 signature as sent, or undefined when it is
 * not exactly the canonical base64 of 32 bytes. Node's decoder skips characters
 * outside the alphabet, so a lenient decode would let one signature be spelled
 * in endless ways (`sig=...%21%21`), each a different URL. Comparing bytes, not
 * strings, lets timingSafeEqual do the comparison.
 */
export function decodeSignature(signature: string): Buffer | undefined {
  return CANONICAL_SIGNATURE.test(signature) ? Buffer.from(signature, 'base64') : undefined;
}

/** A SAS `sig` as signed: a '+' pasted into a URL unencoded reaches us as a space. */
export function sasSignatureText(sig: string): string {
  return sig.includes(' ') ? sig.replaceAll(' ', '+') : sig;
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
