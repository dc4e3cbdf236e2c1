import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OffThreadMd5 } from '../../src/bytes/md5-off-thread.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest();

describe('OffThreadMd5', () => {
  it('computes what createHash computes, for many bodies at once, however the bytes are cut', async () => {
    const bodies = [Buffer.alloc(0), randomBytes(100), randomBytes(3 * 1024 * 1024 + 777), randomBytes(1024 * 1024)];
    const digests = bodies.map((body, i) => {
      const hash = new OffThreadMd5();
      // Pieces of a few bytes to 64 KiB, leaving remainders smaller than Node's pooled buffers.
      const step = [1, 4096, 65536, 1000][i]!;
      for (let at = 0; at < body.length; at += step) hash.update(body.subarray(at, at + step));
      return hash.digest();
    });
    expect(await Promise.all(digests)).toEqual(bodies.map(md5));
    // Node's shared buffer pool is intact: small buffers made after the hand-offs still hold their bytes.
    const small = Buffer.from('still here');
    expect(small.toString()).toBe('still here');
  });

  it('forgets an abandoned body and goes on hashing others', async () => {
    const abandoned = new OffThreadMd5();
    abandoned.update(randomBytes(2 * 1024 * 1024));
    abandoned.abandon();
    const body = randomBytes(5000);
    const hash = new OffThreadMd5();
    hash.update(body);
    expect(await hash.digest()).toEqual(md5(body));
  });
});
