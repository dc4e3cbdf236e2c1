/**
 * A bounded, least-recently-used cache of records read from the metadata store,
 * so the hot read path (Get Blob) skips the SQLite lookup and the JSON parse.
 * The repository that owns the table invalidates an entry in every transaction
 * that writes its row, so a cached record is never older than the database.
 * Records handed out are frozen: a caller that wants a changed copy spreads it.
 */
export class RecordCache<T extends object> {
  private readonly entries = new Map<string, Readonly<T>>();

  constructor(private readonly maxEntries: number) {}

  get(key: string): Readonly<T> | undefined {
    const record = this.entries.get(key);
    if (record !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, record);
    }
    return record;
  }

  set(key: string, record: T): Readonly<T> {
    const frozen = Object.freeze(record);
    this.entries.set(key, frozen);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return frozen;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
