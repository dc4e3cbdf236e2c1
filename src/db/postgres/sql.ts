import type pg from 'pg';

/** The pool, or the client of a transaction: what a dialect's reads and writes run on. */
export type Queryable = pg.Pool | pg.PoolClient;

/** `expr` with A-Z folded to a-z and nothing else, as SQLite's lower() and NOCASE fold. */
export function asciiLower(expr: string): string {
  return `translate(${expr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;
}

/** Milliseconds on PostgreSQL's clock: leases and heartbeats of several nodes are compared on the one clock they share. */
export const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** PostgreSQL's answers to a serializable transaction that lost a race: it may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 5;

/**
 * Runs `work` in one transaction on a client of its own: committed when it
 * returns, rolled back when it throws. `serializable` transactions run again
 * when PostgreSQL reports a serialization failure or deadlock; the steps
 * that read several rows and write others (a rotation's) then behave as on
 * SQLite's single writer.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: { serializable?: boolean } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(options.serializable ? 'BEGIN ISOLATION LEVEL SERIALIZABLE' : 'BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      if (options.serializable && attempt < ATTEMPTS && RETRYABLE.has((error as { code?: string }).code ?? '')) continue;
      throw error;
    } finally {
      client.release();
    }
  }
}

/** A transaction whose steps must see and change rows as if alone (see transaction). */
export function serializable<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return transaction(pool, work, { serializable: true });
}
