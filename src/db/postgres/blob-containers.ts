import type pg from 'pg';
import { extentIds } from '../blob-history.js';
import { CONTENT_ROW_TABLES, containerDoc, prefixEnd, RECORD_TABLES, type Precondition } from '../blobs.js';
import type { ContainerRecord, ListPage } from '../records.js';
import { expiredBy } from './blob-history.js';
import { writeTransaction, type BlobTx } from './blob-tx.js';
import type { Queryable } from './sql.js';

/**
 * Each blob table's primary key order within an account: the order SQLite
 * visits a scope's rows in (by key, byte by byte), so that a container's or
 * an account's content is released, and orphaned, in the same order.
 */
const KEY_ORDER: Record<string, string> = {
  blobs: 'container COLLATE "C", name COLLATE "C"',
  blob_snapshots: 'container COLLATE "C", name COLLATE "C", snapshot COLLATE "C"',
  blob_versions: 'container COLLATE "C", name COLLATE "C", version_id COLLATE "C"',
  deleted_blobs: 'container COLLATE "C", name COLLATE "C", deleted_time COLLATE "C"',
  blocks: 'container COLLATE "C", blob COLLATE "C", block_id COLLATE "C"',
  append_blocks: 'container COLLATE "C", blob COLLATE "C", seq',
  page_ranges: 'container COLLATE "C", blob COLLATE "C", snapshot COLLATE "C", first_byte',
};

/**
 * Containers, for the PostgreSQL Blob store. A container-wide write (update,
 * lease change, delete, rename, an account's deletion) locks the container's
 * row FOR UPDATE: it then waits for the blob writes in flight in the container,
 * each of which holds the row FOR SHARE, and the next ones wait for it. Create
 * relies on the primary key: of two creates, one inserts and one finds it taken.
 */
export class PgBlobContainers {
  constructor(private readonly pool: pg.Pool) {}

  async get(account: string, name: string): Promise<ContainerRecord | undefined> {
    const { rows } = await this.pool.query<{ doc: string }>('SELECT doc FROM containers WHERE account = $1 AND name = $2', [account, name]);
    return rows[0] && toContainer(rows[0].doc, account, name);
  }

  async create(container: ContainerRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query('INSERT INTO containers (account, name, doc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      container.account,
      container.name,
      containerDoc(container),
    ]);
    return rowCount === 1;
  }

  update(container: ContainerRecord, precondition?: Precondition<ContainerRecord>): Promise<void> {
    return writeTransaction(this.pool, async ({ q }) => {
      precondition?.(await lockContainer(q, container.account, container.name));
      await writeDoc(q, container.account, container.name, container);
    });
  }

  change(account: string, name: string, change: (current: ContainerRecord | undefined) => ContainerRecord): Promise<ContainerRecord> {
    return writeTransaction(this.pool, async ({ q }) => {
      const next = change(await lockContainer(q, account, name));
      await writeDoc(q, account, name, next);
      return next;
    });
  }

  delete(account: string, name: string, precondition?: Precondition<ContainerRecord>): Promise<string[] | undefined> {
    return writeTransaction(this.pool, async (tx) => {
      const current = await lockContainer(tx.q, account, name);
      precondition?.(current);
      if (!current) return undefined;
      return this.drop(tx, account, name);
    });
  }

  /**
   * Rename, and soft delete and restore (see BlobRepo.moveContainer). Both
   * names are locked, in name order; a target that does not exist is held by
   * a placeholder row for the transaction, so that a Create Container of that
   * name meanwhile waits and then finds it taken, as it would after the move,
   * and one that got in first is seen by `change`, which refuses as it would
   * over SQLite, rather than the rename failing on the primary key.
   */
  move(account: string, from: string, to: string, change: (source: ContainerRecord | undefined, target: ContainerRecord | undefined) => ContainerRecord): Promise<ContainerRecord> {
    return writeTransaction(this.pool, async ({ q }) => {
      const { rows } = await q.query<{ name: string; doc: string }>(
        'SELECT name, doc FROM containers WHERE account = $1 AND name = ANY($2::text[]) ORDER BY name COLLATE "C" FOR UPDATE',
        [account, [from, to]],
      );
      const find = (name: string) => {
        const row = rows.find((each) => each.name === name);
        return row && toContainer(row.doc, account, name);
      };
      let target = find(to);
      let placeholder = false;
      if (!target) {
        const { rowCount } = await q.query("INSERT INTO containers (account, name, doc) VALUES ($1, $2, '{}') ON CONFLICT DO NOTHING", [account, to]);
        placeholder = rowCount === 1;
        // Created by another transaction since the select above: the move sees it, as SQLite's would.
        if (!placeholder) target = await lockContainer(q, account, to);
      }
      const moved = change(find(from), target);
      for (const table of [...CONTENT_ROW_TABLES, ...RECORD_TABLES]) {
        await q.query(`UPDATE ${table} SET container = $1 WHERE account = $2 AND container = $3`, [to, account, from]);
      }
      if (placeholder) await q.query('DELETE FROM containers WHERE account = $1 AND name = $2', [account, to]);
      await q.query('UPDATE containers SET name = $1, doc = $2 WHERE account = $3 AND name = $4', [to, containerDoc({ ...moved, name: to }), account, from]);
      return { ...moved, name: to };
    });
  }

  /** Containers kept by a container delete retention policy ('~' names, which listings skip), with the names they are kept under. */
  async hidden(account: string): Promise<{ hiddenName: string; container: ContainerRecord }[]> {
    const { rows } = await this.pool.query<{ name: string; doc: string }>(
      `SELECT name, doc FROM containers WHERE account = $1 AND substr(name, 1, 1) = '~' ORDER BY name COLLATE "C"`,
      [account],
    );
    return rows.map((row) => ({ hiddenName: row.name, container: toContainer(row.doc, account, row.name) }));
  }

  async list(account: string, prefix: string, after: string, limit: number): Promise<ListPage<ContainerRecord>> {
    const { rows } = await this.pool.query<{ name: string; doc: string }>(
      `SELECT name, doc FROM containers
       WHERE account = $1 AND name COLLATE "C" > $2 AND name COLLATE "C" >= $3 AND name COLLATE "C" < $4 AND substr(name, 1, 1) <> '~'
       ORDER BY name COLLATE "C" LIMIT $5`,
      [account, after, prefix, prefixEnd(prefix), limit + 1],
    );
    const items = rows.slice(0, limit).map((row) => toContainer(row.doc, account, row.name));
    return { items, next: rows.length > limit ? items[items.length - 1]!.name : undefined };
  }

  /**
   * Deletes the soft-deleted containers whose retention has run out, each in a
   * transaction of its own that checks again that it still has (a restore may
   * have come first); returns the orphaned content.
   */
  async purgeExpired(now: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ account: string; name: string }>(
      `SELECT account, name FROM containers WHERE ${expiredBy('$1')} ORDER BY account COLLATE "C", name COLLATE "C"`,
      [now],
    );
    const orphans: string[] = [];
    for (const { account, name } of rows) {
      const dropped = await writeTransaction(this.pool, async (tx) => {
        const current = await lockContainer(tx.q, account, name);
        if (!(typeof current?.retentionExpires === 'number' && current.retentionExpires <= now)) return [];
        return this.drop(tx, account, name);
      });
      orphans.push(...dropped);
    }
    return orphans;
  }

  /**
   * Deletes everything an account holds in the blob tables, its containers and
   * service properties, with every container of it locked; the caller's
   * transaction then answers the orphans.
   */
  async dropAccount(tx: BlobTx, account: string): Promise<string[]> {
    await tx.q.query('SELECT 1 FROM containers WHERE account = $1 ORDER BY name COLLATE "C" FOR UPDATE', [account]);
    await dropRows(tx, 'account = $1', [account]);
    for (const table of ['containers', 'service_properties']) await tx.q.query(`DELETE FROM ${table} WHERE account = $1`, [account]);
    return tx.refs.settle(tx.q);
  }

  /** Deletes a locked container with everything in it; answers the orphaned content. */
  private async drop(tx: BlobTx, account: string, name: string): Promise<string[]> {
    await dropRows(tx, 'account = $1 AND container = $2', [account, name]);
    await tx.q.query('DELETE FROM containers WHERE account = $1 AND name = $2', [account, name]);
    return tx.refs.settle(tx.q);
  }
}

/** The container's record, its row locked for the rest of the transaction. */
async function lockContainer(q: Queryable, account: string, name: string): Promise<ContainerRecord | undefined> {
  const { rows } = await q.query<{ doc: string }>('SELECT doc FROM containers WHERE account = $1 AND name = $2 FOR UPDATE', [account, name]);
  return rows[0] && toContainer(rows[0].doc, account, name);
}

async function writeDoc(q: Queryable, account: string, name: string, container: ContainerRecord): Promise<void> {
  await q.query('UPDATE containers SET doc = $1 WHERE account = $2 AND name = $3', [containerDoc(container), account, name]);
}

/**
 * Deletes the rows of every blob table under a scope (a container, an
 * account), releasing what each holds: the records' content first, then the
 * content rows', each table in key order (as BlobRepo's ScopedRows).
 */
async function dropRows(tx: BlobTx, where: string, scope: string[]): Promise<void> {
  for (const table of RECORD_TABLES) {
    const { rows } = await tx.q.query<{ doc: string }>(`WITH gone AS (DELETE FROM ${table} WHERE ${where} RETURNING *) SELECT doc FROM gone ORDER BY ${KEY_ORDER[table]}`, scope);
    for (const row of rows) tx.refs.release(extentIds(JSON.parse(row.doc)));
  }
  for (const table of CONTENT_ROW_TABLES) {
    const { rows } = await tx.q.query<{ content_id: string }>(
      `WITH gone AS (DELETE FROM ${table} WHERE ${where} RETURNING *) SELECT content_id FROM gone ORDER BY ${KEY_ORDER[table]}`,
      scope,
    );
    tx.refs.release(rows.map((row) => row.content_id));
  }
}

function toContainer(doc: string, account: string, name: string): ContainerRecord {
  return { ...JSON.parse(doc), account, name };
}
