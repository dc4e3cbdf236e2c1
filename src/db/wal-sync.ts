import fsp from 'node:fs/promises';

/**
 * Group commit for the SQLite write-ahead log. The database runs with
 * synchronous=NORMAL, so a commit writes its WAL frames without waiting for the
 * disk, and blocks nobody; before a write is acknowledged, `sync` fsyncs the
 * WAL from the thread pool. Callers that arrive while an fsync runs share the
 * next one, so N concurrent writes cost about two fsyncs, not N, and the event
 * loop never waits on the disk. Durability is that of synchronous=FULL: a write
 * is acknowledged only once its commit is on disk. fdatasync, as SQLite itself
 * uses: once the log stops growing, an overwrite in place needs no journal
 * commit for the file's times.
 */
export class WalSync {
  private handle: fsp.FileHandle | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly walFile: string) {}

  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    // The fsync under way may have begun before this caller's commit: wait for the next one.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => {});
    await this.handle?.close();
    this.handle = undefined;
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
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
