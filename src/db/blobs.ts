import type { AsyncStore } from './async-store.js';
import { BlobHistory, extentIds, pageOwner, recordDoc, type BlobKey, type PageOwner, type Retirement } from './blob-history.js';
import { ContentRefs } from './content-refs.js';
import { RangeRows } from './range-rows.js';
import { RecordCache } from './record-cache.js';
import type { BlobRecord, BlockRecord, ContainerRecord, Extent, ListPage, StoredRange } from './records.js';
import type { Db } from './sqlite.js';
import { WriteBatch } from './write-batch.js';
import { transact } from './transact.js';

type Key = BlobKey;

/** The extents of an append blob whose cache entry holds its properties only. */
const NO_EXTENTS: Extent[] = Object.freeze([]) as unknown as Extent[];

/** A small body committed with its blob's row (its id starts with INLINE_PREFIX). */
export interface InlineContent {
  id: string;
  data: Buffer;
}

/** Thrown inside a transaction to abort it; the caller maps it to a protocol error. */
export type Precondition<T> = (current: T | undefined) => void;

/**
 * What a commit takes besides the record: a small body kept inline, the page
 * blob whose written pages the new blob gets (a copy), and where the blob it
 * replaces goes (a previous version) instead of away.
 */
export interface CommitOptions {
  inline?: InlineContent;
  pagesFrom?: PageOwner;
  retire?: Retirement;
  /** Gives the new blob a version id, chosen in the transaction among those not `taken` (versioning). */
  versionId?: NewVersionId;
  /**
   * Makes the blob's extents from the blocks it names (Put Block List), in the
   * transaction: the uncommitted blocks it reads are then the ones the commit
   * takes, whatever another commit does meanwhile.
   */
  extentsFrom?: (current: BlobRecord | undefined, uncommitted: BlockRecord[]) => { extents: Extent[]; size: number };
  /**
   * The blob as the caller read it before the commit (`blob` undefined: there was
   * none). A store may commit in one step when the blob is still that one, with
   * the precondition run on it; otherwise it reads the blob in its transaction.
   */
  seen?: { blob: BlobRecord | undefined };
}

/** Picks a version id among those not taken yet: inside the store's transaction, so two writes never pick the same. */
export type NewVersionId = (taken: (id: string) => boolean) => string;

/** How Delete Blob keeps what it deletes: the blob as a version or soft-deleted copy, snapshots and versions marked deleted until they expire. */
export interface DeletePolicy {
  retire?: Retirement;
  soft?: { deletedTime: number; expires: number };
}

/**
 * A change to a page blob: its next record, and the bytes it forgets (Clear
 * Pages, shrinking) and/or one newly written range, whose content holds no
 * reference yet.
 */
export interface PageEdit {
  blob: BlobRecord;
  clear?: { first: number; last: number };
  write?: StoredRange;
}

/** The Blob service's metadata store, whichever dialect answers (BlobRepo over SQLite, PgBlobRepo over PostgreSQL). */
export type BlobStore = AsyncStore<BlobRepo>;

/**
 * Containers, blobs and uncommitted blocks. Each method is one transaction (or,
 * for the writes to one blob that return a promise, one savepoint of a
 * WriteBatch's transaction), so a blob is either wholly committed or not there
 * at all. Methods that drop content return the ids of content files nothing
 * refers to any more: the caller unlinks them after the commit (a crash in
 * between leaves garbage that start-up sweeps).
 */
export class BlobRepo {
  private readonly refs: ContentRefs;
  /** The written pages of page blobs and their snapshots, by (account, container, name, snapshot or ''). */
  private readonly pages: RangeRows;
  /** Previous versions and soft-deleted blobs. */
  private readonly history: BlobHistory;
  /** Every row a container, or an account, holds in the blob tables. */
  private readonly containerRows: ScopedRows;
  private readonly accountRows: ScopedRows;
  private readonly blobCache = new RecordCache<BlobRecord>(20_000);
  private readonly writes: WriteBatch;
  private readonly stmt;

  /** `inFlight`: the WAL fsync running now, which a batch of writes waits for (WriteBatch). */
  constructor(
    private readonly db: Db,
    inFlight?: () => Promise<void> | undefined,
  ) {
    this.refs = new ContentRefs(db);
    this.writes = new WriteBatch(db, () => this.blobCache.clear(), inFlight);
    this.pages = new RangeRows(db, 'page_ranges', ['account', 'container', 'blob', 'snapshot'], this.refs);
    this.history = new BlobHistory(db, this.refs, this.pages);
    this.containerRows = new ScopedRows(db, 'account = ? AND container = ?');
    this.accountRows = new ScopedRows(db, 'account = ?');
    this.stmt = {
      getContainer: db.prepare('SELECT doc FROM containers WHERE account = ? AND name = ?').pluck(),
      insertContainer: db.prepare('INSERT INTO containers (account, name, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      updateContainer: db.prepare('UPDATE containers SET doc = ? WHERE account = ? AND name = ?'),
      deleteContainer: db.prepare('DELETE FROM containers WHERE account = ? AND name = ?'),
      // Soft-deleted containers are kept under names no container can have ('~' first): listings skip them.
      listContainers: db.prepare(
        "SELECT name, doc FROM containers WHERE account = ? AND name > ? AND name >= ? AND name < ? AND substr(name, 1, 1) <> '~' ORDER BY name LIMIT ?",
      ),
      hiddenContainers: db.prepare("SELECT name, doc FROM containers WHERE account = ? AND substr(name, 1, 1) = '~' ORDER BY name"),
      expiredContainers: db.prepare("SELECT account, name FROM containers WHERE json_extract(doc, '$.retentionExpires') <= ?"),
      renameContainer: db.prepare('UPDATE containers SET name = ?, doc = ? WHERE account = ? AND name = ?'),
      moveRows: [...CONTENT_ROW_TABLES, ...RECORD_TABLES].map((table) =>
        db.prepare(`UPDATE ${table} SET container = ? WHERE account = ? AND container = ?`),
      ),
      getBlob: db.prepare('SELECT doc FROM blobs WHERE account = ? AND container = ? AND name = ?').pluck(),
      upsertBlob: db.prepare(
        'INSERT INTO blobs (account, container, name, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET doc = excluded.doc',
      ),
      deleteBlob: db.prepare('DELETE FROM blobs WHERE account = ? AND container = ? AND name = ?'),
      scanBlobs: db.prepare(
        'SELECT name, doc FROM blobs WHERE account = ? AND container = ? AND name > ? AND name >= ? AND name < ? ORDER BY name LIMIT ?',
      ),
      getBlocks: db.prepare(
        'SELECT block_id AS blockId, content_id AS contentId, size FROM blocks WHERE account = ? AND container = ? AND blob = ? ORDER BY seq',
      ),
      someBlockId: db.prepare('SELECT block_id FROM blocks WHERE account = ? AND container = ? AND blob = ? LIMIT 1').pluck(),
      getBlock: db.prepare('SELECT content_id FROM blocks WHERE account = ? AND container = ? AND blob = ? AND block_id = ?').pluck(),
      putBlock: db.prepare(
        `INSERT INTO blocks (account, container, blob, block_id, content_id, size, seq)
         VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM blocks))
         ON CONFLICT DO UPDATE SET content_id = excluded.content_id, size = excluded.size, seq = excluded.seq`,
      ),
      blockContent: db.prepare('SELECT content_id FROM blocks WHERE account = ? AND container = ? AND blob = ?').pluck(),
      deleteBlocks: db.prepare('DELETE FROM blocks WHERE account = ? AND container = ? AND blob = ?'),
      blockCount: db.prepare('SELECT COUNT(*) FROM blocks WHERE account = ? AND container = ? AND blob = ?').pluck(),
      scanTaggedInAccount: db.prepare(
        `SELECT container, name, doc FROM blobs WHERE account = ? AND (container, name) > (?, ?)
         AND json_extract(doc, '$.tags') IS NOT NULL ORDER BY container, name LIMIT ?`,
      ),
      scanTaggedInContainer: db.prepare(
        `SELECT container, name, doc FROM blobs WHERE account = ? AND container = ? AND name > ?
         AND json_extract(doc, '$.tags') IS NOT NULL ORDER BY name LIMIT ?`,
      ),
      insertSnapshot: db.prepare('INSERT INTO blob_snapshots (account, container, name, snapshot, doc) VALUES (?, ?, ?, ?, ?)'),
      getSnapshot: db.prepare('SELECT doc FROM blob_snapshots WHERE account = ? AND container = ? AND name = ? AND snapshot = ?').pluck(),
      snapshotsOf: db.prepare('SELECT snapshot, doc FROM blob_snapshots WHERE account = ? AND container = ? AND name = ? ORDER BY snapshot'),
      countSnapshots: db.prepare("SELECT COUNT(*) FROM blob_snapshots WHERE account = ? AND container = ? AND name = ? AND json_extract(doc, '$.deletedTime') IS NULL").pluck(),
      updateSnapshot: db.prepare('UPDATE blob_snapshots SET doc = ? WHERE account = ? AND container = ? AND name = ? AND snapshot = ?'),
      expiredSnapshots: db.prepare("SELECT account, container, name, snapshot, doc FROM blob_snapshots WHERE json_extract(doc, '$.retentionExpires') <= ?"),
      deleteSnapshot: db.prepare('DELETE FROM blob_snapshots WHERE account = ? AND container = ? AND name = ? AND snapshot = ?'),
      appendExtents: db.prepare('SELECT content_id AS id, size FROM append_blocks WHERE account = ? AND container = ? AND blob = ? ORDER BY seq'),
      insertAppendBlock: db.prepare('INSERT INTO append_blocks (account, container, blob, seq, content_id, size) VALUES (?, ?, ?, ?, ?, ?)'),
      deleteAppendBlocks: db.prepare('DELETE FROM append_blocks WHERE account = ? AND container = ? AND blob = ?'),
      insertInline: db.prepare('INSERT INTO inline_content (id, data) VALUES (?, ?)'),
      inlineData: db.prepare('SELECT data FROM inline_content WHERE id = ?').pluck(),
      deleteAccountRows: ['containers', 'service_properties'].map((table) => db.prepare(`DELETE FROM ${table} WHERE account = ?`)),
    };
  }

  // ---- containers ----

  getContainer(account: string, name: string): ContainerRecord | undefined {
    const doc = this.stmt.getContainer.get(account, name) as string | undefined;
    return doc === undefined ? undefined : { ...JSON.parse(doc), account, name };
  }

  /** Returns false when the container already exists. */
  createContainer(container: ContainerRecord): boolean {
    return this.stmt.insertContainer.run(container.account, container.name, containerDoc(container)).changes === 1;
  }

  updateContainer(container: ContainerRecord, precondition?: Precondition<ContainerRecord>): void {
    transact(this.db, () => {
      precondition?.(this.getContainer(container.account, container.name));
      this.stmt.updateContainer.run(containerDoc(container), container.account, container.name);
    });
  }

  /**
   * Reads, changes and writes a container in one transaction, so a change computed
   * from its current state (a lease action) cannot interleave with another.
   */
  changeContainer(account: string, name: string, change: (current: ContainerRecord | undefined) => ContainerRecord): ContainerRecord {
    return transact(this.db, () => {
      const next = change(this.getContainer(account, name));
      this.stmt.updateContainer.run(containerDoc(next), account, name);
      return next;
    });
  }

  /** Deletes the container with its blobs and blocks; undefined when it did not exist. */
  deleteContainer(account: string, name: string, precondition?: Precondition<ContainerRecord>): string[] | undefined {
    return transact(this.db, () => {
      const current = this.getContainer(account, name);
      precondition?.(current);
      if (!current) return undefined;
      const orphans: string[] = [];
      this.containerRows.drop([account, name], this.refs, orphans);
      // Rare enough that dropping every cached blob beats tracking them per container.
      this.blobCache.clear();
      this.stmt.deleteContainer.run(account, name);
      return orphans;
    });
  }

  /**
   * Gives container `from` and everything in it the name `to`, in one
   * transaction: Rename Container, and soft delete and restore, which keep a
   * deleted container under a name no container can have. `change` sees both
   * (undefined where absent) and returns the moved container's record, or throws.
   */
  moveContainer(
    account: string,
    from: string,
    to: string,
    change: (source: ContainerRecord | undefined, target: ContainerRecord | undefined) => ContainerRecord,
  ): ContainerRecord {
    return transact(this.db, () => {
      const moved = change(this.getContainer(account, from), this.getContainer(account, to));
      for (const statement of this.stmt.moveRows) statement.run(to, account, from);
      this.stmt.renameContainer.run(to, containerDoc({ ...moved, name: to }), account, from);
      // Rare enough that dropping every cached blob beats tracking them per container.
      this.blobCache.clear();
      return { ...moved, name: to };
    });
  }

  /** Containers kept by a container delete retention policy, with the names they are kept under. */
  hiddenContainers(account: string): { hiddenName: string; container: ContainerRecord }[] {
    const rows = this.stmt.hiddenContainers.all(account) as { name: string; doc: string }[];
    return rows.map((row) => ({ hiddenName: row.name, container: { ...JSON.parse(row.doc), account, name: row.name } }));
  }

  listContainers(account: string, prefix: string, after: string, limit: number): ListPage<ContainerRecord> {
    const rows = this.stmt.listContainers.all(account, after, prefix, prefixEnd(prefix), limit + 1) as { name: string; doc: string }[];
    const items = rows.slice(0, limit).map((row) => ({ ...JSON.parse(row.doc), account, name: row.name }) as ContainerRecord);
    return { items, next: rows.length > limit ? items[items.length - 1]!.name : undefined };
  }

  // ---- blobs ----

  getBlob(account: string, container: string, name: string): BlobRecord | undefined {
    return this.readBlob(account, container, name, true);
  }

  /**
   * The blob's record without an append blob's extents (left empty): for checks
   * that need only its properties, which should not load thousands of blocks.
   */
  getBlobProperties(account: string, container: string, name: string): BlobRecord | undefined {
    return this.readBlob(account, container, name, false);
  }

  /**
   * From the cache or from the row. An append blob's extents are loaded when
   * asked for; until then its cache entry holds its properties only (extents
   * NO_EXTENTS), which is all an append reads.
   */
  private readBlob(account: string, container: string, name: string, withExtents: boolean): BlobRecord | undefined {
    const key = blobKey(account, container, name);
    const cached = this.blobCache.get(key);
    if (cached !== undefined && (cached.extents !== NO_EXTENTS || !withExtents)) return asOfNow(cached);
    let blob: BlobRecord;
    if (cached !== undefined) blob = { ...cached };
    else {
      const doc = this.stmt.getBlob.get(account, container, name) as string | undefined;
      if (doc === undefined) return undefined;
      blob = toBlob(doc, account, container, name);
    }
    if (blob.blobType === 'AppendBlob') blob.extents = withExtents ? (this.stmt.appendExtents.all(account, container, name) as Extent[]) : NO_EXTENTS;
    return asOfNow(this.blobCache.set(key, blob));
  }

  /**
   * Appends a block to an append blob in one transaction: `change` sees the blob
   * as it is (its extents left out: an append needs none of them) and returns its
   * next version, or throws. Concurrent appends are serialized here, so each
   * lands whole at the offset its `change` saw; those that arrive together
   * commit together (WriteBatch).
   */
  appendBlock(key: Key, block: { id: string; size: number }, change: (current: BlobRecord | undefined) => BlobRecord, inline?: InlineContent): Promise<BlobRecord> {
    return this.writes.submit(() => {
      const current = this.getBlobProperties(key.account, key.container, key.name);
      const next = change(current);
      if (inline) this.stmt.insertInline.run(inline.id, inline.data);
      this.refs.add([block.id]);
      this.stmt.insertAppendBlock.run(key.account, key.container, key.name, current!.committedBlockCount ?? 0, block.id, block.size);
      this.stmt.upsertBlob.run(key.account, key.container, key.name, blobDoc(next));
      // The next append reads what this one wrote: keep it (the batch clears the cache if its commit fails).
      this.blobCache.set(blobKey(key.account, key.container, key.name), { ...next, extents: NO_EXTENTS });
      return next;
    });
  }

  /**
   * Commits a blob's new content (Put Blob, Put Block List, Copy Blob): replaces the
   * row, moves content references from the old extents to the new, and discards the
   * blob's uncommitted blocks. `newContent` are ids written for this commit that
   * hold no reference yet. Returns orphaned content ids, or undefined if the
   * container is gone (the caller answers ContainerNotFound and unlinks newContent).
   * The precondition sees the blob it replaces and may set `blob.lease`, the lease
   * the new version keeps.
   */
  commitBlob(blob: BlobRecord, newContent: string[], precondition?: Precondition<BlobRecord>, options: CommitOptions = {}): Promise<string[] | undefined> {
    return this.writes.submit(() => this.commit(blob, newContent, precondition, options));
  }

  /** commitBlob inside the caller's transaction. */
  private commit(blob: BlobRecord, newContent: string[], precondition?: Precondition<BlobRecord>, { inline, pagesFrom, retire, versionId, extentsFrom }: CommitOptions = {}): string[] | undefined {
    return transact(this.db, () => {
      if (this.stmt.getContainer.get(blob.account, blob.container) === undefined) return undefined;
      const current = this.getBlob(blob.account, blob.container, blob.name);
      precondition?.(current);
      if (extentsFrom) Object.assign(blob, extentsFrom(current, this.uncommittedBlocks(blob)));
      if (versionId) blob.versionId = versionId((id) => this.hasVersion(blob, id));
      // Read before the blob's own pages are dropped: a page blob may be copied onto itself.
      const pages = pagesFrom ? this.pages.all(pageOwner(pagesFrom)) : [];
      if (inline) {
        this.stmt.insertInline.run(inline.id, inline.data);
        newContent = [...newContent, inline.id];
      }
      const orphans: string[] = [];
      this.refs.add(newContent);
      // Extents reused from existing content (copies, committed blocks) gain a reference too.
      const fresh = new Set(newContent);
      this.refs.add(extentIds(blob).filter((id) => !fresh.has(id)));
      if (current && retire) this.history.retire(current, retire);
      else if (current) this.refs.release(extentIds(current), orphans);
      this.refs.release(this.stmt.blockContent.all(blob.account, blob.container, blob.name) as string[], orphans);
      this.stmt.deleteBlocks.run(blob.account, blob.container, blob.name);
      this.stmt.deleteAppendBlocks.run(blob.account, blob.container, blob.name);
      this.pages.drop(pageOwner(blob), orphans);
      this.pages.insertAll(pageOwner(blob), pages);
      if (blob.blobType === 'AppendBlob') {
        blob.extents.forEach((extent, seq) => this.stmt.insertAppendBlock.run(blob.account, blob.container, blob.name, seq, extent.id, extent.size));
      }
      this.stmt.upsertBlob.run(blob.account, blob.container, blob.name, blobDoc(blob));
      this.blobCache.delete(blobKey(blob.account, blob.container, blob.name));
      return orphans;
    });
  }

  /** The bytes of inline content (a small blob's body), if it exists. */
  inlineData(id: string): Buffer | undefined {
    return this.stmt.inlineData.get(id) as Buffer | undefined;
  }

  /**
   * Rewrites properties or metadata only; content and its references are unchanged.
   * With `versionId`, the blob gets a new version id and the record it replaces is kept as a version.
   */
  updateBlob(blob: BlobRecord, precondition?: Precondition<BlobRecord>, versionId?: NewVersionId): Promise<boolean> {
    return this.writes.submit(() => {
      const current = this.getBlob(blob.account, blob.container, blob.name);
      precondition?.(current);
      if (!current) return false;
      if (versionId) {
        blob.versionId = versionId((id) => this.hasVersion(blob, id));
        this.history.keepVersion(current);
      }
      this.stmt.upsertBlob.run(blob.account, blob.container, blob.name, blobDoc({ ...blob, extents: current.extents }));
      this.blobCache.delete(blobKey(blob.account, blob.container, blob.name));
      return true;
    });
  }

  /**
   * Reads, changes and writes a blob's properties in one transaction, so a change
   * computed from its current state (a lease action) cannot interleave with another.
   * Its extents stay; content only a dropped pending copy held is returned orphaned.
   */
  changeBlob(account: string, container: string, name: string, change: (current: BlobRecord | undefined) => BlobRecord): Promise<{ blob: BlobRecord; orphans: string[] }> {
    return this.writes.submit(() => {
      const current = this.getBlob(account, container, name);
      const next = { ...change(current), extents: current!.extents };
      const kept = new Set(extentIds(next));
      const orphans: string[] = [];
      this.refs.release(extentIds(current!).filter((id) => !kept.has(id)), orphans);
      this.stmt.upsertBlob.run(account, container, name, blobDoc(next));
      this.blobCache.set(blobKey(account, container, name), { ...next });
      return { blob: next, orphans };
    });
  }

  /**
   * Deletes a blob (and its uncommitted blocks), with its snapshots ('include'),
   * or only its snapshots ('only'); undefined when it did not exist. `policy`
   * keeps what it deletes: the blob as a version or soft-deleted copy, the
   * snapshots marked deleted. The precondition also learns whether the blob has snapshots.
   */
  deleteBlob(
    account: string,
    container: string,
    name: string,
    precondition?: (current: BlobRecord | undefined, hasSnapshots: boolean) => void,
    snapshots?: 'include' | 'only',
    policy: DeletePolicy = {},
  ): Promise<string[] | undefined> {
    return this.writes.submit(() => {
      const current = this.getBlob(account, container, name);
      precondition?.(current, current !== undefined && this.hasSnapshots(account, container, name));
      if (!current) return undefined;
      const orphans: string[] = [];
      if (snapshots !== undefined) {
        for (const snapshot of this.snapshotsOf(account, container, name)) this.removeSnapshot(snapshot, policy.soft, orphans);
        if (snapshots === 'only') return orphans;
      }
      if (policy.retire) this.history.retire(current, policy.retire);
      else this.refs.release(extentIds(current), orphans);
      this.refs.release(this.stmt.blockContent.all(account, container, name) as string[], orphans);
      this.stmt.deleteBlocks.run(account, container, name);
      this.stmt.deleteAppendBlocks.run(account, container, name);
      this.pages.drop(pageOwner({ account, container, name }), orphans);
      this.stmt.deleteBlob.run(account, container, name);
      this.blobCache.delete(blobKey(account, container, name));
      return orphans;
    });
  }

  // ---- versions and soft delete ----

  getVersion(key: Key, id: string): BlobRecord | undefined {
    const version = this.history.getVersion(key, id);
    return version?.deletedTime === undefined ? version : undefined;
  }

  /** Whether the blob has (or had, soft-deleted) a version with this id: ids are never given twice. */
  hasVersion(key: Key, id: string): boolean {
    return this.history.getVersion(key, id) !== undefined;
  }

  /** The blob's previous versions, oldest first; soft-deleted ones only when asked for. */
  versionsOf(key: Key, withDeleted: boolean): BlobRecord[] {
    return this.history.versionsOf(key).filter((version) => withDeleted || version.deletedTime === undefined);
  }

  /** Deletes a previous version, or marks it deleted under a retention policy; undefined when there is no such version. */
  deleteVersion(key: Key, id: string, soft?: { deletedTime: number; expires: number }): string[] | undefined {
    return transact(this.db, () => {
      const orphans: string[] = [];
      return this.history.deleteVersion(key, id, soft, orphans) ? orphans : undefined;
    });
  }

  /** The blob's soft-deleted copies, oldest first. */
  deletedOf(key: Key): BlobRecord[] {
    return this.history.deletedOf(key);
  }

  /**
   * Undelete Blob: the soft-deleted snapshots and versions of the blob come
   * back, and its latest soft-deleted copy too when no blob has its name now.
   * False when the name has neither a blob nor anything to restore.
   */
  undeleteBlob(key: Key): boolean {
    return transact(this.db, () => {
      const current = this.getBlob(key.account, key.container, key.name);
      let found = current !== undefined;
      for (const row of this.stmt.snapshotsOf.all(key.account, key.container, key.name) as { snapshot: string; doc: string }[]) {
        const snapshot = toBlob(row.doc, key.account, key.container, key.name, row.snapshot);
        if (snapshot.deletedTime === undefined) continue;
        const { deletedTime: _d, retentionExpires: _r, ...restored } = snapshot;
        this.stmt.updateSnapshot.run(recordDoc(restored), key.account, key.container, key.name, row.snapshot);
        found = true;
      }
      found = this.history.versionsOf(key).length > 0 || found;
      const restored = this.history.undelete(key, !current);
      if (restored) {
        if (restored.blobType === 'AppendBlob') {
          restored.extents.forEach((extent, seq) => this.stmt.insertAppendBlock.run(key.account, key.container, key.name, seq, extent.id, extent.size));
        }
        this.stmt.upsertBlob.run(key.account, key.container, key.name, blobDoc(restored));
        this.blobCache.delete(blobKey(key.account, key.container, key.name));
      }
      return found || restored !== undefined;
    });
  }

  /** Lets go of soft-deleted containers, blobs, versions and snapshots whose retention has run out; returns the orphaned content. */
  purgeExpired(now: number): string[] {
    return transact(this.db, () => {
      const orphans: string[] = [];
      this.history.purge(now, orphans);
      for (const row of this.stmt.expiredContainers.all(now) as { account: string; name: string }[]) orphans.push(...this.deleteContainer(row.account, row.name)!);
      for (const row of this.stmt.expiredSnapshots.all(now) as (Key & { snapshot: string; doc: string })[]) {
        this.removeSnapshot(toBlob(row.doc, row.account, row.container, row.name, row.snapshot), undefined, orphans);
      }
      return orphans;
    });
  }

  /** Names in a container that have a blob, versions or soft-deleted copies (or, `withStaged`, uncommitted blocks), in order. */
  historyNames(account: string, container: string, prefix: string, after: string, from: string, limit: number, withStaged: boolean): string[] {
    return this.history.names(account, container, { after, from: from > prefix ? from : prefix, end: prefixEnd(prefix) }, limit, withStaged);
  }

  // ---- page blobs ----

  /**
   * Changes a page blob in one transaction: `change` sees its record as it is
   * (or undefined) and returns its next record with the bytes to forget and/or
   * write, or throws. Returns the new record and the content nothing uses any more.
   */
  editPageBlob(key: Key, change: (current: BlobRecord | undefined) => PageEdit, inline?: InlineContent): Promise<{ blob: BlobRecord; orphans: string[] }> {
    return this.writes.submit(() => {
      const edit = change(this.getBlob(key.account, key.container, key.name));
      const owner = pageOwner(key);
      const orphans: string[] = [];
      if (edit.clear) this.pages.clear(owner, edit.clear.first, edit.clear.last, orphans);
      if (inline) this.stmt.insertInline.run(inline.id, inline.data);
      if (edit.write) this.pages.write(owner, edit.write, orphans);
      this.stmt.upsertBlob.run(key.account, key.container, key.name, blobDoc(edit.blob));
      this.blobCache.set(blobKey(key.account, key.container, key.name), { ...edit.blob });
      return { blob: edit.blob, orphans };
    });
  }

  /**
   * Incremental Copy's commit, in one transaction: the blob that `build`
   * returns (seeing the blob it replaces and the time its snapshot will have)
   * gets `source`'s pages, then a snapshot of it is taken at that time.
   * Undefined when the container is gone.
   */
  commitIncrementalCopy(
    key: Key,
    source: PageOwner,
    snapshotTime: (taken: (time: string) => boolean) => string,
    build: (current: BlobRecord | undefined, snapshot: string) => BlobRecord,
  ): { blob: BlobRecord; orphans: string[] } | undefined {
    return transact(this.db, () => {
      const time = snapshotTime((taken) => this.stmt.getSnapshot.get(key.account, key.container, key.name, taken) !== undefined);
      const blob = build(this.getBlob(key.account, key.container, key.name), time);
      const orphans = this.commit(blob, [], undefined, { pagesFrom: source });
      if (orphans === undefined) return undefined;
      this.snapshotBlob(key.account, key.container, key.name, () => time, undefined);
      return { blob, orphans };
    });
  }

  /** The written pages of a page blob (or of its snapshot) that overlap bytes [first, last], in order. */
  pageRanges(owner: PageOwner, first: number, last: number): StoredRange[] {
    return this.pages.overlapping(pageOwner(owner), first, last);
  }

  // ---- snapshots ----

  /**
   * Takes a snapshot of the blob as it is now: a read-only record sharing its
   * content (one more reference to each file), with `metadata` when given.
   * `snapshotTime` picks the time, given the times already taken. Undefined when
   * the blob does not exist.
   */
  snapshotBlob(
    account: string,
    container: string,
    name: string,
    snapshotTime: (taken: (time: string) => boolean) => string,
    metadata: Record<string, string> | undefined,
    precondition?: Precondition<BlobRecord>,
  ): BlobRecord | undefined {
    return transact(this.db, () => {
      const current = this.getBlob(account, container, name);
      precondition?.(current);
      if (!current) return undefined;
      const snapshot = snapshotTime((time) => this.stmt.getSnapshot.get(account, container, name, time) !== undefined);
      const record: BlobRecord = { ...current, metadata: metadata ?? current.metadata, lease: undefined, snapshot };
      this.refs.add(extentIds(record));
      // A snapshot keeps its extents in its row, whatever the blob's type: it never changes.
      this.stmt.insertSnapshot.run(account, container, name, snapshot, recordDoc(record));
      if (current.blobType === 'PageBlob') this.pages.copy(pageOwner({ account, container, name }), pageOwner({ account, container, name, snapshot }));
      return record;
    });
  }

  getSnapshot(account: string, container: string, name: string, snapshot: string): BlobRecord | undefined {
    const doc = this.stmt.getSnapshot.get(account, container, name, snapshot) as string | undefined;
    const record = doc === undefined ? undefined : toBlob(doc, account, container, name, snapshot);
    return record?.deletedTime === undefined && record ? asOfNow(record) : undefined;
  }

  /** The blob's snapshots, oldest first; soft-deleted ones only when asked for. */
  snapshotsOf(account: string, container: string, name: string, withDeleted = false): BlobRecord[] {
    const rows = this.stmt.snapshotsOf.all(account, container, name) as { snapshot: string; doc: string }[];
    return rows.map((row) => asOfNow(toBlob(row.doc, account, container, name, row.snapshot))).filter((snapshot) => withDeleted || snapshot.deletedTime === undefined);
  }

  hasSnapshots(account: string, container: string, name: string): boolean {
    return (this.stmt.countSnapshots.get(account, container, name) as number) > 0;
  }

  /** Deletes one snapshot, or marks it deleted under a retention policy; undefined when it did not exist. */
  deleteSnapshot(account: string, container: string, name: string, snapshot: string, soft?: { deletedTime: number; expires: number }): string[] | undefined {
    return transact(this.db, () => {
      const record = this.getSnapshot(account, container, name, snapshot);
      if (!record) return undefined;
      const orphans: string[] = [];
      this.removeSnapshot(record, soft, orphans);
      return orphans;
    });
  }

  private removeSnapshot(snapshot: BlobRecord, soft: { deletedTime: number; expires: number } | undefined, orphans: string[]): void {
    const { account, container, name } = snapshot;
    if (soft) {
      this.stmt.updateSnapshot.run(recordDoc({ ...snapshot, deletedTime: soft.deletedTime, retentionExpires: soft.expires }), account, container, name, snapshot.snapshot!);
      return;
    }
    this.refs.release(extentIds(snapshot), orphans);
    this.pages.drop(pageOwner({ account, container, name, snapshot: snapshot.snapshot }), orphans);
    this.stmt.deleteSnapshot.run(account, container, name, snapshot.snapshot!);
  }

  /** Blobs in name order: names starting with `prefix`, after `after`, and at or beyond `from`. */
  scanBlobs(account: string, container: string, prefix: string, after: string, from: string, limit: number): BlobRecord[] {
    const start = from > prefix ? from : prefix;
    const rows = this.stmt.scanBlobs.all(account, container, after, start, prefixEnd(prefix), limit) as { name: string; doc: string }[];
    return rows.map((row) => asOfNow(toBlob(row.doc, account, container, row.name)));
  }

  /** Blobs that have tags, in container and name order, after `after` ([container, name]); in one container if given. */
  scanTaggedBlobs(account: string, container: string | undefined, after: [string, string], limit: number): BlobRecord[] {
    const rows = (
      container === undefined
        ? this.stmt.scanTaggedInAccount.all(account, after[0], after[1], limit)
        : this.stmt.scanTaggedInContainer.all(account, container, after[0] === container ? after[1] : '', limit)
    ) as { container: string; name: string; doc: string }[];
    return rows.map((row) => asOfNow(toBlob(row.doc, account, row.container, row.name)));
  }

  // ---- blocks ----

  /** Stages a block; a block with the same id is replaced. Undefined if the container is gone. */
  putBlock(key: Key, block: BlockRecord, maxUncommitted: number, precondition?: Precondition<BlobRecord>): Promise<string[] | 'tooMany' | undefined> {
    return this.writes.submit(() => {
      if (this.stmt.getContainer.get(key.account, key.container) === undefined) return undefined;
      precondition?.(this.getBlob(key.account, key.container, key.name));
      const replaced = this.stmt.getBlock.get(key.account, key.container, key.name, block.blockId) as string | undefined;
      if (replaced === undefined && (this.stmt.blockCount.get(key.account, key.container, key.name) as number) >= maxUncommitted) {
        return 'tooMany';
      }
      const orphans: string[] = [];
      this.refs.add([block.contentId]);
      if (replaced !== undefined) this.refs.release([replaced], orphans);
      this.stmt.putBlock.run(key.account, key.container, key.name, block.blockId, block.contentId, block.size);
      return orphans;
    });
  }

  /** The id of one of the blob's uncommitted blocks, if it has any (all of a blob's block ids have one length). */
  someUncommittedBlockId(key: Key): string | undefined {
    return this.stmt.someBlockId.get(key.account, key.container, key.name) as string | undefined;
  }

  uncommittedBlocks(key: Key): BlockRecord[] {
    return this.stmt.getBlocks.all(key.account, key.container, key.name) as BlockRecord[];
  }

  /**
   * Deletes everything an account holds (containers, blobs, blocks, service
   * properties) when the account itself is deleted; returns the orphaned content ids.
   */
  deleteAccountData(account: string): string[] {
    return transact(this.db, () => {
      const orphans: string[] = [];
      this.accountRows.drop([account], this.refs, orphans);
      for (const statement of this.stmt.deleteAccountRows) statement.run(account);
      this.blobCache.clear();
      return orphans;
    });
  }
}


/** Tables whose rows each hold one reference on their content_id. */
export const CONTENT_ROW_TABLES = ['blocks', 'append_blocks', 'page_ranges'];
/** Tables of records whose documents name their content (extents, a pending copy's). */
export const RECORD_TABLES = ['blobs', 'blob_snapshots', 'blob_versions', 'deleted_blobs'];

/**
 * The rows of every blob table under one scope (a container, an account), for
 * deleting them with their content references when the scope goes.
 */
class ScopedRows {
  private readonly contentIds;
  private readonly docs;
  private readonly deletes;

  constructor(db: Db, where: string) {
    this.contentIds = CONTENT_ROW_TABLES.map((table) => db.prepare(`SELECT content_id FROM ${table} WHERE ${where}`).pluck());
    this.docs = RECORD_TABLES.map((table) => db.prepare(`SELECT doc FROM ${table} WHERE ${where}`).pluck());
    this.deletes = [...CONTENT_ROW_TABLES, ...RECORD_TABLES].map((table) => db.prepare(`DELETE FROM ${table} WHERE ${where}`));
  }

  /** Releases what every row holds, then deletes the rows; runs inside the caller's transaction. */
  drop(scope: readonly string[], refs: ContentRefs, orphans: string[]): void {
    for (const statement of this.docs) for (const doc of statement.all(...scope) as string[]) refs.release(extentIds(JSON.parse(doc)), orphans);
    for (const statement of this.contentIds) refs.release(statement.all(...scope) as string[], orphans);
    for (const statement of this.deletes) statement.run(...scope);
  }
}

function blobKey(account: string, container: string, name: string): string {
  return `${account}/${container}/${name}`;
}


/**
 * A blob as of now: an asynchronous copy whose time has come reads as
 * completed. Like a lease, its progress follows from the clock, so nothing runs
 * when it completes and a restart changes nothing.
 */
export function asOfNow(blob: BlobRecord): BlobRecord {
  const pending = blob.pendingCopy;
  if (pending === undefined || Date.now() < pending.completesAt) return blob;
  const { pendingCopy: _done, ...rest } = blob;
  return {
    ...rest,
    ...pending.content,
    size: pending.size,
    extents: pending.extents,
    copy: { ...blob.copy!, status: 'success', progress: `${pending.size}/${pending.size}`, completed: pending.completesAt },
  };
}

export function containerDoc({ account: _a, name: _n, ...rest }: ContainerRecord): string {
  return JSON.stringify(rest);
}

/** A blob (or snapshot) record from its row's JSON and its key. */
export function toBlob(doc: string, account: string, container: string, name: string, snapshot?: string): BlobRecord {
  const blob: BlobRecord = { ...JSON.parse(doc), account, container, name };
  if (snapshot !== undefined) blob.snapshot = snapshot;
  return blob;
}

/** A blob's row: an append blob's extents live in append_blocks, not in it. */
export function blobDoc(blob: BlobRecord): string {
  return recordDoc(blob.blobType === 'AppendBlob' ? { ...blob, extents: [] } : blob);
}


/** The smallest string greater than every string that starts with `prefix` ('' means no bound). */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\u{10FFFF}\u{10FFFF}';
  const chars = Array.from(prefix);
  const last = chars.pop()!.codePointAt(0)!;
  // Skip the surrogate range, which no well-formed string contains.
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
  return chars.join('') + String.fromCodePoint(Math.min(next, 0x10ffff));
}
