import type { StorageAccess } from './job-storage.js';
import type { JobStorage } from './job-storage.js';

/** How long output waits before it is appended: a log streams without a request per line. */
const FLUSH_MS = 500;
/** The most one Append Block carries (older service versions' limit, which every client accepts). */
const MAX_BLOCK = 4 * 1024 * 1024;
/** An append blob takes 50,000 blocks; the last one is kept for saying that the rest was dropped. */
const MAX_BLOCKS = 50_000;
const DROPPED = Buffer.from('\n[mlspace: this log reached the 50,000 appends an append blob takes; the rest of the output was dropped]\n');

/**
 * How long output waits before the next append, after `appends` of them: half a
 * second for the first 10,000 (about 1.4 hours of steady output), then 2 s
 * longer for each 10,000 more, so a chatty job's log lasts about 62 hours
 * before it fills up.
 */
export function flushDelay(appends: number): number {
  return FLUSH_MS + Math.floor(appends / 10_000) * 2_000;
}

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
  private appends = 0;

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
    else this.flushSoon(flushDelay(this.appends));
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
        for (let offset = 0; offset < data.length && this.appends < MAX_BLOCKS; offset += MAX_BLOCK) {
          const block = this.appends === MAX_BLOCKS - 1 ? DROPPED : data.subarray(offset, offset + MAX_BLOCK);
          await this.storage.with(this.access, (target) => target.append(this.path, block));
          this.appends++;
        }
      } catch (error) {
        this.failure = error;
      }
    });
  }
}
