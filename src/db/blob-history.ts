import type { ContentRefs } from './content-refs.js';
import type { RangeRows } from './range-rows.js';
import type { BlobRecord } from './records.js';
import type { Db } from './sqlite.js';

export type BlobKey = { account: string; container: string; name: string };

/** A page blob's pages, or those of one of its snapshots, versions or soft-deleted copies. */
export interface PageOwner extends BlobKey {
  /** A snapshot time; absent for the blob itself. */
  snapshot?: string;
  /** Where a version's pages are kept (`version:<id>`); set on records read from history. */
  pagesKey?: string;
}

export function pageOwner({ account, container, name, snapshot, pagesKey }: PageOwner): readonly string[] {
  return [account, container, name, pagesKey ?? snapshot ?? ''];
}

/** The content a record holds references to: its extents, and those a pending copy will bring. A page blob's are its pages'. */
export function extentIds(blob: Pick<BlobRecord, 'extents' | 'pendingCopy'>): string[] {
  const ids = blob.extents.map((extent) => extent.id);
  if (blob.pendingCopy) for (const extent of blob.pendingCopy.extents) ids.push(extent.id);
  return ids;
}

/**
 * A time as Azure writes snapshot and version ids, in 100 ns ticks: the
 * millisecond, then four more digits that keep two ids of one blob in the same
 * millisecond apart.
 */
export function timeId(ms: number, tick = 0): string {
  return `${new Date(ms).toISOString().slice(0, -1)}${String(tick).padStart(4, '0')}Z`;
}

/** A blob's version id: its own, or, for a blob written before versioning was turned on, the time of its last write. */
export function versionIdOf(blob: BlobRecord): string {
  return blob.versionId ?? timeId(blob.lastModified);
}

/** Where a blob's current record goes when a write or delete replaces it. */
export type Retirement = { kind: 'version' } | { kind: 'deleted'; deletedTime: number; expires: number };

/**
 * Previous versions of blobs and soft-deleted blobs: records that, like
 * snapshots, never change but for their deletion marks, and hold a reference
 * on each content file they name. Every method runs inside the caller's
 * transaction (BlobRepo's), and adds content nothing uses any more to `orphans`.
 */
export class BlobHistory {
  private readonly stmt;

  constructor(
    db: Db,
    private readonly refs: ContentRefs,
    private readonly pages: RangeRows,
  ) {
    const key = 'account = ? AND container = ? AND name = ?';
    this.stmt = {
      insertVersion: db.prepare('INSERT INTO blob_versions (account, container, name, version_id, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET doc = excluded.doc'),
      getVersion: db.prepare(`SELECT doc FROM blob_versions WHERE ${key} AND version_id = ?`).pluck(),
      versionsOf: db.prepare(`SELECT doc FROM blob_versions WHERE ${key} ORDER BY version_id`).pluck(),
      updateVersion: db.prepare(`UPDATE blob_versions SET doc = ? WHERE ${key} AND version_id = ?`),
      deleteVersion: db.prepare(`DELETE FROM blob_versions WHERE ${key} AND version_id = ?`),
      insertDeleted: db.prepare('INSERT INTO deleted_blobs (account, container, name, deleted_time, doc) VALUES (?, ?, ?, ?, ?)'),
      deletedOf: db.prepare(`SELECT deleted_time AS time, doc FROM deleted_blobs WHERE ${key} ORDER BY deleted_time`),
      deleteDeleted: db.prepare(`DELETE FROM deleted_blobs WHERE ${key} AND deleted_time = ?`),
      hasDeleted: db.prepare(`SELECT 1 FROM deleted_blobs WHERE ${key} AND deleted_time = ?`).pluck(),
      expiredVersions: db.prepare("SELECT account, container, name, version_id AS id, doc FROM blob_versions WHERE json_extract(doc, '$.retentionExpires') <= ?"),
      expiredDeleted: db.prepare("SELECT account, container, name, deleted_time AS id, doc FROM deleted_blobs WHERE json_extract(doc, '$.retentionExpires') <= ?"),
      names: db.prepare(namesSql(false)).pluck(),
      namesWithStaged: db.prepare(namesSql(true)).pluck(),
    };
  }

  /**
   * Moves the blob's current record (its extents complete) into history, with
   * its content references and written pages. The caller then removes or
   * replaces the blob's own row and append blocks without releasing them.
   */
  retire(current: BlobRecord, to: Retirement): void {
    const { account, container, name } = current;
    if (to.kind === 'version') {
      const id = versionIdOf(current);
      this.stmt.insertVersion.run(account, container, name, id, recordDoc({ ...current, versionId: id, lease: undefined }));
      this.pages.rename(pageOwner(current), pageOwner({ ...current, snapshot: `version:${id}` }));
    } else {
      // Deleted, recreated and deleted again within a millisecond, a blob's copies still get ids of their own.
      let tick = 0;
      while (this.stmt.hasDeleted.get(account, container, name, timeId(to.deletedTime, tick)) !== undefined) tick++;
      const time = timeId(to.deletedTime, tick);
      this.stmt.insertDeleted.run(account, container, name, time, recordDoc({ ...current, lease: undefined, deletedTime: to.deletedTime, retentionExpires: to.expires }));
      this.pages.rename(pageOwner(current), pageOwner({ ...current, snapshot: `deleted:${time}` }));
    }
  }

  /** Keeps a copy of the current record as a version (its content stays the blob's too: each file gains a reference). */
  keepVersion(current: BlobRecord): void {
    const id = versionIdOf(current);
    this.stmt.insertVersion.run(current.account, current.container, current.name, id, recordDoc({ ...current, versionId: id, lease: undefined }));
    this.refs.add(extentIds(current));
    this.pages.copy(pageOwner(current), pageOwner({ ...current, snapshot: `version:${id}` }));
  }

  getVersion(key: BlobKey, id: string): BlobRecord | undefined {
    const text = this.stmt.getVersion.get(key.account, key.container, key.name, id) as string | undefined;
    return text === undefined ? undefined : versionRecord(text, key);
  }

  /** The blob's previous versions, oldest first, soft-deleted ones included. */
  versionsOf(key: BlobKey): BlobRecord[] {
    return (this.stmt.versionsOf.all(key.account, key.container, key.name) as string[]).map((text) => versionRecord(text, key));
  }

  /** Deletes a version, or marks it deleted until `soft.expires`. False when there is no such version. */
  deleteVersion(key: BlobKey, id: string, soft: { deletedTime: number; expires: number } | undefined, orphans: string[]): boolean {
    const version = this.getVersion(key, id);
    if (!version || version.deletedTime !== undefined) return false;
    if (soft) {
      this.stmt.updateVersion.run(recordDoc({ ...version, deletedTime: soft.deletedTime, retentionExpires: soft.expires }), key.account, key.container, key.name, id);
      return true;
    }
    this.drop(version, `version:${id}`, orphans);
    this.stmt.deleteVersion.run(key.account, key.container, key.name, id);
    return true;
  }

  /** The blob's soft-deleted copies, oldest first. */
  deletedOf(key: BlobKey): (BlobRecord & { deletedId: string })[] {
    return (this.stmt.deletedOf.all(key.account, key.container, key.name) as { time: string; doc: string }[]).map((row) => ({
      ...JSON.parse(row.doc),
      ...key,
      deletedId: row.time,
    }));
  }

  /**
   * Undelete: the latest soft-deleted copy when `restoreBase` (its row and
   * pages handed back to the blob, which the caller writes), and every
   * soft-deleted version unmarked.
   */
  undelete(key: BlobKey, restoreBase: boolean): BlobRecord | undefined {
    for (const version of this.versionsOf(key)) {
      if (version.deletedTime === undefined) continue;
      const { deletedTime: _d, retentionExpires: _r, ...kept } = version;
      this.stmt.updateVersion.run(recordDoc(kept), key.account, key.container, key.name, version.versionId!);
    }
    const latest = this.deletedOf(key).pop();
    if (!restoreBase || !latest) return undefined;
    this.stmt.deleteDeleted.run(key.account, key.container, key.name, latest.deletedId);
    this.pages.rename(pageOwner({ ...key, snapshot: `deleted:${latest.deletedId}` }), pageOwner(key));
    const { deletedId: _i, deletedTime: _d, retentionExpires: _r, ...restored } = latest;
    return restored;
  }

  /** Lets go of soft-deleted versions and blobs whose retention has run out. */
  purge(now: number, orphans: string[]): void {
    type Row = BlobKey & { id: string; doc: string };
    for (const row of this.stmt.expiredVersions.all(now) as Row[]) {
      this.drop(JSON.parse(row.doc), `version:${row.id}`, orphans, row);
      this.stmt.deleteVersion.run(row.account, row.container, row.name, row.id);
    }
    for (const row of this.stmt.expiredDeleted.all(now) as Row[]) {
      this.drop(JSON.parse(row.doc), `deleted:${row.id}`, orphans, row);
      this.stmt.deleteDeleted.run(row.account, row.container, row.name, row.id);
    }
  }

  /** Names in a container that have a blob, versions or soft-deleted copies (or, `withStaged`, uncommitted blocks), in order. */
  names(account: string, container: string, range: { after: string; from: string; end: string }, limit: number, withStaged: boolean): string[] {
    return (withStaged ? this.stmt.namesWithStaged : this.stmt.names).all({ account, container, ...range, limit }) as string[];
  }

  private drop(record: BlobRecord, owner: string, orphans: string[], key: BlobKey = record): void {
    this.refs.release(extentIds(record), orphans);
    this.pages.drop(pageOwner({ ...key, snapshot: owner }), orphans);
  }
}

function namesSql(withStaged: boolean): string {
  const range = 'account = @account AND container = @container AND name > @after AND name >= @from AND name < @end';
  const selects = ['blobs', 'blob_versions', 'deleted_blobs'].map((table) => `SELECT name FROM ${table} WHERE ${range}`);
  if (withStaged) selects.push(`SELECT blob AS name FROM blocks WHERE ${range.replaceAll('name', 'blob')}`);
  return `${selects.join(' UNION ')} ORDER BY name LIMIT @limit`;
}

function versionRecord(text: string, key: BlobKey): BlobRecord {
  const version: BlobRecord = { ...JSON.parse(text), ...key };
  version.pagesKey = `version:${version.versionId}`;
  return version;
}

/** A record's row: everything but its key (and where its pages are, which follows from the key). */
export function recordDoc({ account: _a, container: _c, name: _n, pagesKey: _p, ...rest }: BlobRecord): string {
  return JSON.stringify(rest);
}
