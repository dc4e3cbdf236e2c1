import { createCipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../../src/secrets/seal.js';

function sealerIn(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-seal-'))) {
  return { dir, sealer: Sealer.open(dir, {}) };
}

describe('Sealer', () => {
  it('seals with a random IV and opens again; the master key file is 0600', () => {
    const { dir, sealer } = sealerIn();
    const a = sealer.seal('secret value');
    const b = sealer.seal('secret value');
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret');
    expect(sealer.unseal(a)).toBe('secret value');
    expect(fs.statSync(path.join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  it('carries a keyed fingerprint: equal secrets compare equal without decrypting, and only under the same master key', () => {
    const { dir, sealer } = sealerIn();
    const key = randomBytes(64).toString('base64');
    expect(sealer.fingerprintOf(sealer.seal(key)).equals(sealer.fingerprint(key))).toBe(true);
    expect(sealer.fingerprintOf(sealer.seal(key)).equals(sealer.fingerprint(randomBytes(64).toString('base64')))).toBe(false);
    expect(Sealer.open(dir, {}).fingerprint(key).equals(sealer.fingerprint(key))).toBe(true);
    expect(sealerIn().sealer.fingerprint(key).equals(sealer.fingerprint(key))).toBe(false);
  });

  it('still opens v1 texts, which carry no fingerprint', () => {
    const { dir, sealer } = sealerIn();
    const masterKey = Buffer.from(fs.readFileSync(path.join(dir, 'master.key'), 'utf8').trim(), 'base64');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
    const body = Buffer.concat([cipher.update('old secret', 'utf8'), cipher.final()]);
    const v1 = 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    expect(sealer.unseal(v1)).toBe('old secret');
    expect(sealer.fingerprintOf(v1).equals(sealer.fingerprint('old secret'))).toBe(true);
  });

  it('refuses a tampered text', () => {
    const { sealer } = sealerIn();
    const sealed = sealer.seal('value');
    const tampered = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(() => sealer.unseal(tampered)).toThrow();
  });
});
