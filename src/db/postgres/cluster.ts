import pg from 'pg';
import type { ClusterStore, NodeInfo } from '../cluster.js';
import { NOW_MS, transaction } from './sql.js';

/** Taken shared by a node joining, exclusively by a node that must be alone (ASCII "mljoin"). */
const JOIN_LOCK = '120364023736686';
/** A node not heard of for this long is gone for good: its row is removed by whichever node checks in. */
const FORGET_MS = 24 * 3600_000;

/**
 * The PostgreSQL dialect of the cluster: a `nodes` row per node, the key
 * epoch (bumped by a trigger on `accounts`), and two notification channels.
 */
export class PgClusterStore implements ClusterStore {
  private forgotten = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
  ) {}

  async checkIn(node: NodeInfo, loadedEpoch: number, leaseMs: number): Promise<{ epoch: number; othersLive: boolean }> {
    // FOR SHARE waits for a bump under way (it holds the epoch row until commit) and then reads
    // its result; a bump that starts later waits for this heartbeat, and so sees it.
    // A node that moved to a new epoch wakes the writers waiting for it (at the statement's commit) rather than leave them to poll.
    const { rows } = await this.pool.query<{ epoch: string; others: boolean }>(
      `WITH current AS (SELECT epoch FROM key_epoch WHERE id = 1 FOR SHARE),
            previous AS (SELECT epoch FROM nodes WHERE id = $1),
            upsert AS (
              INSERT INTO nodes (id, address, started, heartbeat, epoch) VALUES ($1, $2, $3, ${NOW_MS}, $4)
              ON CONFLICT (id) DO UPDATE SET heartbeat = excluded.heartbeat, epoch = excluded.epoch)
       SELECT current.epoch,
              EXISTS (SELECT 1 FROM nodes WHERE id <> $1 AND heartbeat + $5 > ${NOW_MS}) AS others,
              CASE WHEN (SELECT epoch FROM previous) IS DISTINCT FROM $4 THEN pg_notify('mlspace_key_acks', '') END AS woken
       FROM current`,
      [node.id, node.address, node.started, loadedEpoch, leaseMs],
    );
    const row = rows[0]!;
    if (Date.now() - this.forgotten > 3600_000) {
      this.forgotten = Date.now();
      await this.pool.query(`DELETE FROM nodes WHERE heartbeat < ${NOW_MS} - $1`, [FORGET_MS]);
    }
    return { epoch: Number(row.epoch), othersLive: row.others };
  }

  async join(node: NodeInfo): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock_shared($1)', [JOIN_LOCK]);
      await client.query(`INSERT INTO nodes (id, address, started, heartbeat, epoch) VALUES ($1, $2, $3, ${NOW_MS}, -1) ON CONFLICT (id) DO NOTHING`, [
        node.id,
        node.address,
        node.started,
      ]);
    });
  }

  async alone<T>(nodeId: string, leaseMs: number, work: (others: string[]) => Promise<T>): Promise<T> {
    // A session lock, on a connection held for the whole of `work`, which runs outside any transaction.
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [JOIN_LOCK]);
      try {
        const { rows } = await client.query<{ address: string }>(`SELECT address FROM nodes WHERE id <> $1 AND heartbeat + $2 > ${NOW_MS}`, [nodeId, leaseMs]);
        return await work(rows.map((row) => row.address));
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [JOIN_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async currentEpoch(): Promise<number> {
    const { rows } = await this.pool.query<{ epoch: string }>('SELECT epoch FROM key_epoch WHERE id = 1');
    return Number(rows[0]!.epoch);
  }

  async bumpEpoch(): Promise<void> {
    // The same two steps as the trigger on accounts; the notification goes out at commit.
    await this.pool.query("WITH bumped AS (UPDATE key_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch) SELECT pg_notify('mlspace_keys', '') FROM bumped");
  }

  async laggards(epoch: number, leaseMs: number): Promise<{ address: string; remainingMs: number }[]> {
    const { rows } = await this.pool.query<{ address: string; remaining: string }>(
      `SELECT address, heartbeat + $2 - ${NOW_MS} AS remaining FROM nodes WHERE epoch < $1 AND heartbeat + $2 > ${NOW_MS}`,
      [epoch, leaseMs],
    );
    return rows.map((row) => ({ address: row.address, remainingMs: Number(row.remaining) }));
  }

  async leave(nodeId: string): Promise<void> {
    await this.pool.query('DELETE FROM nodes WHERE id = $1', [nodeId]);
  }

  async listen(handlers: { onEpoch(): void; onCheckIn(): void; onError(error: Error): void }): Promise<{ close(): Promise<void> }> {
    // LISTEN holds its connection for good: a client of its own, not one of the pool's.
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('error', handlers.onError);
    client.on('notification', (message) => (message.channel === 'mlspace_keys' ? handlers.onEpoch() : handlers.onCheckIn()));
    await client.connect();
    await client.query('LISTEN mlspace_keys');
    await client.query('LISTEN mlspace_key_acks');
    return { close: () => client.end() };
  }
}
