import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * AES-256-GCM sealing of secrets at rest (account keys, datastore credentials).
 * Sealed text is `v2:` + base64url(fingerprint) + `:` + base64(iv ‖ tag ‖ ciphertext)
 * (`v1:` texts, without the fingerprint, still open). The fingerprint is an
 * HMAC-SHA256 of the secret under a key derived from the master key: without
 * that key it reveals nothing of the secret, and with it two sealed texts can be
 * compared (is this datastore's key the account's key1?) without decrypting either.
 */
export class Sealer {
  private readonly fingerprintKey: Buffer;

  private constructor(
    private readonly masterKey: Buffer,
    /** Where the key came from, as a person would set it: for the message when it is the wrong one. */
    readonly source: string,
  ) {
    this.fingerprintKey = createHmac('sha256', masterKey).update('mlspace/fingerprint/v1').digest();
  }

  /**
   * The master key comes from `MLSPACE_MASTER_KEY` (base64 of 32 bytes) when set,
   * else from `keyFile` (--master-key-file), which must exist, else from
   * `master.key` in the data directory, created with mode 0600 on first use.
   */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env, keyFile?: string): Sealer {
    const fromEnv = env.MLSPACE_MASTER_KEY;
    if (fromEnv) return new Sealer(decodeKey(fromEnv, 'MLSPACE_MASTER_KEY'), 'MLSPACE_MASTER_KEY');
    if (keyFile) {
      const source = `--master-key-file ${keyFile}`;
      if (!fs.existsSync(keyFile)) {
        throw new Error(`${source}: no such file. Give the file that holds the deployment's master key, or make a new one for a new deployment: (umask 077; openssl rand -base64 32 > ${keyFile}).`);
      }
      return new Sealer(decodeKey(fs.readFileSync(keyFile, 'utf8').trim(), source), source);
    }
    const file = path.join(dataDir, 'master.key');
    try {
      return new Sealer(decodeKey(fs.readFileSync(file, 'utf8').trim(), file), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const key = randomBytes(32);
    // Written aside and linked into place: never half a file, never over a key another
    // process just made (nodes started together on one volume); the loser reads the winner's.
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, key.toString('base64') + '\n', { mode: 0o600 });
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return new Sealer(decodeKey(fs.readFileSync(file, 'utf8').trim(), file), file);
    } finally {
      fs.rmSync(temp, { force: true });
    }
    return new Sealer(key, file);
  }

  /**
   * A value that tells master keys apart without revealing them (an HMAC of a
   * fixed text): the database keeps the first node's, and a node whose key gives
   * another refuses to start (checkMasterKey).
   */
  keyCheck(): string {
    return createHmac('sha256', this.masterKey).update('mlspace/master-key-check/v1').digest('base64');
  }

  /** A secret for one purpose, derived from the master key: the same on every node of a deployment, and nothing of the key itself. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.masterKey).update(`mlspace/${purpose}/v1`).digest();
  }

  /** Whether `check` is this key's check value (compared in constant time). */
  matchesCheck(check: string): boolean {
    const mine = Buffer.from(this.keyCheck(), 'base64');
    const theirs = Buffer.from(check, 'base64');
    return mine.length === theirs.length && timingSafeEqual(mine, theirs);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const fingerprint = this.fingerprint(plain).toString('base64url');
    return `v2:${fingerprint}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  unseal(sealed: string): string {
    let body: string;
    if (sealed.startsWith('v2:')) body = sealed.slice(sealed.indexOf(':', 3) + 1);
    else if (sealed.startsWith('v1:')) body = sealed.slice(3);
    else throw new Error('Sealed secret has an unknown format.');
    const raw = Buffer.from(body, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** The keyed fingerprint of a secret: equal secrets, equal fingerprints. */
  fingerprint(plain: string): Buffer {
    return createHmac('sha256', this.fingerprintKey).update(plain, 'utf8').digest();
  }

  /** The fingerprint of what a sealed text holds, read from the text itself when it carries one. */
  fingerprintOf(sealed: string): Buffer {
    if (sealed.startsWith('v2:')) return Buffer.from(sealed.slice(3, sealed.indexOf(':', 3)), 'base64url');
    return this.fingerprint(this.unseal(sealed));
  }
}

function decodeKey(text: string, source: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`The master key in ${source} must be the base64 encoding of exactly 32 bytes (make one with: openssl rand -base64 32).`);
  return key;
}
