import type pg from 'pg';
import type { BlobKey } from '../blob-history.js';
import { ContentLedger } from './content-ledger.js';
import { transaction } from './sql.js';

/** A write transaction of the Blob store: its client, and the content references it changes (settled last). */
export interface BlobTx {
  q: pg.PoolClient;
  refs: ContentLedger;
}

/**
 * Runs `work` as one write transaction on one blob, under the blob's lock
 * (see the locking scheme in blobs.ts): the container's row FOR SHARE first,
 * then the blob's advisory lock, then, last (ContentLedger.settle), the
 * content rows. `containerExists` says whether the container was there; when
 * it is not, no lock is taken, since nothing of it can be written either.
 *
 * A commit that takes another blob's written pages (a page blob's copy)
 * names it as `source`: it is locked too, so that the pages read are still
 * there, and still referenced, when the commit adds its own references. The
 * two containers, then the two blobs, are locked in one order (by name, by
 * lock key), the order any other transaction holding both would take.
 */
export function blobTransaction<T>(pool: pg.Pool, key: BlobKey, work: (tx: BlobTx, containerExists: boolean) => Promise<T>, source?: BlobKey): Promise<T> {
  return writeTransaction(pool, async (tx) => {
    if (source) return work(tx, await lockWithSource(tx, key, source));
    // FOR SHARE in a subquery of its own: its rows are locked before the outer select asks for the advisory lock.
    const { rowCount } = await tx.q.query(
      `SELECT pg_advisory_xact_lock(hashtextextended($3, 0))
         FROM (SELECT 1 FROM containers WHERE account = $1 AND name = $2 FOR SHARE) AS container`,
      [key.account, key.container, blobLockName(key)],
    );
    return work(tx, rowCount === 1);
  });
}

/** Locks a blob and the blob whose pages it copies, as blobTransaction says; answers whether the first one's container exists. */
async function lockWithSource(tx: BlobTx, key: BlobKey, source: BlobKey): Promise<boolean> {
  const { rows } = await tx.q.query<{ account: string; name: string }>(
    `SELECT account, name FROM containers WHERE (account = $1 AND name = $2) OR (account = $3 AND name = $4)
     ORDER BY account COLLATE "C", name COLLATE "C" FOR SHARE`,
    [key.account, key.container, source.account, source.container],
  );
  const exists = rows.some((row) => row.account === key.account && row.name === key.container);
  if (exists) {
    await tx.q.query(
      `SELECT pg_advisory_xact_lock(lock) FROM (SELECT DISTINCT hashtextextended(name, 0) AS lock FROM unnest($1::text[]) AS name ORDER BY lock) AS locks`,
      [[blobLockName(key), blobLockName(source)]],
    );
  }
  return exists;
}

/** A write transaction that takes its own locks (container-wide writes lock the container rows FOR UPDATE). */
export function writeTransaction<T>(pool: pg.Pool, work: (tx: BlobTx) => Promise<T>): Promise<T> {
  return transaction(pool, async (q) => {
    const tx = { q, refs: new ContentLedger() };
    const result = await work(tx);
    // Whatever the work noted and did not settle itself (references it only added) is applied before the commit.
    await tx.refs.settle(q);
    return result;
  });
}

/**
 * What a blob's advisory lock is keyed on (hashed to 64 bits): account and
 * container names hold no '/', so the name is the blob's alone. Two blobs whose
 * hashes collide only wait for each other.
 */
function blobLockName({ account, container, name }: BlobKey): string {
  return `${account}/${container}/${name}`;
}
