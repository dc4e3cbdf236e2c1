import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shareService, stopAndClean, uniqueShare } from '../helpers/file.js';
import { startTestServer } from '../helpers/server.js';

const RANGE = 1024 * 1024;
const RANGES = 48;

describe('File service durability', () => {
  it('keeps every acknowledged Put Range across kill -9 and restart', async () => {
    const first = await startTestServer();
    const name = uniqueShare();
    // No retries: a request the kill cut off must fail, not wait for a server that is gone.
    const file = shareService(first, undefined, undefined, { retryOptions: { maxTries: 1 } }).getShareClient(name).rootDirectoryClient.getFileClient('journal.bin');
    const chunks = Array.from({ length: RANGES }, () => randomBytes(RANGE));
    const acknowledged = new Set<number>();
    try {
      await shareService(first).getShareClient(name).create();
      await file.create(RANGES * RANGE);
      await file.uploadRange(chunks[0]!, 0, RANGE);
      acknowledged.add(0);
      // Four writers keep Put Ranges in flight; the server is killed once half have been acknowledged.
      let next = 1;
      let killed = false;
      const writer = async () => {
        while (next < RANGES && !killed) {
          const index = next++;
          try {
            await file.uploadRange(chunks[index]!, index * RANGE, RANGE);
            acknowledged.add(index);
          } catch {
            return;
          }
          if (acknowledged.size >= RANGES / 2 && !killed) {
            killed = true;
            first.process.kill('SIGKILL');
          }
        }
      };
      await Promise.all([writer(), writer(), writer(), writer()]);
      expect(await first.stop()).toBeNull();
    } finally {
      await first.stop('SIGKILL');
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(RANGES / 2);
    expect(fs.existsSync(path.join(first.dataDir, 'endpoints.json'))).toBe(true);

    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const reopened = shareService(second).getShareClient(name).rootDirectoryClient.getFileClient('journal.bin');
      const content = await reopened.downloadToBuffer();
      expect(content.length).toBe(RANGES * RANGE);
      for (const index of acknowledged) {
        const stored = content.subarray(index * RANGE, (index + 1) * RANGE);
        expect(createHash('sha256').update(stored).digest('hex'), `range ${index}`).toBe(createHash('sha256').update(chunks[index]!).digest('hex'));
      }
      const listed = (await reopened.getRangeList()).rangeList;
      for (const index of acknowledged) {
        expect(listed.some((range) => range.start <= index * RANGE && range.end >= (index + 1) * RANGE - 1), `range ${index} listed`).toBe(true);
      }
      // Every content file still on disk is one the metadata refers to: the restart swept the rest.
      const stored = fs.readdirSync(path.join(first.dataDir, 'blobs')).flatMap((dir) => fs.readdirSync(path.join(first.dataDir, 'blobs', dir)));
      expect(stored.length).toBeLessThanOrEqual(RANGES);
    } finally {
      await stopAndClean(second);
    }
  }, 60_000);
});
