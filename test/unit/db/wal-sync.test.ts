import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { WalSync } from '../../../src/db/wal-sync.js';

function walFile(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-wal-')), 'metadata.sqlite-wal');
  fs.writeFileSync(file, 'frames');
  return file;
}

describe('WalSync', () => {
  it('gives callers of one turn one fsync, started after them, and never lets a caller ride an fsync that started before it', async () => {
    const sync = new WalSync(walFile());
    await sync.sync();
    const handle = (sync as unknown as { handle: { datasync(): Promise<void> } }).handle;
    const fsync = vi.spyOn(handle, 'datasync');

    // Writes committed together ask together: one fsync, which starts once they all have asked.
    await Promise.all(Array.from({ length: 10 }, () => sync.sync()));
    expect(fsync).toHaveBeenCalledTimes(1);

    const first = sync.sync();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fsync).toHaveBeenCalledTimes(2); // under way now
    const later = Array.from({ length: 10 }, () => sync.sync()); // arrive while it runs: all share the next one
    await Promise.all([first, ...later]);
    expect(fsync).toHaveBeenCalledTimes(3);
    await sync.close();
  });

  it('passes an fsync failure to the callers that waited on it', async () => {
    const sync = new WalSync(walFile());
    await sync.sync();
    const handle = (sync as unknown as { handle: { datasync(): Promise<void> } }).handle;
    vi.spyOn(handle, 'datasync').mockRejectedValueOnce(new Error('EIO'));
    await expect(sync.sync()).rejects.toThrow('EIO');
    await expect(sync.sync()).resolves.toBeUndefined();
    await sync.close();
  });
});
