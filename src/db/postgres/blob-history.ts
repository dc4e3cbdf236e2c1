import { extentIds, pageOwner, recordDoc, timeId, versionIdOf, type BlobKey, type Retirement } from '../blob-history.js';
import type { BlobRecord } from '../records.js';
import type { BlobTx } from './blob-tx.js';
import type { PgRangeRows } from './range-rows.js';
import type { Queryable } from './sql.js';

const KEY = 'account = $1 AND container = $2 AND name = $3';
/**
 * SQLite's `json_extract(doc, '$.retentionExpires') <= ?`: compared as a number. The
 * IS NOT NULL lets the partial retention indexes (011-retention-indexes) find the candidates.
 */
export function expiredBy(now: string): string {
  return `(doc::jsonb ->> 'retentionExpires') IS NOT NULL AND (doc::jsonb ->> 'retentionExpires')::numeric <= ${now}`;
}

/** An expired previous version or soft-deleted copy: its blob, and its id (version id, or deletion time). */
export type ExpiredRecord = BlobKey & { id: string };

/**
 * Previous versions of blobs and soft-deleted blobs (the PostgreSQL side of
 * blob-history.ts): records that never change but for their deletion marks,
 * each holding a reference on the content it names. Writes run in the
 * caller's transaction, under the blob's lock.
 */
export class PgBlobHistory {
  constructor(private readonly pages: PgRangeRows) {}

  /**
   * Moves the blob's current record (its extents complete) into history, with
   * its content references and written pages; the caller then removes or
   * replaces the blob's own row and append blocks without releasing them.
   */
  async retire(tx: BlobTx, current: BlobRecord, to: Retirement): Promise<void> {
    const { account, container, name } = current;
    if (to.kind === 'version') {
      const id = versionIdOf(current);
      await this.insertVersion(tx, current, id);
      await this.pages.rename(tx, pageOwner(current), pageOwner({ ...current, snapshot: `version:${id}` }));
      return;
    }
    // Deleted, recreated and deleted again within a millisecond, a blob's copies still get ids of their own.
    const { rows } = await tx.q.query<{ deleted_time: string }>(`SELECT deleted_time FROM deleted_blobs WHERE ${KEY}`, [account, container, name]);
    const taken = new Set(rows.map((row) => row.deleted_time));
    let tick = 0;
    while (taken.has(timeId(to.deletedTime, tick))) tick++;
    const time = timeId(to.deletedTime, tick);
    await tx.q.query('INSERT INTO deleted_blobs (account, container, name, deleted_time, doc) VALUES ($1, $2, $3, $4, $5)', [
      account,
      container,
      name,
      time,
      recordDoc({ ...current, lease: undefined, deletedTime: to.deletedTime, retentionExpires: to.expires }),
    ]);
    await this.pages.rename(tx, pageOwner(current), pageOwner({ ...current, snapshot: `deleted:${time}` }));
  }

  /** Keeps a copy of the current record as a version (its content stays the blob's too: each file gains a reference). */
  async keepVersion(tx: BlobTx, current: BlobRecord): Promise<void> {
    const id = versionIdOf(current);
    await this.insertVersion(tx, current, id);
    tx.refs.add(extentIds(current));
    await this.pages.copy(tx, pageOwner(current), pageOwner({ ...current, snapshot: `version:${id}` }));
  }

  async getVersion(q: Queryable, key: BlobKey, id: string): Promise<BlobRecord | undefined> {
    const { rows } = await q.query<{ doc: string }>(`SELECT doc FROM blob_versions WHERE ${KEY} AND version_id = $4`, [key.account, key.container, key.name, id]);
    return rows[0] && versionRecord(rows[0].doc, key);
  }

  /** The ids of every version of the blob, soft-deleted ones included: those a new version id must not be. */
  async versionIds(q: Queryable, key: BlobKey): Promise<Set<string>> {
    const { rows } = await q.query<{ version_id: string }>(`SELECT version_id FROM blob_versions WHERE ${KEY}`, [key.account, key.container, key.name]);
    return new Set(rows.map((row) => row.version_id));
  }

  /** The blob's previous versions, oldest first, soft-deleted ones included. */
  async versionsOf(q: Queryable, key: BlobKey): Promise<BlobRecord[]> {
    const { rows } = await q.query<{ doc: string }>(`SELECT doc FROM blob_versions WHERE ${KEY} ORDER BY version_id COLLATE "C"`, [key.account, key.container, key.name]);
    return rows.map((row) => versionRecord(row.doc, key));
  }

  /** Deletes a version, or marks it deleted until `soft.expires`. False when there is no such version. */
  async deleteVersion(tx: BlobTx, key: BlobKey, id: string, soft: { deletedTime: number; expires: number } | undefined): Promise<boolean> {
    const version = await this.getVersion(tx.q, key, id);
    if (!version || version.deletedTime !== undefined) return false;
    if (soft) {
      await this.updateVersion(tx, { ...version, deletedTime: soft.deletedTime, retentionExpires: soft.expires }, id);
      return true;
    }
    await this.drop(tx, version, `version:${id}`, key);
    await tx.q.query(`DELETE FROM blob_versions WHERE ${KEY} AND version_id = $4`, [key.account, key.container, key.name, id]);
    return true;
  }

  /** The blob's soft-deleted copies, oldest first. */
  async deletedOf(q: Queryable, key: BlobKey): Promise<(BlobRecord & { deletedId: string })[]> {
    const { rows } = await q.query<{ deleted_time: string; doc: string }>(`SELECT deleted_time, doc FROM deleted_blobs WHERE ${KEY} ORDER BY deleted_time COLLATE "C"`, [
      key.account,
      key.container,
      key.name,
    ]);
    return rows.map((row) => ({ ...JSON.parse(row.doc), ...key, deletedId: row.deleted_time }));
  }

  /**
   * Undelete: the latest soft-deleted copy when `restoreBase` (its row and
   * pages handed back to the blob, which the caller writes), and every
   * soft-deleted version unmarked.
   */
  async undelete(tx: BlobTx, key: BlobKey, restoreBase: boolean): Promise<BlobRecord | undefined> {
    for (const version of await this.versionsOf(tx.q, key)) {
      if (version.deletedTime === undefined) continue;
      const { deletedTime: _d, retentionExpires: _r, ...kept } = version;
      await this.updateVersion(tx, kept, version.versionId!);
    }
    const latest = (await this.deletedOf(tx.q, key)).pop();
    if (!restoreBase || !latest) return undefined;
    await tx.q.query(`DELETE FROM deleted_blobs WHERE ${KEY} AND deleted_time = $4`, [key.account, key.container, key.name, latest.deletedId]);
    await this.pages.rename(tx, pageOwner({ ...key, snapshot: `deleted:${latest.deletedId}` }), pageOwner(key));
    const { deletedId: _i, deletedTime: _d, retentionExpires: _r, ...restored } = latest;
    return restored;
  }

  /** Soft-deleted versions, then soft-deleted blobs, whose retention has run out by `now`. */
  async expired(q: Queryable, now: number): Promise<{ versions: ExpiredRecord[]; deleted: ExpiredRecord[] }> {
    const order = (id: string) => `ORDER BY account COLLATE "C", container COLLATE "C", name COLLATE "C", ${id} COLLATE "C"`;
    const versions = await q.query<ExpiredRecord>(`SELECT account, container, name, version_id AS id FROM blob_versions WHERE ${expiredBy('$1')} ${order('version_id')}`, [now]);
    const deleted = await q.query<ExpiredRecord>(`SELECT account, container, name, deleted_time AS id FROM deleted_blobs WHERE ${expiredBy('$1')} ${order('deleted_time')}`, [now]);
    return { versions: versions.rows, deleted: deleted.rows };
  }

  /**
   * Lets go of one expired version or soft-deleted copy, if it is still there
   * and still expired (another node may have purged or restored it since it
   * was listed); under the blob's lock.
   */
  async purge(tx: BlobTx, kind: 'version' | 'deleted', record: ExpiredRecord, now: number): Promise<void> {
    const [table, column] = kind === 'version' ? ['blob_versions', 'version_id'] : ['deleted_blobs', 'deleted_time'];
    const { rows } = await tx.q.query<{ doc: string }>(`DELETE FROM ${table} WHERE ${KEY} AND ${column} = $4 AND ${expiredBy('$5')} RETURNING doc`, [
      record.account,
      record.container,
      record.name,
      record.id,
      now,
    ]);
    if (rows[0]) await this.drop(tx, JSON.parse(rows[0].doc), `${kind}:${record.id}`, record);
  }

  /** Names in a container that have a blob, versions or soft-deleted copies (or, `withStaged`, uncommitted blocks), in byte order. */
  async names(q: Queryable, account: string, container: string, range: { after: string; from: string; end: string }, limit: number, withStaged: boolean): Promise<string[]> {
    const within = (column: string) =>
      `account = $1 AND container = $2 AND ${column} COLLATE "C" > $3 AND ${column} COLLATE "C" >= $4 AND ${column} COLLATE "C" < $5`;
    const selects = ['blobs', 'blob_versions', 'deleted_blobs'].map((table) => `SELECT name FROM ${table} WHERE ${within('name')}`);
    if (withStaged) selects.push(`SELECT blob AS name FROM blocks WHERE ${within('blob')}`);
    const { rows } = await q.query<{ name: string }>(`SELECT name FROM (${selects.join(' UNION ')}) AS named ORDER BY name COLLATE "C" LIMIT $6`, [account, container, range.after, range.from, range.end, limit]);
    return rows.map((row) => row.name);
  }

  private async insertVersion(tx: BlobTx, current: BlobRecord, id: string): Promise<void> {
    await tx.q.query(
      'INSERT INTO blob_versions (account, container, name, version_id, doc) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account, container, name, version_id) DO UPDATE SET doc = EXCLUDED.doc',
      [current.account, current.container, current.name, id, recordDoc({ ...current, versionId: id, lease: undefined })],
    );
  }

  private async updateVersion(tx: BlobTx, version: BlobRecord, id: string): Promise<void> {
    await tx.q.query(`UPDATE blob_versions SET doc = $5 WHERE ${KEY} AND version_id = $4`, [version.account, version.container, version.name, id, recordDoc(version)]);
  }

  private async drop(tx: BlobTx, record: BlobRecord, owner: string, key: BlobKey): Promise<void> {
    tx.refs.release(extentIds(record));
    await this.pages.drop(tx, pageOwner({ ...key, snapshot: owner }));
  }
}

/** A version's record from its row: where its pages are kept follows from its id (as blob-history.ts reads it). */
function versionRecord(doc: string, key: BlobKey): BlobRecord {
  const version: BlobRecord = { ...JSON.parse(doc), ...key };
  version.pagesKey = `version:${version.versionId}`;
  return version;
}
