import type { ContentStore } from './content-store.js';

/**
 * Defers unlinking content files that a response is still streaming. A read pins
 * the ids it is about to stream right after the metadata lookup that named them,
 * with nothing but promise continuations in between; a removal decides whether
 * an id is pinned only after those have run (setImmediate), so a read that looked
 * up before the commit that orphaned its content has pinned it by then, even once
 * the lookup is asynchronous. Removing a pinned id then waits until its last pin
 * is released. A crash meanwhile leaves an unreferenced file, which the start-up
 * sweep removes.
 */
export class ContentPins {
  private readonly pins = new Map<string, number>();
  private readonly deferred = new Set<string>();

  /**
   * `durable`: resolves once the commits made so far are on disk.
   * `graceMs`: how long an orphaned file stays before it may go, asked at each
   * removal; nodes that share the content directory with live others keep it a
   * while. A read on another node has no pin here: it must find the file still
   * there between its lookup and its open (and, on a network filesystem, while
   * it streams).
   */
  constructor(
    private readonly store: ContentStore,
    private readonly graceMs: () => number = () => 0,
    private readonly durable: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /** Pins `ids`; the returned function releases them (calling it again does nothing). */
  pin(ids: Iterable<string>): () => Promise<void> {
    const pinned = [...ids];
    for (const id of pinned) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const free: string[] = [];
      for (const id of pinned) {
        const left = this.pins.get(id)! - 1;
        if (left > 0) {
          this.pins.set(id, left);
          continue;
        }
        this.pins.delete(id);
        if (this.deferred.delete(id)) free.push(id);
      }
      if (free.length > 0) await this.store.remove(free);
    };
  }

  /**
   * Unlinks content files nothing refers to any more, in the background: now, or
   * once no read streams them. The commit that orphaned them is done, so no answer
   * waits for the unlinks (the 32 old blocks of a 256 MiB blob take longer to unlink
   * than its new block list takes to commit); a failed or interrupted unlink leaves
   * an unreferenced file, which the start-up sweep removes.
   */
  remove(ids: Iterable<string>): void {
    void this.removeDecided(ids);
  }

  /** `remove`, resolving once each id is unlinked or waits for its last pin (the unlinks themselves go on). */
  async removeDecided(ids: Iterable<string>): Promise<void> {
    const orphans = [...ids];
    if (orphans.length === 0) return;
    // Only once the commit that orphaned them is on disk: a power cut before would bring back rows that name them.
    // A failed sync leaves them, unreferenced or not, to the start-up sweep.
    if (!(await this.durable().then(() => true, () => false))) return;
    const grace = this.graceMs();
    await new Promise((resolve) => (grace > 0 ? setTimeout(resolve, grace).unref() : setImmediate(resolve)));
    const now: string[] = [];
    for (const id of orphans) {
      if (this.pins.has(id)) this.deferred.add(id);
      else now.push(id);
    }
    if (now.length > 0) this.store.remove(now).catch(() => {});
  }
}
