import { pageOwner, recordDoc, type BlobKey, type PageOwner } from '../blob-history.js';
import { asOfNow, blobDoc, toBlob, type InlineContent } from '../blobs.js';
import type { BlobRecord, BlockRecord, Extent } from '../records.js';
import type { BlobTx } from './blob-tx.js';
import type { Queryable } from './sql.js';

/**
 * The rows of one blob (its record, append blocks, uncommitted blocks,
 * snapshots, inline content), read and written for the PostgreSQL Blob store
 * (blobs.ts): on the pool for a plain read, or on a transaction's client under
 * the blob's lock. Each read is one statement, so it sees one committed state.
 */

type Key = BlobKey;

export const KEY = 'account = $1 AND container = $2 AND name = $3';
export const BLOCK_KEY = 'account = $1 AND container = $2 AND blob = $3';

/** A blob's current record, as of now; an append blob's extents (its appended blocks) when asked for, read in the same statement. */
export async function readBlob(q: Queryable, account: string, container: string, name: string, withExtents: boolean): Promise<BlobRecord | undefined> {
  const appended = withExtents
    ? `(SELECT json_agg(json_build_object('id', a.content_id, 'size', a.size) ORDER BY a.seq) FROM append_blocks a
         WHERE a.account = b.account AND a.container = b.container AND a.blob = b.name)`
    : 'NULL';
  const { rows } = await q.query<{ doc: string; appended: Extent[] | null }>(`SELECT doc, ${appended} AS appended FROM blobs b WHERE ${KEY}`, [account, container, name]);
  if (!rows[0]) return undefined;
  const blob = toBlob(rows[0].doc, account, container, name);
  if (blob.blobType === 'AppendBlob' && withExtents) blob.extents = rows[0].appended ?? [];
  const record = asOfNow(blob);
  rowsRead.set(record, rows[0].doc);
  return record;
}

/** The stored doc each record readBlob made was read from: a commit that saw the record commits in one step only if the row is unchanged (PgBlobStore.commitSeen). */
export const rowsRead = new WeakMap<BlobRecord, string>();

export async function upsertBlob(q: Queryable, { account, container, name }: Key, blob: BlobRecord): Promise<void> {
  await q.query('INSERT INTO blobs (account, container, name, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (account, container, name) DO UPDATE SET doc = EXCLUDED.doc', [
    account,
    container,
    name,
    blobDoc(blob),
  ]);
}

export async function insertInline(q: Queryable, inline: InlineContent): Promise<void> {
  await q.query('INSERT INTO inline_content (id, data) VALUES ($1, $2)', [inline.id, inline.data]);
}

export async function insertAppendBlocks(q: Queryable, { account, container, name }: Key, extents: Extent[]): Promise<void> {
  if (extents.length === 0) return;
  await q.query(
    'INSERT INTO append_blocks (account, container, blob, seq, content_id, size) SELECT $1, $2, $3, seq - 1, id, size FROM unnest($4::text[], $5::bigint[]) WITH ORDINALITY AS e(id, size, seq)',
    [account, container, name, extents.map((extent) => extent.id), extents.map((extent) => extent.size)],
  );
}

/**
 * Forgets a blob's uncommitted blocks, append blocks and written pages (its
 * own, not its snapshots' or versions'), in one statement: the blocks' and the
 * pages' content is released, in key order, as BlobRepo releases it. The
 * append blocks' references are the record's (released, or retired with it).
 *
 * With `replacement`, the same statement writes the blob's new record (and
 * its inline content): one round trip, not three, for a commit that adds no
 * rows of the tables it empties (no pages, no append blocks).
 */
export async function dropBlobRows(tx: BlobTx, owner: PageOwner, replacement?: { record: BlobRecord; inline?: InlineContent }): Promise<void> {
  const writes = replacement
    ? `, upserted AS (INSERT INTO blobs (account, container, name, doc) VALUES ($1, $2, $3, $5) ON CONFLICT (account, container, name) DO UPDATE SET doc = EXCLUDED.doc)
       , inlined AS (INSERT INTO inline_content (id, data) SELECT $6::text, $7::bytea WHERE $6::text IS NOT NULL)`
    : '';
  const { rows } = await tx.q.query<{ blocks: string[] | null; pages: string[] | null }>(
    `WITH blocks_gone AS (DELETE FROM blocks WHERE ${BLOCK_KEY} RETURNING block_id, content_id),
          appended_gone AS (DELETE FROM append_blocks WHERE ${BLOCK_KEY}),
          pages_gone AS (DELETE FROM page_ranges WHERE ${BLOCK_KEY} AND snapshot = $4 RETURNING first_byte, content_id)${writes}
     SELECT (SELECT array_agg(content_id ORDER BY block_id COLLATE "C") FROM blocks_gone) AS blocks,
            (SELECT array_agg(content_id ORDER BY first_byte) FROM pages_gone) AS pages`,
    replacement ? [...pageOwner(owner), blobDoc(replacement.record), replacement.inline?.id ?? null, replacement.inline?.data ?? null] : [...pageOwner(owner)],
  );
  tx.refs.release(rows[0]!.blocks ?? []);
  tx.refs.release(rows[0]!.pages ?? []);
}

export async function uncommittedBlocks(q: Queryable, key: Key): Promise<BlockRecord[]> {
  const { rows } = await q.query<{ block_id: string; content_id: string; size: string }>(`SELECT block_id, content_id, size FROM blocks WHERE ${BLOCK_KEY} ORDER BY seq`, [
    key.account,
    key.container,
    key.name,
  ]);
  return rows.map((row) => ({ blockId: row.block_id, contentId: row.content_id, size: Number(row.size) }));
}

export async function readSnapshot(q: Queryable, account: string, container: string, name: string, snapshot: string): Promise<BlobRecord | undefined> {
  const { rows } = await q.query<{ doc: string }>(`SELECT doc FROM blob_snapshots WHERE ${KEY} AND snapshot = $4`, [account, container, name, snapshot]);
  const record = rows[0] && toBlob(rows[0].doc, account, container, name, snapshot);
  return record && record.deletedTime === undefined ? asOfNow(record) : undefined;
}

export async function snapshotsOf(q: Queryable, key: Key, withDeleted: boolean): Promise<BlobRecord[]> {
  const { rows } = await q.query<{ snapshot: string; doc: string }>(`SELECT snapshot, doc FROM blob_snapshots WHERE ${KEY} ORDER BY snapshot COLLATE "C"`, [
    key.account,
    key.container,
    key.name,
  ]);
  return rows
    .map((row) => asOfNow(toBlob(row.doc, key.account, key.container, key.name, row.snapshot)))
    .filter((snapshot) => withDeleted || snapshot.deletedTime === undefined);
}

export async function hasSnapshots(q: Queryable, key: Key): Promise<boolean> {
  const { rows } = await q.query<{ has: boolean }>(`SELECT EXISTS (SELECT 1 FROM blob_snapshots WHERE ${KEY} AND (doc::jsonb ->> 'deletedTime') IS NULL) AS has`, [
    key.account,
    key.container,
    key.name,
  ]);
  return rows[0]!.has;
}

/** Every snapshot time the blob has used, soft-deleted snapshots' included: those a new snapshot must not take. */
export async function snapshotTimes(q: Queryable, key: Key): Promise<Set<string>> {
  const { rows } = await q.query<{ snapshot: string }>(`SELECT snapshot FROM blob_snapshots WHERE ${KEY}`, [key.account, key.container, key.name]);
  return new Set(rows.map((row) => row.snapshot));
}

export async function writeSnapshotDoc(q: Queryable, snapshot: BlobRecord): Promise<void> {
  await q.query(`UPDATE blob_snapshots SET doc = $5 WHERE ${KEY} AND snapshot = $4`, [snapshot.account, snapshot.container, snapshot.name, snapshot.snapshot!, recordDoc(snapshot)]);
}
