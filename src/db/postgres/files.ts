/**
 * The PostgreSQL dialect of the File store: shares, their directories and
 * files, the written ranges of each file and the shares' security descriptors,
 * behaving as FileRepo does on SQLite, where one writer at a time makes every
 * method's reads and writes one step. Here several nodes write at once, so each
 * write method takes, in this order and in one transaction (READ COMMITTED:
 * every statement after a lock sees what the lock's previous holder committed):
 *
 * 1. The share's row FOR KEY SHARE (a copy: both shares' rows, in name order).
 *    Deleting a share locks its row FOR UPDATE, so it waits for the writes in
 *    flight in the share and the next ones wait for it: no write can leave a
 *    node, range or descriptor behind in a deleted share. Changing a share's
 *    properties (FOR NO KEY UPDATE) waits for neither.
 * 2. An advisory lock on (account, share, key) of each node it writes (a copy:
 *    its source's too, so the source's ranges are read as they are; both in
 *    one order). Writes to one path take turns; a compaction finds its file's
 *    key by id first (a node's key never changes).
 * 3. Row locks between a directory and its children: a create locks its parent
 *    directory's row FOR KEY SHARE, a delete locks the node's row FOR UPDATE
 *    before it looks for children, so a directory cannot go while a child is
 *    created in it.
 * 4. Last, the content rows whose reference counts it changes (ContentLedger),
 *    in id order, as the Blob store does: the counts change in SQL, added to and
 *    taken from, and two transactions sharing content never deadlock on them.
 *
 * Names and keys compare and sort with COLLATE "C", byte-wise as SQLite's
 * BINARY, so pages break where they break on SQLite. Keys are lower-cased by
 * the File service (names are case-insensitive), so no comparison folds case.
 */
import type pg from 'pg';
import { prefixEnd } from '../blobs.js';
import { nodeDoc, nodeFromRow, shareDoc, type FileStore, type NewPermission, type NodeDraft, type NodeEdit } from '../files.js';
import type { FileNodeRecord, ListPage, ShareRecord, StoredRange } from '../records.js';
import { fileWrite, lockNodes, type FileTx, type NodeKey } from './file-tx.js';
import { PgRangeRows } from './range-rows.js';
import { transaction, type Queryable } from './sql.js';

const NODE_COLUMNS = 'id, key, parent, name, is_dir, size, doc';

/** A file_nodes row as `pg` hands it over: BIGINTs as text. */
interface PgNodeRow {
  id: string;
  key: string;
  parent: string | null;
  name: string;
  is_dir: number;
  size: string;
  doc: string;
}

type Written = { node: FileNodeRecord; orphans: string[] };

export class PgFileRepo implements FileStore {
  private readonly fileRanges = new PgRangeRows('file_ranges', ['file_id']);

  constructor(private readonly pool: pg.Pool) {}

  // ---- shares ----

  async getShare(account: string, name: string): Promise<ShareRecord | undefined> {
    const { rows } = await this.pool.query<{ doc: string }>('SELECT doc FROM shares WHERE account = $1 AND name = $2', [account, name]);
    return rows[0] && { ...JSON.parse(rows[0].doc), account, name };
  }

  /** Creates the share with its root directory; false when the share already exists (the primary key decides between two creates). */
  createShare(share: ShareRecord, root: NodeDraft): Promise<boolean> {
    return transaction(this.pool, async (q) => {
      const { rowCount } = await q.query('INSERT INTO shares (account, name, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [share.account, share.name, shareDoc(share)]);
      if (rowCount !== 1) return false;
      await insertNode(q, root);
      return true;
    });
  }

  updateShare(account: string, name: string, change: (current: ShareRecord | undefined) => ShareRecord): Promise<ShareRecord> {
    return transaction(this.pool, async (q) => {
      const { rows } = await q.query<{ doc: string }>('SELECT doc FROM shares WHERE account = $1 AND name = $2 FOR NO KEY UPDATE', [account, name]);
      const share = change(rows[0] && { ...JSON.parse(rows[0].doc), account, name });
      await q.query('UPDATE shares SET doc = $1 WHERE account = $2 AND name = $3', [shareDoc(share), account, name]);
      return share;
    });
  }

  async deleteShare(account: string, name: string): Promise<string[] | undefined> {
    const { result: found, orphans } = await fileWrite(this.pool, async ({ q, refs }) => {
      const { rowCount } = await q.query('SELECT 1 FROM shares WHERE account = $1 AND name = $2 FOR UPDATE', [account, name]);
      if (rowCount !== 1) return false;
      const { rows } = await q.query<{ content_id: string }>(
        `WITH gone AS (
           DELETE FROM file_ranges r USING file_nodes n WHERE r.file_id = n.id AND n.account = $1 AND n.share = $2
           RETURNING r.file_id, r.first_byte, r.content_id
         ) SELECT content_id FROM gone ORDER BY file_id, first_byte`,
        [account, name],
      );
      refs.release(rows.map((row) => row.content_id));
      await q.query('DELETE FROM file_nodes WHERE account = $1 AND share = $2', [account, name]);
      await q.query('DELETE FROM file_permissions WHERE account = $1 AND share = $2', [account, name]);
      await q.query('DELETE FROM shares WHERE account = $1 AND name = $2', [account, name]);
      return true;
    });
    return found ? orphans : undefined;
  }

  async listShares(account: string, prefix: string, after: string, limit: number): Promise<ListPage<ShareRecord>> {
    const { rows } = await this.pool.query<{ name: string; doc: string }>(
      `SELECT name, doc FROM shares WHERE account = $1 AND name COLLATE "C" > $2 AND name COLLATE "C" >= $3 AND name COLLATE "C" < $4
       ORDER BY name COLLATE "C" LIMIT $5`,
      [account, after, prefix, prefixEnd(prefix), limit + 1],
    );
    const items = rows.slice(0, limit).map((row) => ({ ...JSON.parse(row.doc), account, name: row.name }) as ShareRecord);
    return { items, next: rows.length > limit ? items[items.length - 1]!.name : undefined };
  }

  async shareUsage(account: string, name: string): Promise<number> {
    const { rows } = await this.pool.query<{ usage: string }>('SELECT COALESCE(SUM(size), 0) AS usage FROM file_nodes WHERE account = $1 AND share = $2', [account, name]);
    return Number(rows[0]!.usage);
  }

  // ---- directories and files ----

  getNode(account: string, share: string, key: string): Promise<FileNodeRecord | undefined> {
    return readNode(this.pool, { account, share, key });
  }

  async putNode(
    at: { account: string; share: string; key: string; parent: string },
    build: (parent: FileNodeRecord | undefined, existing: FileNodeRecord | undefined) => NodeDraft,
    permission?: NewPermission,
  ): Promise<Written> {
    const { result: node, orphans } = await fileWrite(this.pool, async (tx) => {
      await lockNodes(tx.q, at);
      const { parent, existing } = await this.placeOf(tx.q, at);
      const node = await this.store(tx, build(parent, existing), existing);
      if (permission) await putDescriptor(tx.q, at, permission);
      return node;
    });
    return { node, orphans };
  }

  async editNode(
    account: string,
    share: string,
    key: string,
    change: (current: FileNodeRecord | undefined) => NodeEdit,
    permission?: NewPermission,
  ): Promise<Written> {
    const { result: node, orphans } = await fileWrite(this.pool, async (tx) => {
      const at = { account, share, key };
      await lockNodes(tx.q, at);
      const edit = change(await readNode(tx.q, at));
      if (edit.clear) await this.fileRanges.clear(tx, [edit.node.id], edit.clear.first, edit.clear.last);
      if (edit.write) await this.fileRanges.write(tx, [edit.node.id], edit.write);
      await updateNode(tx.q, edit.node);
      if (permission) await putDescriptor(tx.q, at, permission);
      return edit.node;
    });
    return { node, orphans };
  }

  async deleteNode(account: string, share: string, key: string, check: (current: FileNodeRecord | undefined, hasChildren: boolean) => void): Promise<string[]> {
    const { orphans } = await fileWrite(this.pool, async (tx) => {
      const at = { account, share, key };
      await lockNodes(tx.q, at);
      // FOR UPDATE before the look for children: a create in this directory holds it FOR KEY SHARE until its child is committed.
      const current = await readNode(tx.q, at, 'FOR UPDATE');
      check(current, current !== undefined && current.isDirectory && (await hasChildren(tx.q, at)));
      if (!current) return;
      await this.fileRanges.drop(tx, [current.id]);
      await tx.q.query('DELETE FROM file_nodes WHERE id = $1', [current.id]);
    });
    return orphans;
  }

  async listChildren(account: string, share: string, parent: string, keyPrefix: string, after: string, limit: number): Promise<FileNodeRecord[]> {
    const { rows } = await this.pool.query<PgNodeRow>(
      `SELECT ${NODE_COLUMNS} FROM file_nodes
       WHERE account = $1 AND share = $2 AND parent = $3 AND key COLLATE "C" > $4 AND key COLLATE "C" >= $5 AND key COLLATE "C" < $6
       ORDER BY key COLLATE "C" LIMIT $7`,
      [account, share, parent, after, keyPrefix, prefixEnd(keyPrefix), limit],
    );
    return rows.map((row) => toNode(account, share, row));
  }

  async copyFile(
    source: { account: string; share: string; key: string },
    destination: { account: string; share: string; key: string; parent: string },
    build: (source: FileNodeRecord | undefined, parent: FileNodeRecord | undefined, existing: FileNodeRecord | undefined) => NodeDraft,
    permission?: NewPermission,
  ): Promise<Written> {
    const { result: node, orphans } = await fileWrite(this.pool, async (tx) => {
      await lockNodes(tx.q, source, destination);
      const original = await readNode(tx.q, source);
      const { parent, existing } = await this.placeOf(tx.q, destination);
      const draft = build(original, parent, existing);
      if (permission) await putDescriptor(tx.q, destination, permission);
      if (source.account !== destination.account || source.share !== destination.share) {
        await tx.q.query(
          `INSERT INTO file_permissions (account, share, key, permission)
           SELECT $1, $2, key, permission FROM file_permissions WHERE account = $3 AND share = $4 AND key = $5 ON CONFLICT DO NOTHING`,
          [destination.account, destination.share, source.account, source.share, draft.smb.permissionKey],
        );
      }
      if (existing && existing.id === original!.id) {
        // A file copied onto itself keeps its ranges; only its properties change.
        const node = { ...draft, id: existing.id };
        await updateNode(tx.q, node);
        return node;
      }
      const node = await this.store(tx, draft, existing);
      await this.fileRanges.copy(tx, [original!.id], [node.id]);
      return node;
    });
    return { node, orphans };
  }

  ranges(fileId: number, first: number, last: number): Promise<readonly StoredRange[]> {
    return this.fileRanges.overlapping(this.pool, [fileId], first, last);
  }

  allRanges(fileId: number): Promise<StoredRange[]> {
    return this.fileRanges.all(this.pool, [fileId]);
  }

  rangeCount(fileId: number): Promise<number> {
    return this.fileRanges.count(this.pool, [fileId]);
  }

  async mergeRanges(fileId: number, expected: readonly StoredRange[], merged: StoredRange): Promise<string[] | undefined> {
    const { result: replaced, orphans } = await fileWrite(this.pool, async (tx) => {
      const { rows } = await tx.q.query<NodeKey>('SELECT account, share, key FROM file_nodes WHERE id = $1', [fileId]);
      // A file deleted since its ranges were read has none left to match them.
      if (!rows[0]) return false;
      await lockNodes(tx.q, rows[0]);
      return this.fileRanges.replace(tx, [fileId], expected, merged);
    });
    return replaced ? orphans : undefined;
  }

  // ---- permissions ----

  async getPermission(account: string, share: string, key: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ permission: string }>('SELECT permission FROM file_permissions WHERE account = $1 AND share = $2 AND key = $3', [
      account,
      share,
      key,
    ]);
    return rows[0]?.permission;
  }

  /** Stores a descriptor under its key (Create Permission); false when the share is not there, whose row it holds FOR KEY SHARE meanwhile. */
  async putPermission(account: string, share: string, key: string, permission: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ found: string }>(
      `WITH share AS (SELECT 1 FROM shares WHERE account = $1 AND name = $2 FOR KEY SHARE),
            stored AS (INSERT INTO file_permissions (account, share, key, permission) SELECT $1, $2, $3, $4 FROM share ON CONFLICT DO NOTHING)
       SELECT COUNT(*) AS found FROM share`,
      [account, share, key, permission],
    );
    return rows[0]!.found === '1';
  }

  // ---- inside transactions ----

  /** The parent directory (locked FOR KEY SHARE, so it stays while a child is made in it) and what is at `at` now. */
  private async placeOf(q: Queryable, at: { account: string; share: string; key: string; parent: string }) {
    const { rows } = await q.query<PgNodeRow>(`SELECT ${NODE_COLUMNS} FROM file_nodes WHERE account = $1 AND share = $2 AND key IN ($3, $4) FOR KEY SHARE`, [
      at.account,
      at.share,
      at.parent,
      at.key,
    ]);
    const found = (key: string) => {
      const row = rows.find((candidate) => candidate.key === key);
      return row && toNode(at.account, at.share, row);
    };
    return { parent: found(at.parent), existing: found(at.key) };
  }

  /** Inserts the node, or replaces `existing` keeping its id and dropping its ranges. */
  private async store(tx: FileTx, draft: NodeDraft, existing: FileNodeRecord | undefined): Promise<FileNodeRecord> {
    if (!existing) return insertNode(tx.q, draft);
    const node = { ...draft, id: existing.id };
    await this.fileRanges.drop(tx, [existing.id]);
    await updateNode(tx.q, node);
    return node;
  }
}

async function readNode(q: Queryable, { account, share, key }: NodeKey, lock = ''): Promise<FileNodeRecord | undefined> {
  const { rows } = await q.query<PgNodeRow>(`SELECT ${NODE_COLUMNS} FROM file_nodes WHERE account = $1 AND share = $2 AND key = $3 ${lock}`, [account, share, key]);
  return rows[0] && toNode(account, share, rows[0]);
}

async function hasChildren(q: Queryable, { account, share, key }: NodeKey): Promise<boolean> {
  const { rowCount } = await q.query('SELECT 1 FROM file_nodes WHERE account = $1 AND share = $2 AND parent = $3 LIMIT 1', [account, share, key]);
  return rowCount === 1;
}

async function insertNode(q: Queryable, draft: NodeDraft): Promise<FileNodeRecord> {
  const { rows } = await q.query<{ id: string }>(
    'INSERT INTO file_nodes (account, share, key, parent, name, is_dir, size, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
    [draft.account, draft.share, draft.key, draft.parent, draft.name, draft.isDirectory ? 1 : 0, draft.size, nodeDoc(draft)],
  );
  return { ...draft, id: Number(rows[0]!.id) };
}

async function updateNode(q: Queryable, node: FileNodeRecord): Promise<void> {
  await q.query('UPDATE file_nodes SET name = $1, size = $2, doc = $3 WHERE id = $4', [node.name, node.size, nodeDoc(node), node.id]);
}

/** A descriptor the write's node names, stored in its share (keys are derived from descriptors: storing one twice is harmless). */
async function putDescriptor(q: Queryable, at: { account: string; share: string }, { key, permission }: NewPermission): Promise<void> {
  await q.query('INSERT INTO file_permissions (account, share, key, permission) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [at.account, at.share, key, permission]);
}

/** BIGINT ids and sizes come back from `pg` as text; both stay below 2^53. */
function toNode(account: string, share: string, row: PgNodeRow): FileNodeRecord {
  return nodeFromRow(account, share, { ...row, id: Number(row.id), size: Number(row.size) });
}
