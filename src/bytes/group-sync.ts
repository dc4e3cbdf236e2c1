import fs from 'node:fs';

/** fdatasync of a descriptor, from the thread pool. */
export function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/**
 * Group commit for one file: callers that need their writes on disk share
 * fdatasyncs. A caller needs an fdatasync that starts after its write. The next
 * one starts only once the current turn of the event loop has run its callbacks
 * (a `nextTick`, which waits for every promise continuation queued meanwhile),
 * or, while one runs, when that one ends; everyone who asks before it starts
 * shares it. N concurrent writers so cost about two fdatasyncs, not N, and the
 * event loop never waits on the disk.
 */
export class GroupSync {
  private running: Promise<void> | undefined;
  /** The fdatasync that has not started yet, which a caller joins. */
  private next: Promise<void> | undefined;

  constructor(private readonly datasync: () => Promise<void>) {}

  sync(): Promise<void> {
    this.next ??= new Promise<void>((resolve) => {
      const start = () => resolve(this.start());
      if (this.running === undefined) process.nextTick(start);
      else this.running.then(start, start);
    });
    return this.next;
  }

  /** The fdatasync running now, settled whatever its outcome; undefined when none is. */
  inFlight(): Promise<void> | undefined {
    return this.running?.catch(() => {});
  }

  /** Waits for the fdatasyncs asked for so far, whatever their outcome. */
  async settle(): Promise<void> {
    await this.next?.catch(() => {});
    await this.running?.catch(() => {});
  }

  private start(): Promise<void> {
    this.next = undefined;
    const run = this.datasync().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
