/** A node of a multi-node deployment, as the others see it. */
export interface NodeInfo {
  id: string;
  /** host:pid, for an operator reading the nodes table. */
  address: string;
  started: number;
}

/**
 * What the nodes of one deployment tell each other through the database
 * (PostgreSQL: src/db/postgres/cluster.ts). A single SQLite node has nobody
 * to tell, and has none.
 *
 * Every change to an account bumps the key epoch in its own transaction. A
 * node serves authenticated requests only while it has checked in recently
 * with the current epoch loaded, and a writer waits until every live node has
 * (or has let its lease run out) before it answers.
 */
export interface ClusterStore {
  /**
   * Records the node's heartbeat and the epoch it has loaded, on the
   * database's clock; answers the current epoch, read after any bump under way
   * has committed (so a heartbeat that answers an old epoch is one every
   * later bump sees), and whether any other node is live (heartbeat within
   * `leaseMs`).
   */
  checkIn(node: NodeInfo, loadedEpoch: number, leaseMs: number): Promise<{ epoch: number; othersLive: boolean }>;
  /** The node's first check-in; it waits while another node runs `alone` (see there). */
  join(node: NodeInfo): Promise<void>;
  /**
   * Runs `work` while no node can join and no other node runs `alone`,
   * telling it the addresses of the nodes other than `nodeId` that are live
   * (heartbeat within `leaseMs`): a node alone may remove content nobody
   * refers to, as nobody else is writing any, and a starting node makes the
   * data directory's shared files (CA, signing key, admin client) one at a time.
   */
  alone<T>(nodeId: string, leaseMs: number, work: (others: string[]) => Promise<T>): Promise<T>;
  currentEpoch(): Promise<number>;
  /** Moves the key epoch on and notifies every node, as a change to an account does: each node then checks in. */
  bumpEpoch(): Promise<void>;
  /** Each live node (heartbeat within `leaseMs`) that has not loaded `epoch`: its address, and the milliseconds until its lease runs out. */
  laggards(epoch: number, leaseMs: number): Promise<{ address: string; remainingMs: number }[]>;
  leave(nodeId: string): Promise<void>;
  /** Calls `onEpoch` when an account changes, `onCheckIn` when a node has loaded a new epoch. */
  listen(handlers: { onEpoch(): void; onCheckIn(): void; onError(error: Error): void }): Promise<{ close(): Promise<void> }>;
}
