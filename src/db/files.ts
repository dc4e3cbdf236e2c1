import type { AsyncStore } from './async-store.js';
import { prefixEnd } from './blobs.js';
import { ContentRefs } from './content-refs.js';
import { RangeRows } from './range-rows.js';
import { RecordCache } from './record-cache.js';
import type { FileNodeRecord, StoredRange, ListPage, ShareRecord } from './records.js';
import type { Db } from './sqlite.js';
import { transact } from './transact.js';

/** A node not yet stored: the store assigns its id. */
export type NodeDraft = Omit<FileNodeRecord, 'id'>;

/**
 * A security descriptor sent in full with a write (x-ms-file-permission), stored
 * under its key in the node's share in the write's own transaction, so a share
 * never keeps the descriptor of a write it refused, nor gets one after its delete.
 */
export interface NewPermission {
  key: string;
  permission: string;
}

/**
 * What a file edit does besides replacing the node's properties: forget the
 * bytes of a span (Clear Range, shrinking), and/or store one newly written
 * range (Put Range), whose content file holds no reference yet.
 */
export interface NodeEdit {
  node: FileNodeRecord;
  clear?: { first: number; last: number };
  write?: StoredRange;
}

const NODE_CACHE_ENTRIES = 10_000;
const RANGE_LIST_CACHE_ENTRIES = 10_000;
/** Files written in more ranges than this are read span by span from SQLite, never cached whole. */
const CACHED_RANGES_PER_FILE = 16;
/** The cached range list of a file with more than CACHED_RANGES_PER_FILE ranges. */
const MANY_RANGES: readonly StoredRange[] = Object.freeze([]);

/** A file_nodes row, as both dialects read it (PostgreSQL's BIGINTs converted first). */
export interface NodeRow {
  id: number;
  key: string;
  parent: string | null;
  name: string;
  is_dir: number;
  size: number;
  doc: string;
}


/**
 * Shares, their directories and files, and the written ranges of each file.
 * Every method is one transaction. Callbacks run inside it, see the current
 * state and throw to refuse, so checks and writes cannot interleave with
 * another request's. Methods that drop ranges return the content ids nothing
 * refers to any more, for the caller to unlink after the commit.
 *
 * Nodes and the range lists of small files read outside a transaction are
 * cached, so a hot small-file read skips SQLite and the JSON parse. Every write
 * transaction drops both caches when it ends, committed or not, and reads inside
 * one go to the database: a cached record is never older than what is committed.
 */
export class FileRepo {
  private readonly refs: ContentRefs;
  /** The written ranges of each file, by file id. */
  private readonly fileRanges: RangeRows;
  private readonly stmt;
  private readonly nodes = new RecordCache<FileNodeRecord>(NODE_CACHE_ENTRIES);
  /** Every range of a file written in at most CACHED_RANGES_PER_FILE ranges (else MANY_RANGES), by file id. */
  private readonly rangeLists = new RecordCache<readonly StoredRange[]>(RANGE_LIST_CACHE_ENTRIES);
  /** How many write transactions are open (better-sqlite3 nests them as savepoints). */
  private writeDepth = 0;

  constructor(private readonly db: Db) {
    this.refs = new ContentRefs(db);
    this.fileRanges = new RangeRows(db, 'file_ranges', ['file_id'], this.refs);
    this.stmt = {
      getShare: db.prepare('SELECT doc FROM shares WHERE account = ? AND name = ?').pluck(),
      insertShare: db.prepare('INSERT INTO shares (account, name, doc) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      updateShare: db.prepare('UPDATE shares SET doc = ? WHERE account = ? AND name = ?'),
      deleteShare: db.prepare('DELETE FROM shares WHERE account = ? AND name = ?'),
      listShares: db.prepare('SELECT name, doc FROM shares WHERE account = ? AND name > ? AND name >= ? AND name < ? ORDER BY name LIMIT ?'),
      shareUsage: db.prepare('SELECT COALESCE(SUM(size), 0) FROM file_nodes WHERE account = ? AND share = ?').pluck(),
      shareContent: db.prepare(
        'SELECT r.content_id FROM file_ranges r JOIN file_nodes n ON n.id = r.file_id WHERE n.account = ? AND n.share = ?',
      ).pluck(),
      deleteShareRanges: db.prepare('DELETE FROM file_ranges WHERE file_id IN (SELECT id FROM file_nodes WHERE account = ? AND share = ?)'),
      deleteShareNodes: db.prepare('DELETE FROM file_nodes WHERE account = ? AND share = ?'),
      deleteSharePermissions: db.prepare('DELETE FROM file_permissions WHERE account = ? AND share = ?'),

      getNode: db.prepare('SELECT id, key, parent, name, is_dir, size, doc FROM file_nodes WHERE account = ? AND share = ? AND key = ?'),
      insertNode: db.prepare(
        'INSERT INTO file_nodes (account, share, key, parent, name, is_dir, size, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      ).pluck(),
      updateNode: db.prepare('UPDATE file_nodes SET name = ?, size = ?, doc = ? WHERE id = ?'),
      deleteNode: db.prepare('DELETE FROM file_nodes WHERE id = ?'),
      hasChildren: db.prepare('SELECT 1 FROM file_nodes WHERE account = ? AND share = ? AND parent = ? LIMIT 1').pluck(),
      children: db.prepare(
        `SELECT id, key, parent, name, is_dir, size, doc FROM file_nodes
         WHERE account = ? AND share = ? AND parent = ? AND key > ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
      ),

      getPermission: db.prepare('SELECT permission FROM file_permissions WHERE account = ? AND share = ? AND key = ?').pluck(),
      putPermission: db.prepare('INSERT INTO file_permissions (account, share, key, permission) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      copyPermission: db.prepare(
        `INSERT INTO file_permissions (account, share, key, permission)
         SELECT ?, ?, key, permission FROM file_permissions WHERE account = ? AND share = ? AND key = ? ON CONFLICT DO NOTHING`,
      ),
    };
  }

  // ---- shares ----

  getShare(account: string, name: string): ShareRecord | undefined {
    const doc = this.stmt.getShare.get(account, name) as string | undefined;
    return doc === undefined ? undefined : { ...JSON.parse(doc), account, name };
  }

  /** Creates the share with its root directory; false when the share already exists. */
  createShare(share: ShareRecord, root: NodeDraft): boolean {
    return this.write(() => {
      if (this.stmt.insertShare.run(share.account, share.name, shareDoc(share)).changes === 0) return false;
      this.insert(root);
      return true;
    });
  }

  /** Changes a share's properties, metadata or ACL: `change` sees the current record (or undefined) and returns the new one, or throws. */
  updateShare(account: string, name: string, change: (current: ShareRecord | undefined) => ShareRecord): ShareRecord {
    return this.write(() => {
      const share = change(this.getShare(account, name));
      this.stmt.updateShare.run(shareDoc(share), account, name);
      return share;
    });
  }

  /** Deletes the share and everything in it; undefined when it did not exist. */
  deleteShare(account: string, name: string): string[] | undefined {
    return this.write(() => {
      if (this.stmt.getShare.get(account, name) === undefined) return undefined;
      const orphans: string[] = [];
      this.refs.release(this.stmt.shareContent.all(account, name) as string[], orphans);
      this.stmt.deleteShareRanges.run(account, name);
      this.stmt.deleteShareNodes.run(account, name);
      this.stmt.deleteSharePermissions.run(account, name);
      this.stmt.deleteShare.run(account, name);
      return orphans;
    });
  }

  listShares(account: string, prefix: string, after: string, limit: number): ListPage<ShareRecord> {
    const rows = this.stmt.listShares.all(account, after, prefix, prefixEnd(prefix), limit + 1) as { name: string; doc: string }[];
    const items = rows.slice(0, limit).map((row) => ({ ...JSON.parse(row.doc), account, name: row.name }) as ShareRecord);
    return { items, next: rows.length > limit ? items[items.length - 1]!.name : undefined };
  }

  /** Bytes used by the share: the sum of its files' lengths. */
  shareUsage(account: string, name: string): number {
    return this.stmt.shareUsage.get(account, name) as number;
  }

  // ---- directories and files ----

  getNode(account: string, share: string, key: string): FileNodeRecord | undefined {
    if (this.writeDepth > 0) return this.readNode(account, share, key);
    const cacheKey = `${account}\n${share}\n${key}`;
    const cached = this.nodes.get(cacheKey);
    if (cached !== undefined) return cached;
    const node = this.readNode(account, share, key);
    return node && this.nodes.set(cacheKey, node);
  }

  private readNode(account: string, share: string, key: string): FileNodeRecord | undefined {
    const row = this.stmt.getNode.get(account, share, key) as NodeRow | undefined;
    return row && nodeFromRow(account, share, row);
  }

  /**
   * Creates a directory or file at `at`, or replaces the file there (its ranges
   * dropped, its id kept). `build` sees the parent directory and what is at the
   * path now, and returns the node to store or throws. `permission`, the
   * descriptor the node names if the request sent one, is stored with it.
   */
  putNode(
    at: { account: string; share: string; key: string; parent: string },
    build: (parent: FileNodeRecord | undefined, existing: FileNodeRecord | undefined) => NodeDraft,
    permission?: NewPermission,
  ): { node: FileNodeRecord; orphans: string[] } {
    return this.write(() => {
      const parent = this.getNode(at.account, at.share, at.parent);
      const existing = this.getNode(at.account, at.share, at.key);
      const orphans: string[] = [];
      const node = this.store(build(parent, existing), existing, orphans);
      if (permission) this.stmt.putPermission.run(at.account, at.share, permission.key, permission.permission);
      return { node, orphans };
    });
  }

  /**
   * Changes a node: `change` sees its current record (undefined when it does not
   * exist) and returns the new record with the byte edits to make, or throws.
   * `permission`, the descriptor the node names if the request sent one, is stored with it.
   */
  editNode(
    account: string,
    share: string,
    key: string,
    change: (current: FileNodeRecord | undefined) => NodeEdit,
    permission?: NewPermission,
  ): { node: FileNodeRecord; orphans: string[] } {
    return this.write(() => {
      const edit = change(this.getNode(account, share, key));
      const { node } = edit;
      const orphans: string[] = [];
      if (edit.clear) this.fileRanges.clear([node.id], edit.clear.first, edit.clear.last, orphans);
      if (edit.write) this.fileRanges.write([node.id], edit.write, orphans);
      this.stmt.updateNode.run(node.name, node.size, nodeDoc(node), node.id);
      if (permission) this.stmt.putPermission.run(account, share, permission.key, permission.permission);
      return { node, orphans };
    });
  }

  /** Deletes a node; `check` sees it (or undefined) and whether it has children, and throws to refuse. */
  deleteNode(account: string, share: string, key: string, check: (current: FileNodeRecord | undefined, hasChildren: boolean) => void): string[] {
    return this.write(() => {
      const current = this.getNode(account, share, key);
      check(current, current !== undefined && current.isDirectory && this.stmt.hasChildren.get(account, share, key) !== undefined);
      const orphans: string[] = [];
      if (!current) return orphans;
      this.fileRanges.drop([current.id], orphans);
      this.stmt.deleteNode.run(current.id);
      return orphans;
    });
  }

  /**
   * The children of directory `parent` in key order: keys starting with
   * `keyPrefix` (the parent's key, '/', and the lower-cased name prefix) and after `after`.
   */
  listChildren(account: string, share: string, parent: string, keyPrefix: string, after: string, limit: number): FileNodeRecord[] {
    const rows = this.stmt.children.all(account, share, parent, after, keyPrefix, prefixEnd(keyPrefix), limit) as NodeRow[];
    return rows.map((row) => nodeFromRow(account, share, row));
  }

  /**
   * Makes `draft` a copy of a file: the same ranges over the same content files,
   * so no byte is copied. `build` sees the source (or undefined), the parent
   * directory and what is at the destination now; it returns the destination
   * record or throws. `permission`, the descriptor the copy names if the request
   * sent one, is stored with it; a copy into another share that keeps the
   * source's permission key brings the source's descriptor along.
   */
  copyFile(
    source: { account: string; share: string; key: string },
    destination: { account: string; share: string; key: string; parent: string },
    build: (source: FileNodeRecord | undefined, parent: FileNodeRecord | undefined, existing: FileNodeRecord | undefined) => NodeDraft,
    permission?: NewPermission,
  ): { node: FileNodeRecord; orphans: string[] } {
    return this.write(() => {
      const original = this.getNode(source.account, source.share, source.key);
      const parent = this.getNode(destination.account, destination.share, destination.parent);
      const existing = this.getNode(destination.account, destination.share, destination.key);
      const draft = build(original, parent, existing);
      const orphans: string[] = [];
      if (permission) this.stmt.putPermission.run(destination.account, destination.share, permission.key, permission.permission);
      if (source.account !== destination.account || source.share !== destination.share) {
        this.stmt.copyPermission.run(destination.account, destination.share, source.account, source.share, draft.smb.permissionKey);
      }
      if (existing && existing.id === original!.id) {
        // A file copied onto itself keeps its ranges; only its properties change.
        const node = { ...draft, id: existing.id };
        this.stmt.updateNode.run(node.name, node.size, nodeDoc(node), node.id);
        return { node, orphans };
      }
      const node = this.store(draft, existing, orphans);
      this.fileRanges.copy([original!.id], [node.id]);
      return { node, orphans };
    });
  }

  /** The written ranges of a file that overlap bytes [first, last], in order. */
  ranges(fileId: number, first: number, last: number): readonly StoredRange[] {
    const all = this.writeDepth > 0 ? undefined : this.smallFileRanges(fileId);
    if (all !== undefined) return all.filter((range) => range.last >= first && range.first <= last);
    return this.fileRanges.overlapping([fileId], first, last);
  }

  /** Every range of the file when it has few, from the cache once read; undefined for a file of many ranges. */
  private smallFileRanges(fileId: number): readonly StoredRange[] | undefined {
    const cacheKey = String(fileId);
    let all = this.rangeLists.get(cacheKey);
    if (all === undefined) {
      const first = this.fileRanges.first([fileId], CACHED_RANGES_PER_FILE + 1);
      // A file of many ranges is remembered as such, so its reads do not count them again.
      all = this.rangeLists.set(cacheKey, first.length > CACHED_RANGES_PER_FILE ? MANY_RANGES : first.map((range) => Object.freeze(range)));
    }
    return all === MANY_RANGES ? undefined : all;
  }

  /** Runs `body` as one transaction: reads inside it bypass the caches, which are dropped once it ends. */
  private write<T>(body: () => T): T {
    this.writeDepth++;
    try {
      return transact(this.db, body);
    } finally {
      this.writeDepth--;
      this.nodes.clear();
      this.rangeLists.clear();
    }
  }

  /** Every written range of a file, in order. */
  allRanges(fileId: number): StoredRange[] {
    return this.fileRanges.all([fileId]);
  }

  rangeCount(fileId: number): number {
    return this.fileRanges.count([fileId]);
  }

  /**
   * Replaces `expected`, touching ranges of one file exactly as they were read,
   * by `merged` over the same bytes, whose content file holds no reference yet.
   * Returns the content ids nothing uses any more, or undefined when a write
   * changed any of those ranges meanwhile (the caller then discards `merged`).
   */
  mergeRanges(fileId: number, expected: readonly StoredRange[], merged: StoredRange): string[] | undefined {
    return this.write(() => {
      const orphans: string[] = [];
      return this.fileRanges.replace([fileId], expected, merged, orphans) ? orphans : undefined;
    });
  }

  // ---- permissions ----

  getPermission(account: string, share: string, key: string): string | undefined {
    return this.stmt.getPermission.get(account, share, key) as string | undefined;
  }

  /**
   * Stores a descriptor under its key (Create Permission); false, storing
   * nothing, when the share does not exist. Keys are derived from the
   * descriptor, so storing one twice is harmless.
   */
  putPermission(account: string, share: string, key: string, permission: string): boolean {
    return this.write(() => {
      if (this.stmt.getShare.get(account, share) === undefined) return false;
      this.stmt.putPermission.run(account, share, key, permission);
      return true;
    });
  }

  // ---- inside transactions ----

  private insert(draft: NodeDraft): FileNodeRecord {
    const id = this.stmt.insertNode.get(
      draft.account,
      draft.share,
      draft.key,
      draft.parent,
      draft.name,
      draft.isDirectory ? 1 : 0,
      draft.size,
      nodeDoc(draft),
    ) as number;
    return { ...draft, id };
  }

  /** Inserts the node, or replaces `existing` keeping its id and dropping its ranges. */
  private store(draft: NodeDraft, existing: FileNodeRecord | undefined, orphans: string[]): FileNodeRecord {
    if (!existing) return this.insert(draft);
    const node = { ...draft, id: existing.id };
    this.fileRanges.drop([existing.id], orphans);
    this.stmt.updateNode.run(node.name, node.size, nodeDoc(node), node.id);
    return node;
  }
}

/**
 * The File service's metadata as the handlers see it, whichever the dialect:
 * FileRepo's methods answering promises (SQLite, through asyncStore) or
 * PgFileRepo's (PostgreSQL). Callbacks passed to it are synchronous and run
 * inside the method's transaction.
 */
export type FileStore = AsyncStore<FileRepo>;

export function nodeFromRow(account: string, share: string, row: NodeRow): FileNodeRecord {
  return {
    ...JSON.parse(row.doc),
    id: row.id,
    account,
    share,
    key: row.key,
    parent: row.parent,
    name: row.name,
    isDirectory: row.is_dir === 1,
    size: row.size,
  };
}

/** The doc column of a node: every field the other columns do not hold. */
export function nodeDoc(node: NodeDraft & { id?: number }): string {
  const { id: _i, account: _a, share: _s, key: _k, parent: _p, name: _n, isDirectory: _d, size: _z, ...rest } = node;
  return JSON.stringify(rest);
}

/** The doc column of a share: every field but its key. */
export function shareDoc({ account: _a, name: _n, ...rest }: ShareRecord): string {
  return JSON.stringify(rest);
}
