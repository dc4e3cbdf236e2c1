import type { StorageAccess } from './job-storage.js';
import type { JobStorage } from './job-storage.js';

/** How long output waits before it is appended: a log streams without a request per line. */
const FLUSH_MS = 500;
/** The most one Append Block carries (older service versions' limit, which every client accepts). */
const MAX_BLOCK = 4 * 1024 * 1024;

/**
 * A job's `user_logs/std_log.txt`: an append blob in the workspace's artifact
 * store, written with the workspace's key copy while the job runs, so that
 * `ml job stream` shows it as it grows. Output is appended in order; the
 * first append that fails is kept, and the job fails with it.
 */
export class JobLog {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private failure?: unknown;

  constructor(
    private readonly storage: JobStorage,
    private readonly access: () => Promise<StorageAccess>,
    readonly path: string,
  ) {}

  /** Creates the (empty) log; fails when the workspace's storage refuses its credential. */
  start(): Promise<void> {
    return this.storage.with(this.access, (target) => target.createLog(this.path));
  }

  write(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= MAX_BLOCK) this.flushSoon(0);
    else this.flushSoon(FLUSH_MS);
  }

  /** Appends everything written so far; rejects with the first append that failed. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
    await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private flushSoon(delay: number): void {
    if (this.timer !== undefined && delay > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(async () => {
      if (this.failure !== undefined) return;
      try {
        for (let offset = 0; offset < data.length; offset += MAX_BLOCK) {
          const block = data.subarray(offset, offset + MAX_BLOCK);
          await this.storage.with(this.access, (target) => target.append(this.path, block));
        }
      } catch (error) {
        this.failure = error;
      }
    });
  }
}
