/**
 * Keeps the bytes of small content files in memory. Content files never change
 * once written (a new write makes a new id), so an entry can never be stale; the
 * cache only bounds how much memory it takes, evicting the least recently used.
 */
export class SmallContentCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    readonly maxEntrySize: number,
  ) {}

  get(id: string): Buffer | undefined {
    const data = this.entries.get(id);
    if (data !== undefined) {
      // Re-inserting moves the entry to the most recently used end.
      this.entries.delete(id);
      this.entries.set(id, data);
    }
    return data;
  }

  set(id: string, data: Buffer): void {
    if (data.length > this.maxEntrySize || this.entries.has(id)) return;
    this.entries.set(id, data);
    this.bytes += data.length;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.length;
    }
  }

  delete(id: string): void {
    const data = this.entries.get(id);
    if (data === undefined) return;
    this.entries.delete(id);
    this.bytes -= data.length;
  }
}
