import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * AES-256-GCM sealing of secrets at rest (account keys, datastore credentials).
 * Sealed text is `v1:` + base64(iv ‖ tag ‖ ciphertext); the version prefix lets
 * the format change without guessing.
 */
export class Sealer {
  private constructor(private readonly masterKey: Buffer) {}

  /**
   * The master key comes from `MLSPACE_MASTER_KEY` (base64 of 32 bytes) when set,
   * else from `master.key` in the data directory, created with mode 0600 on first use.
   */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): Sealer {
    const fromEnv = env.MLSPACE_MASTER_KEY;
    if (fromEnv) {
      const key = Buffer.from(fromEnv, 'base64');
      if (key.length !== 32) throw new Error('MLSPACE_MASTER_KEY must be the base64 encoding of exactly 32 bytes.');
      return new Sealer(key);
    }
    const file = path.join(dataDir, 'master.key');
    try {
      return new Sealer(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const key = randomBytes(32);
    // 'wx' fails rather than overwrite a key another process just created.
    fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return new Sealer(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  unseal(sealed: string): string {
    if (!sealed.startsWith('v1:')) throw new Error('Sealed secret has an unknown format.');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
