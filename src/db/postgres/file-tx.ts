import type pg from 'pg';
import { ContentLedger } from './content-ledger.js';
import { transaction, type Queryable } from './sql.js';

/** A write transaction of the File store: its client, and the content references it changes (settled last). */
export interface FileTx {
  q: pg.PoolClient;
  refs: ContentLedger;
}

/** A place in a share: a directory's or file's key (lower-cased path, '' for the root). */
export interface NodeKey {
  account: string;
  share: string;
  key: string;
}

/**
 * Runs `work` as one write transaction of the File store (see the locking
 * scheme in files.ts); the content references it noted are settled last, and
 * the files that lost their last one come back as `orphans`.
 */
export function fileWrite<T>(pool: pg.Pool, work: (tx: FileTx) => Promise<T>): Promise<{ result: T; orphans: string[] }> {
  return transaction(pool, async (q) => {
    const tx = { q, refs: new ContentLedger() };
    const result = await work(tx);
    return { result, orphans: await tx.refs.settle(q) };
  });
}

/**
 * Locks the shares `keys` lie in, then each key's advisory lock, each in one
 * order, so two writes that lock the same places never wait for each other in
 * a circle. The share rows are locked FOR KEY SHARE: the weakest row lock that
 * still keeps the share's delete (FOR UPDATE) out until this commits, while a
 * change of the share's properties (FOR NO KEY UPDATE) need not wait. A share
 * that is not there is not locked: the write then finds nothing of it.
 */
export async function lockNodes(q: Queryable, ...keys: NodeKey[]): Promise<void> {
  if (keys.length === 1) {
    // The common case in one round trip. FOR KEY SHARE in a subquery of its own: the row is locked before the outer select asks for the advisory lock.
    const [key] = keys as [NodeKey];
    await q.query(`SELECT pg_advisory_xact_lock(hashtextextended($3, 0)) FROM (SELECT 1 FROM shares WHERE account = $1 AND name = $2 FOR KEY SHARE) AS share`, [
      key.account,
      key.share,
      lockName(key),
    ]);
    return;
  }
  const shares = [...new Map(keys.map((key) => [`${key.account}/${key.share}`, key])).values()];
  await q.query(
    `SELECT 1 FROM shares WHERE (account, name) IN (SELECT * FROM unnest($1::text[], $2::text[]))
     ORDER BY account COLLATE "C", name COLLATE "C" FOR KEY SHARE`,
    [shares.map((share) => share.account), shares.map((share) => share.share)],
  );
  for (const name of [...new Set(keys.map(lockName))].sort()) await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name]);
}

/**
 * What a node's advisory lock is keyed on (hashed to 64 bits): account and
 * share names hold no '/', so the name is the node's alone, and the prefix
 * keeps it apart from the Blob store's locks. Two names whose hashes collide
 * only wait for each other.
 */
function lockName({ account, share, key }: NodeKey): string {
  return `file:${account}/${share}/${key}`;
}
