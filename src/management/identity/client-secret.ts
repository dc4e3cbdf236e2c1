import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are 256 random bits, so a fast keyed hash is enough: there is
 * no dictionary to try, and a slow KDF would only slow down every token request.
 * Stored as `base64(salt):base64(HMAC-SHA256(salt, secret))`.
 */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `salt` is random unless given: a secret reset derives it from its id, so that a resumed reset adds the same hash. */
export function hashClientSecret(secret: string, salt: Buffer = randomBytes(16)): string {
  return `${salt.toString('base64')}:${digest(salt, secret).toString('base64')}`;
}

/** Whether `secret` is one of the principal's: `stored` holds one hash, or several (space-separated) while a reset is under way. */
export function clientSecretMatches(secret: string, stored: string): boolean {
  let matched = false;
  // Every hash is computed, whichever matches: the timing tells nothing of which one.
  for (const one of stored.split(' ')) matched = oneMatches(secret, one) || matched;
  return matched;
}

function oneMatches(secret: string, stored: string): boolean {
  const [salt, hash] = stored.split(':');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = digest(Buffer.from(salt, 'base64'), secret);
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}
