/**
 * The PostgreSQL dialect of the Blob service's metadata store: BlobRepo's
 * behaviour (src/db/blobs.ts, whose comments say what each method means), for
 * several nodes writing into one database at once.
 *
 * SQLite has one writer, so each of BlobRepo's methods is atomic and serial.
 * Here transactions run READ COMMITTED side by side, and these locks give each
 * write the same view: nothing it read changes before it commits.
 *
 * - A write on a blob (commit, put block, append, page edit, property change,
 *   lease, snapshot, delete, undelete, a version's deletion, a purge of one
 *   of its expired records) first takes its container's row FOR SHARE, then
 *   `pg_advisory_xact_lock` on a 64-bit hash of (account, container, name)
 *   (blob-tx.ts). Writes on one blob are therefore serial, each reading the
 *   current row only once it holds the lock: a block list commits the blocks
 *   it read, a conditional write's precondition sees the ETag it replaces, a
 *   lease is acquired by one `change` only, a version id is picked among
 *   those really taken.
 * - A page blob's copy (commitBlob with pagesFrom, Incremental Copy) also
 *   holds its source's container row and blob lock while it reads the
 *   source's pages: no write can release them before the copy has taken its
 *   own references (SQLite reads them in its one transaction too).
 * - A container-wide write (update, lease, delete, rename, soft delete,
 *   restore, an account's deletion) locks the container's row FOR UPDATE
 *   (blob-containers.ts): it waits for the blob writes in flight in the
 *   container, and the next ones wait for it, then find the container as it
 *   left it (gone, renamed). Create Container relies on the primary key.
 * - Content reference counts change last, in one step per transaction, with
 *   the content rows locked in id order (content-ledger.ts); a count that
 *   reaches zero deletes its row and reports the file as orphaned.
 *
 * Every transaction takes its locks in that order (container rows, in name
 * order; then its blob's lock, or a copy's two in lock-key order; then the
 * content rows, in id order) and container-wide writes take no blob lock, so
 * no two transactions can wait on each other in a cycle.
 *
 * Callbacks (precondition, change, build, extentsFrom, version and snapshot
 * id pickers) are synchronous: they run inside the transaction, after the
 * rows they look at were read, as BlobRepo calls them, and whatever they ask
 * of the store (whether an id is taken) was read beforehand under the lock.
 * One of them throwing rolls the transaction back and rejects the call.
 *
 * Reads outside a transaction are single statements, each seeing one
 * committed state. No blob records are cached: another node may change them.
 */
import type pg from 'pg';
import { extentIds, pageOwner, recordDoc, type BlobKey, type PageOwner } from '../blob-history.js';
import {
  asOfNow,
  blobDoc,
  prefixEnd,
  toBlob,
  type BlobStore,
  type CommitOptions,
  type DeletePolicy,
  type InlineContent,
  type NewVersionId,
  type PageEdit,
  type Precondition,
} from '../blobs.js';
import type { BlobRecord, BlockRecord, ContainerRecord, ListPage, StoredRange } from '../records.js';
import { PgBlobContainers } from './blob-containers.js';
import { expiredBy, PgBlobHistory } from './blob-history.js';
import {
  BLOCK_KEY,
  dropBlobRows,
  hasSnapshots,
  insertAppendBlocks,
  insertInline,
  KEY,
  readBlob,
  readSnapshot,
  rowsRead,
  snapshotsOf,
  snapshotTimes,
  uncommittedBlocks,
  upsertBlob,
  writeSnapshotDoc,
} from './blob-rows.js';
import { blobTransaction, writeTransaction, type BlobTx } from './blob-tx.js';
import { PgRangeRows } from './range-rows.js';

type Key = BlobKey;
type SoftDelete = { deletedTime: number; expires: number };

/** Containers, blobs, uncommitted blocks, snapshots and history in PostgreSQL; see the locking scheme above. */
export class PgBlobRepo implements BlobStore {
  private readonly containers: PgBlobContainers;
  /** A page blob's written pages, owned by account, container, blob and snapshot (`version:<id>`, `deleted:<time>`, '' for the blob). */
  private readonly pages = new PgRangeRows('page_ranges', ['account', 'container', 'blob', 'snapshot']);
  private readonly history = new PgBlobHistory(this.pages);

  constructor(private readonly pool: pg.Pool) {
    this.containers = new PgBlobContainers(pool);
  }

  // ---- containers (blob-containers.ts) ----

  getContainer(account: string, name: string): Promise<ContainerRecord | undefined> {
    return this.containers.get(account, name);
  }

  createContainer(container: ContainerRecord): Promise<boolean> {
    return this.containers.create(container);
  }

  updateContainer(container: ContainerRecord, precondition?: Precondition<ContainerRecord>): Promise<void> {
    return this.containers.update(container, precondition);
  }

  changeContainer(account: string, name: string, change: (current: ContainerRecord | undefined) => ContainerRecord): Promise<ContainerRecord> {
    return this.containers.change(account, name, change);
  }

  deleteContainer(account: string, name: string, precondition?: Precondition<ContainerRecord>): Promise<string[] | undefined> {
    return this.containers.delete(account, name, precondition);
  }

  moveContainer(
    account: string,
    from: string,
    to: string,
    change: (source: ContainerRecord | undefined, target: ContainerRecord | undefined) => ContainerRecord,
  ): Promise<ContainerRecord> {
    return this.containers.move(account, from, to, change);
  }

  hiddenContainers(account: string): Promise<{ hiddenName: string; container: ContainerRecord }[]> {
    return this.containers.hidden(account);
  }

  listContainers(account: string, prefix: string, after: string, limit: number): Promise<ListPage<ContainerRecord>> {
    return this.containers.list(account, prefix, after, limit);
  }

  // ---- blobs ----

  getBlob(account: string, container: string, name: string): Promise<BlobRecord | undefined> {
    return readBlob(this.pool, account, container, name, true);
  }

  getBlobProperties(account: string, container: string, name: string): Promise<BlobRecord | undefined> {
    return readBlob(this.pool, account, container, name, false);
  }

  /** One transaction per append, under the blob's lock: each lands whole at the offset its `change` saw. */
  appendBlock(key: Key, block: { id: string; size: number }, change: (current: BlobRecord | undefined) => BlobRecord, inline?: InlineContent): Promise<BlobRecord> {
    return blobTransaction(this.pool, key, async (tx) => {
      const current = await readBlob(tx.q, key.account, key.container, key.name, false);
      const next = change(current);
      if (inline) await insertInline(tx.q, inline);
      tx.refs.add([block.id]);
      await tx.q.query('INSERT INTO append_blocks (account, container, blob, seq, content_id, size) VALUES ($1, $2, $3, $4, $5, $6)', [
        key.account,
        key.container,
        key.name,
        current!.committedBlockCount ?? 0,
        block.id,
        block.size,
      ]);
      await upsertBlob(tx.q, key, next);
      return next;
    });
  }

  async commitBlob(blob: BlobRecord, newContent: string[], precondition?: Precondition<BlobRecord>, options: CommitOptions = {}): Promise<string[] | undefined> {
    return (await this.commitSeen(blob, newContent, precondition, options)) ?? this.commitInTransaction(blob, newContent, precondition, options);
  }

  /**
   * Put Blob's common case in one round trip, not eight (put_blob_seen, migration
   * 014): a block blob that replaces the block blob the caller read, or none, and
   * takes nothing from other rows. Undefined when that does not apply, or the blob
   * (or container) changed since it was read: the transaction then decides.
   */
  private async commitSeen(
    blob: BlobRecord,
    newContent: string[],
    precondition: Precondition<BlobRecord> | undefined,
    { seen, inline, pagesFrom, retire, versionId, extentsFrom }: CommitOptions,
  ): Promise<string[] | undefined> {
    if (!seen || pagesFrom || retire || versionId || extentsFrom || blob.blobType !== undefined) return undefined;
    const current = seen.blob;
    const row = current === undefined ? null : rowsRead.get(current);
    if (row === undefined || current?.blobType !== undefined) return undefined;
    precondition?.(current);
    const { rows } = await this.pool.query<{ orphans: string[] | null }>('SELECT put_blob_seen($1, $2, $3, $4, $5, $6, $7, $8, $9) AS orphans', [
      blob.account,
      blob.container,
      blob.name,
      row,
      blobDoc(blob),
      inline?.id ?? null,
      inline?.data ?? null,
      referencedByCommit(blob, newContent, inline),
      current ? extentIds(current) : [],
    ]);
    return rows[0]!.orphans ?? undefined;
  }

  private commitInTransaction(blob: BlobRecord, newContent: string[], precondition: Precondition<BlobRecord> | undefined, options: CommitOptions): Promise<string[] | undefined> {
    return blobTransaction(
      this.pool,
      blob,
      async (tx, containerExists) => {
        if (!containerExists) return undefined;
        await this.commitIn(tx, blob, newContent, precondition, options);
        return tx.refs.settle(tx.q);
      },
      options.pagesFrom,
    );
  }

  /** commitBlob's work, in the caller's transaction (also Incremental Copy's); the container is known to exist. */
  private async commitIn(
    tx: BlobTx,
    blob: BlobRecord,
    newContent: string[],
    precondition: Precondition<BlobRecord> | undefined,
    { inline, pagesFrom, retire, versionId, extentsFrom }: CommitOptions,
  ): Promise<void> {
    const current = await readBlob(tx.q, blob.account, blob.container, blob.name, true);
    precondition?.(current);
    if (extentsFrom) {
      const uncommitted = await uncommittedBlocks(tx.q, blob);
      Object.assign(blob, extentsFrom(current, uncommitted));
    }
    if (versionId) {
      const taken = await this.history.versionIds(tx.q, blob);
      blob.versionId = versionId((id) => taken.has(id));
    }
    // Read before the blob's own pages are dropped: a page blob may be copied onto itself.
    const pages = pagesFrom ? await this.pages.all(tx.q, pageOwner(pagesFrom)) : [];
    tx.refs.add(referencedByCommit(blob, newContent, inline));
    if (current && retire) await this.history.retire(tx, current, retire);
    else if (current) tx.refs.release(extentIds(current));
    // Most commits (Put Blob, Put Block List) add no rows to the tables the drop empties: one statement does both.
    if (pages.length === 0 && blob.blobType !== 'AppendBlob') return dropBlobRows(tx, blob, { record: blob, inline });
    if (inline) await insertInline(tx.q, inline);
    await dropBlobRows(tx, blob);
    await this.pages.insertAll(tx, pageOwner(blob), pages);
    if (blob.blobType === 'AppendBlob') await insertAppendBlocks(tx.q, blob, blob.extents);
    await upsertBlob(tx.q, blob, blob);
  }

  async inlineData(id: string): Promise<Buffer | undefined> {
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM inline_content WHERE id = $1', [id]);
    return rows[0]?.data;
  }

  updateBlob(blob: BlobRecord, precondition?: Precondition<BlobRecord>, versionId?: NewVersionId): Promise<boolean> {
    return blobTransaction(this.pool, blob, async (tx) => {
      const current = await readBlob(tx.q, blob.account, blob.container, blob.name, true);
      precondition?.(current);
      if (!current) return false;
      if (versionId) {
        const taken = await this.history.versionIds(tx.q, blob);
        blob.versionId = versionId((id) => taken.has(id));
        await this.history.keepVersion(tx, current);
      }
      await upsertBlob(tx.q, blob, { ...blob, extents: current.extents });
      return true;
    });
  }

  changeBlob(account: string, container: string, name: string, change: (current: BlobRecord | undefined) => BlobRecord): Promise<{ blob: BlobRecord; orphans: string[] }> {
    const key = { account, container, name };
    return blobTransaction(this.pool, key, async (tx) => {
      const current = await readBlob(tx.q, account, container, name, true);
      const next = { ...change(current), extents: current!.extents };
      const kept = new Set(extentIds(next));
      tx.refs.release(extentIds(current!).filter((id) => !kept.has(id)));
      await upsertBlob(tx.q, key, next);
      return { blob: next, orphans: await tx.refs.settle(tx.q) };
    });
  }

  deleteBlob(
    account: string,
    container: string,
    name: string,
    precondition?: (current: BlobRecord | undefined, hasSnapshots: boolean) => void,
    snapshots?: 'include' | 'only',
    policy: DeletePolicy = {},
  ): Promise<string[] | undefined> {
    const key = { account, container, name };
    return blobTransaction(this.pool, key, async (tx) => {
      const current = await readBlob(tx.q, account, container, name, true);
      if (precondition) precondition(current, current !== undefined && (await hasSnapshots(tx.q, key)));
      if (!current) return undefined;
      if (snapshots !== undefined) {
        for (const snapshot of await snapshotsOf(tx.q, key, false)) await this.removeSnapshot(tx, snapshot, policy.soft);
        if (snapshots === 'only') return tx.refs.settle(tx.q);
      }
      if (policy.retire) await this.history.retire(tx, current, policy.retire);
      else tx.refs.release(extentIds(current));
      await dropBlobRows(tx, key);
      await tx.q.query(`DELETE FROM blobs WHERE ${KEY}`, [account, container, name]);
      return tx.refs.settle(tx.q);
    });
  }

  // ---- versions and soft delete ----

  async getVersion(key: Key, id: string): Promise<BlobRecord | undefined> {
    const version = await this.history.getVersion(this.pool, key, id);
    return version?.deletedTime === undefined ? version : undefined;
  }

  async hasVersion(key: Key, id: string): Promise<boolean> {
    return (await this.history.getVersion(this.pool, key, id)) !== undefined;
  }

  async versionsOf(key: Key, withDeleted: boolean): Promise<BlobRecord[]> {
    return (await this.history.versionsOf(this.pool, key)).filter((version) => withDeleted || version.deletedTime === undefined);
  }

  deleteVersion(key: Key, id: string, soft?: SoftDelete): Promise<string[] | undefined> {
    return blobTransaction(this.pool, key, async (tx) => ((await this.history.deleteVersion(tx, key, id, soft)) ? tx.refs.settle(tx.q) : undefined));
  }

  deletedOf(key: Key): Promise<BlobRecord[]> {
    return this.history.deletedOf(this.pool, key);
  }

  undeleteBlob(key: Key): Promise<boolean> {
    return blobTransaction(this.pool, key, async (tx) => {
      const current = await readBlob(tx.q, key.account, key.container, key.name, true);
      let found = current !== undefined;
      const { rows } = await tx.q.query<{ snapshot: string; doc: string }>(`SELECT snapshot, doc FROM blob_snapshots WHERE ${KEY} ORDER BY snapshot COLLATE "C"`, [
        key.account,
        key.container,
        key.name,
      ]);
      for (const row of rows) {
        const snapshot = toBlob(row.doc, key.account, key.container, key.name, row.snapshot);
        if (snapshot.deletedTime === undefined) continue;
        const { deletedTime: _d, retentionExpires: _r, ...restored } = snapshot;
        await writeSnapshotDoc(tx.q, restored);
        found = true;
      }
      found = (await this.history.versionsOf(tx.q, key)).length > 0 || found;
      const restored = await this.history.undelete(tx, key, !current);
      if (restored) {
        if (restored.blobType === 'AppendBlob') await insertAppendBlocks(tx.q, key, restored.extents);
        await upsertBlob(tx.q, key, restored);
      }
      return found || restored !== undefined;
    });
  }

  /**
   * Lets go of what has expired: versions and soft-deleted blobs, then
   * containers, then snapshots, as BlobRepo does, but each in a transaction of
   * its own under its blob's (or container's) lock, which checks again that it
   * is still there and still expired. A purge is idempotent: what one call
   * leaves (another node's purge took it, or this one failed midway), the
   * next finishes. Returns the orphaned content.
   */
  async purgeExpired(now: number): Promise<string[]> {
    const orphans: string[] = [];
    const { versions, deleted } = await this.history.expired(this.pool, now);
    for (const [kind, records] of [['version', versions], ['deleted', deleted]] as const) {
      for (const record of records) {
        const dropped = await blobTransaction(this.pool, record, async (tx) => {
          await this.history.purge(tx, kind, record, now);
          return tx.refs.settle(tx.q);
        });
        orphans.push(...dropped);
      }
    }
    orphans.push(...(await this.containers.purgeExpired(now)));
    const { rows } = await this.pool.query<Key & { snapshot: string }>(
      `SELECT account, container, name, snapshot FROM blob_snapshots WHERE ${expiredBy('$1')}
       ORDER BY account COLLATE "C", container COLLATE "C", name COLLATE "C", snapshot COLLATE "C"`,
      [now],
    );
    for (const row of rows) {
      const dropped = await blobTransaction(this.pool, row, async (tx) => {
        const gone = await tx.q.query<{ doc: string }>(`DELETE FROM blob_snapshots WHERE ${KEY} AND snapshot = $4 AND ${expiredBy('$5')} RETURNING doc`, [
          row.account,
          row.container,
          row.name,
          row.snapshot,
          now,
        ]);
        if (gone.rows[0]) await this.releaseSnapshot(tx, toBlob(gone.rows[0].doc, row.account, row.container, row.name, row.snapshot));
        return tx.refs.settle(tx.q);
      });
      orphans.push(...dropped);
    }
    return orphans;
  }

  historyNames(account: string, container: string, prefix: string, after: string, from: string, limit: number, withStaged: boolean): Promise<string[]> {
    return this.history.names(this.pool, account, container, { after, from: from > prefix ? from : prefix, end: prefixEnd(prefix) }, limit, withStaged);
  }

  // ---- page blobs ----

  editPageBlob(key: Key, change: (current: BlobRecord | undefined) => PageEdit, inline?: InlineContent): Promise<{ blob: BlobRecord; orphans: string[] }> {
    return blobTransaction(this.pool, key, async (tx) => {
      const edit = change(await readBlob(tx.q, key.account, key.container, key.name, true));
      const owner = pageOwner(key);
      if (edit.clear) await this.pages.clear(tx, owner, edit.clear.first, edit.clear.last);
      if (inline) await insertInline(tx.q, inline);
      if (edit.write) await this.pages.write(tx, owner, edit.write);
      await upsertBlob(tx.q, key, edit.blob);
      return { blob: edit.blob, orphans: await tx.refs.settle(tx.q) };
    });
  }

  commitIncrementalCopy(
    key: Key,
    source: PageOwner,
    snapshotTime: (taken: (time: string) => boolean) => string,
    build: (current: BlobRecord | undefined, snapshot: string) => BlobRecord,
  ): Promise<{ blob: BlobRecord; orphans: string[] } | undefined> {
    return blobTransaction(
      this.pool,
      key,
      async (tx, containerExists) => {
        const taken = await snapshotTimes(tx.q, key);
        const time = snapshotTime((each) => taken.has(each));
        const blob = build(await readBlob(tx.q, key.account, key.container, key.name, true), time);
        if (!containerExists) return undefined;
        await this.commitIn(tx, blob, [], undefined, { pagesFrom: source });
        await this.snapshotIn(tx, key, () => time, undefined);
        return { blob, orphans: await tx.refs.settle(tx.q) };
      },
      source,
    );
  }

  pageRanges(owner: PageOwner, first: number, last: number): Promise<StoredRange[]> {
    return this.pages.overlapping(this.pool, pageOwner(owner), first, last);
  }

  // ---- snapshots ----

  snapshotBlob(
    account: string,
    container: string,
    name: string,
    snapshotTime: (taken: (time: string) => boolean) => string,
    metadata: Record<string, string> | undefined,
    precondition?: Precondition<BlobRecord>,
  ): Promise<BlobRecord | undefined> {
    const key = { account, container, name };
    return blobTransaction(this.pool, key, (tx) => this.snapshotIn(tx, key, snapshotTime, metadata, precondition));
  }

  /** snapshotBlob's work, in the caller's transaction (also Incremental Copy's). */
  private async snapshotIn(
    tx: BlobTx,
    key: Key,
    snapshotTime: (taken: (time: string) => boolean) => string,
    metadata: Record<string, string> | undefined,
    precondition?: Precondition<BlobRecord>,
  ): Promise<BlobRecord | undefined> {
    const { account, container, name } = key;
    const current = await readBlob(tx.q, account, container, name, true);
    precondition?.(current);
    if (!current) return undefined;
    const taken = await snapshotTimes(tx.q, key);
    const snapshot = snapshotTime((time) => taken.has(time));
    const record: BlobRecord = { ...current, metadata: metadata ?? current.metadata, lease: undefined, snapshot };
    tx.refs.add(extentIds(record));
    // A snapshot keeps its extents in its row, whatever the blob's type: it never changes.
    await tx.q.query('INSERT INTO blob_snapshots (account, container, name, snapshot, doc) VALUES ($1, $2, $3, $4, $5)', [account, container, name, snapshot, recordDoc(record)]);
    if (current.blobType === 'PageBlob') await this.pages.copy(tx, pageOwner(key), pageOwner({ ...key, snapshot }));
    return record;
  }

  getSnapshot(account: string, container: string, name: string, snapshot: string): Promise<BlobRecord | undefined> {
    return readSnapshot(this.pool, account, container, name, snapshot);
  }

  snapshotsOf(account: string, container: string, name: string, withDeleted = false): Promise<BlobRecord[]> {
    return snapshotsOf(this.pool, { account, container, name }, withDeleted);
  }

  hasSnapshots(account: string, container: string, name: string): Promise<boolean> {
    return hasSnapshots(this.pool, { account, container, name });
  }

  deleteSnapshot(account: string, container: string, name: string, snapshot: string, soft?: SoftDelete): Promise<string[] | undefined> {
    return blobTransaction(this.pool, { account, container, name }, async (tx) => {
      const record = await readSnapshot(tx.q, account, container, name, snapshot);
      if (!record) return undefined;
      await this.removeSnapshot(tx, record, soft);
      return tx.refs.settle(tx.q);
    });
  }

  private async removeSnapshot(tx: BlobTx, snapshot: BlobRecord, soft: SoftDelete | undefined): Promise<void> {
    if (soft) {
      await writeSnapshotDoc(tx.q, { ...snapshot, deletedTime: soft.deletedTime, retentionExpires: soft.expires });
      return;
    }
    await this.releaseSnapshot(tx, snapshot);
    await tx.q.query(`DELETE FROM blob_snapshots WHERE ${KEY} AND snapshot = $4`, [snapshot.account, snapshot.container, snapshot.name, snapshot.snapshot!]);
  }

  /** Lets go of what a deleted snapshot held: its extents' content and its written pages. */
  private async releaseSnapshot(tx: BlobTx, snapshot: BlobRecord): Promise<void> {
    tx.refs.release(extentIds(snapshot));
    await this.pages.drop(tx, pageOwner({ account: snapshot.account, container: snapshot.container, name: snapshot.name, snapshot: snapshot.snapshot }));
  }

  /** Blobs in name order (bytes, as SQLite compares): names starting with `prefix`, after `after`, and at or beyond `from`. */
  async scanBlobs(account: string, container: string, prefix: string, after: string, from: string, limit: number): Promise<BlobRecord[]> {
    const start = from > prefix ? from : prefix;
    const { rows } = await this.pool.query<{ name: string; doc: string }>(
      `SELECT name, doc FROM blobs WHERE account = $1 AND container = $2 AND name COLLATE "C" > $3 AND name COLLATE "C" >= $4 AND name COLLATE "C" < $5
       ORDER BY name COLLATE "C" LIMIT $6`,
      [account, container, after, start, prefixEnd(prefix), limit],
    );
    return rows.map((row) => asOfNow(toBlob(row.doc, account, container, row.name)));
  }

  async scanTaggedBlobs(account: string, container: string | undefined, after: [string, string], limit: number): Promise<BlobRecord[]> {
    const tagged = "(doc::jsonb ->> 'tags') IS NOT NULL";
    const { rows } =
      container === undefined
        ? await this.pool.query<{ container: string; name: string; doc: string }>(
            `SELECT container, name, doc FROM blobs WHERE account = $1 AND (container COLLATE "C", name COLLATE "C") > ($2, $3) AND ${tagged}
             ORDER BY container COLLATE "C", name COLLATE "C" LIMIT $4`,
            [account, after[0], after[1], limit],
          )
        : await this.pool.query<{ container: string; name: string; doc: string }>(
            `SELECT container, name, doc FROM blobs WHERE account = $1 AND container = $2 AND name COLLATE "C" > $3 AND ${tagged} ORDER BY name COLLATE "C" LIMIT $4`,
            [account, container, after[0] === container ? after[1] : '', limit],
          );
    return rows.map((row) => asOfNow(toBlob(row.doc, account, row.container, row.name)));
  }

  // ---- blocks ----

  putBlock(key: Key, block: BlockRecord, maxUncommitted: number, precondition?: Precondition<BlobRecord>): Promise<string[] | 'tooMany' | undefined> {
    return blobTransaction(this.pool, key, async (tx, containerExists) => {
      if (!containerExists) return undefined;
      precondition?.(await readBlob(tx.q, key.account, key.container, key.name, true));
      const params = [key.account, key.container, key.name];
      const found = await tx.q.query<{ content_id: string }>(`SELECT content_id FROM blocks WHERE ${BLOCK_KEY} AND block_id = $4`, [...params, block.blockId]);
      const replaced = found.rows[0]?.content_id;
      if (replaced === undefined) {
        const { rows } = await tx.q.query<{ n: string }>(`SELECT COUNT(*) AS n FROM blocks WHERE ${BLOCK_KEY}`, params);
        if (Number(rows[0]!.n) >= maxUncommitted) return 'tooMany';
      }
      tx.refs.add([block.contentId]);
      if (replaced !== undefined) tx.refs.release([replaced]);
      // Upload order among the blob's own blocks, which is all Get Block List needs (SQLite numbers across all blobs).
      await tx.q.query(
        `INSERT INTO blocks (account, container, blob, block_id, content_id, size, seq)
         VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(seq), 0) + 1 FROM blocks WHERE ${BLOCK_KEY}))
         ON CONFLICT (account, container, blob, block_id) DO UPDATE SET content_id = EXCLUDED.content_id, size = EXCLUDED.size, seq = EXCLUDED.seq`,
        [...params, block.blockId, block.contentId, block.size],
      );
      return tx.refs.settle(tx.q);
    });
  }

  /** The id of one of the blob's uncommitted blocks, if it has any (all of a blob's block ids have one length): any one. */
  async someUncommittedBlockId(key: Key): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ block_id: string }>(`SELECT block_id FROM blocks WHERE ${BLOCK_KEY} LIMIT 1`, [key.account, key.container, key.name]);
    return rows[0]?.block_id;
  }

  uncommittedBlocks(key: Key): Promise<BlockRecord[]> {
    return uncommittedBlocks(this.pool, key);
  }

  deleteAccountData(account: string): Promise<string[]> {
    return writeTransaction(this.pool, (tx) => this.containers.dropAccount(tx, account));
  }
}

/**
 * The content a commit of `blob` takes a reference to: what it wrote (and its
 * inline content), then the existing content its extents reuse (copies,
 * committed blocks), in the order the SQLite dialect adds them.
 */
function referencedByCommit(blob: BlobRecord, newContent: string[], inline: InlineContent | undefined): string[] {
  const added = inline ? [...newContent, inline.id] : newContent;
  const fresh = new Set(added);
  return [...added, ...extentIds(blob).filter((id) => !fresh.has(id))];
}
