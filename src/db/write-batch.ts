import type { Db } from './sqlite.js';
import { transact } from './transact.js';

interface Queued<T> {
  run: () => T;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes that arrive together commit together. Sixteen writers appending to
 * one log, or taking leases, each paid a commit of their own: the WAL frames
 * of every page they touched, most of them the same pages. Writes submitted
 * within one turn of the event loop run in one transaction, each in a
 * savepoint of its own, so one that throws (a failed condition) is undone
 * alone and the others still commit. Each caller gets its own result or
 * error, and asks WalSync for the fsync that makes it durable in the same
 * turn as the others, so they share that too.
 *
 * While an fsync runs (`inFlight`), a commit gains nothing by going first: its
 * writers wait for the next fsync either way. The batch waits for the running
 * one to end and then commits everything that arrived meanwhile, so under load
 * each fsync has one transaction, of every writer that came during the last.
 */
export class WriteBatch {
  private queue: Queued<unknown>[] = [];

  /**
   * `onAbort` runs when a batch's commit fails, so whoever cached what its writes returned can forget it.
   * `inFlight` is the fsync running now, if any (WalSync.inFlight).
   */
  constructor(
    private readonly db: Db,
    private readonly onAbort: () => void = () => {},
    private readonly inFlight: () => Promise<void> | undefined = () => undefined,
  ) {}

  submit<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.push({ run, resolve, reject } as Queued<unknown>) === 1) setImmediate(this.flushWhenSynced);
    });
  }

  /**
   * Flushes now, or once the running fsync ends: in the turn after, so the writes that arrive with its end
   * join. It waits for that one fsync only, never for the next: writers of other tables keep asking for them.
   */
  private readonly flushWhenSynced = (): void => {
    const running = this.inFlight();
    if (running === undefined) this.flush();
    else void running.then(() => setImmediate(() => this.flush()));
  };

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    const outcomes: ({ value: unknown } | { error: unknown })[] = [];
    try {
      transact(this.db, () => {
        for (const item of batch) {
          try {
            outcomes.push({ value: transact(this.db, item.run) });
          } catch (error) {
            // Some failures (a full disk) make SQLite roll the whole transaction back: the writes before are undone,
            // and those after must not run outside it, each committing on its own while the batch reports failure.
            if (!this.db.inTransaction) throw error;
            outcomes.push({ error });
          }
        }
      });
    } catch (error) {
      // The commit itself failed: nothing of the batch is in.
      this.onAbort();
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index]!;
      if ('error' in outcome) item.reject(outcome.error);
      else item.resolve(outcome.value);
    });
  }
}
