import fsp from 'node:fs/promises';

/**
 * Group commit for the SQLite write-ahead log. The database runs with
 * synchronous=NORMAL, so a commit writes its WAL frames without waiting for the
 * disk, and blocks nobody; before a write is acknowledged, `sync` fsyncs the
 * WAL from the thread pool. Durability is that of synchronous=FULL: a write is
 * acknowledged only once its commit is on disk. fdatasync, as SQLite itself
 * uses: once the log stops growing, an overwrite in place needs no journal
 * commit for the file's times.
 *
 * A caller needs an fsync that starts after its commit. The next fsync starts
 * only once the current turn of the event loop has run its callbacks (a
 * `nextTick`, which waits for every promise continuation queued meanwhile), or,
 * while one runs, when that one ends; everyone who asks before it starts shares
 * it. Writes committed together (a WriteBatch, whose callers ask in the same
 * turn) so wait for one fsync, not two, and N concurrent writes cost about two
 * fsyncs, not N; the event loop never waits on the disk.
 */
export class WalSync {
  private handle: fsp.FileHandle | undefined;
  private running: Promise<void> | undefined;
  /** The fsync that has not started yet, which a caller joins. */
  private next: Promise<void> | undefined;

  constructor(private readonly walFile: string) {}

  sync(): Promise<void> {
    this.next ??= new Promise<void>((resolve) => {
      const start = () => resolve(this.start());
      if (this.running === undefined) process.nextTick(start);
      else this.running.then(start, start);
    });
    return this.next;
  }

  async close(): Promise<void> {
    await this.next?.catch(() => {});
    await this.running?.catch(() => {});
    await this.handle?.close();
    this.handle = undefined;
  }

  private start(): Promise<void> {
    this.next = undefined;
    const run = this.fsync().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async fsync(): Promise<void> {
    // SQLite creates the WAL at the first write and reuses it from then on (it is
    // rewritten in place after a checkpoint, not replaced), so one handle serves.
    this.handle ??= await fsp.open(this.walFile, 'r');
    await this.handle.datasync();
  }
}
