import fsp from 'node:fs/promises';
import { GroupSync } from '../bytes/group-sync.js';

/**
 * Group commit for the SQLite write-ahead log. The database runs with
 * synchronous=NORMAL, so a commit writes its WAL frames without waiting for the
 * disk, and blocks nobody; before a write is acknowledged, `sync` fsyncs the
 * WAL from the thread pool. Durability is that of synchronous=FULL: a write is
 * acknowledged only once its commit is on disk. fdatasync, as SQLite itself
 * uses: once the log stops growing, an overwrite in place needs no journal
 * commit for the file's times. Writes committed together (a WriteBatch, whose
 * callers ask in the same turn) wait for one fdatasync (GroupSync), not two.
 */
export class WalSync {
  private handle: fsp.FileHandle | undefined;
  private readonly group = new GroupSync(async () => {
    // SQLite creates the WAL at the first write and reuses it from then on (it is
    // rewritten in place after a checkpoint, not replaced), so one handle serves.
    this.handle ??= await fsp.open(this.walFile, 'r');
    await this.handle.datasync();
  });

  constructor(private readonly walFile: string) {}

  sync(): Promise<void> {
    return this.group.sync();
  }

  /** The fdatasync running now (settled whatever its outcome), or undefined: what a WriteBatch holds its commit for. */
  inFlight(): Promise<void> | undefined {
    return this.group.inFlight();
  }

  async close(): Promise<void> {
    await this.group.settle();
    await this.handle?.close();
    this.handle = undefined;
  }
}
