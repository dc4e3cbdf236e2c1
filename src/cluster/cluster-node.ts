import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ClusterStore, NodeInfo } from '../db/cluster.js';
import type { Logger } from '../server/log.js';
import type { KeyRing } from '../storage/auth/keyring.js';

export interface ClusterNodeOptions {
  /** How long a node trusts its key ring without confirming it with the database; also how long a writer waits for a silent node. */
  leaseMs: number;
  /** Reads every account from the store into the key ring. */
  reload(): Promise<void>;
  logger: Logger;
}

/**
 * This node's membership of a multi-node deployment, and the guarantee that
 * a key regenerated through any node is refused by every node once the
 * regeneration returns:
 *
 * - every change to an account bumps the key epoch in its transaction and
 *   notifies every node at commit (a trigger, src/db/postgres/schema.ts);
 * - a node, notified or every fifth of its lease, checks in: it records a
 *   heartbeat and learns the current epoch; behind, it reloads its key ring
 *   and checks in again;
 * - a check-in that finds the node current confirms its key ring for one lease
 *   from the moment it was sent; past that, the node answers authenticated
 *   requests with 503 ServerBusy (KeyRing.current), so a node cut off from the
 *   database (or stopped) never accepts a key regenerated meanwhile;
 * - the writer (KeyRing.changed) waits until every live node has checked in at
 *   the new epoch, or has let its lease run out (a node of this host whose
 *   process is gone is not waited for).
 *
 * Only durations are compared on each clock (the database's for leases, this
 * process's monotonic one for the confirmation), never one clock with another.
 *
 * The same protocol tells a node when it is alone, and may then answer reads
 * from memory (`sole`, cacheWhileAlone): a check-in that finds no other live
 * node makes it sole for one lease, and anything else (another node live, an
 * epoch it has not loaded, a notification) ends that before the node checks
 * in again. A node that starts, or comes back from a lapse, while others are
 * live moves the epoch on and waits for every one of them to check in (so
 * to stop being sole) or to run out of its lease, before it serves.
 */
export class ClusterNode {
  readonly info: NodeInfo = { id: randomUUID(), address: processAddress(), started: Date.now() };
  private loaded = -1;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private listener: { close(): Promise<void> } | undefined;
  private listening: Promise<void> | undefined;
  private readonly checkIns = new Set<() => void>();
  /** Check-ins of other nodes heard of so far: one heard while a laggards query was out means asking again, not waiting. */
  private checkInsHeard = 0;
  private failing = false;
  /** Whether another node was live at the last check-in: content another node may be reading is then unlinked late. */
  othersLive = false;
  /** Until when the key ring is confirmed (performance.now()); 0: not yet, or lapsed. */
  private confirmedUntil = 0;
  /** Until when this node knows itself alone, and which unbroken stretch of being alone that is. */
  private soleUntil = 0;
  private solePeriod = 0;

  constructor(
    private readonly store: ClusterStore,
    private readonly keyring: KeyRing,
    private readonly options: ClusterNodeOptions,
  ) {}

  /** Joins, with the key ring confirmed before this resolves; until then authenticated requests are refused. */
  async start(): Promise<void> {
    this.keyring.joinCluster(() => this.settled());
    await this.store.join(this.info);
    await this.listen();
    await this.sync();
    this.timer = setInterval(() => this.tick(), Math.max(50, this.options.leaseMs / 5)).unref();
  }

  /** Leaves: writers stop waiting for this node at once rather than after its lease. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => {});
    await this.listener?.close().catch(() => {});
    await this.store.leave(this.info.id).catch(() => {});
  }

  /**
   * Runs `work` while no node joins, telling it whether other nodes are live
   * (see ClusterStore.alone). A node of this host whose process is gone is
   * not, whatever its lease says: a server restarted after a kill -9 finds
   * its former self that way.
   */
  alone<T>(work: (othersLive: boolean) => Promise<T>): Promise<T> {
    return this.store.alone(this.info.id, this.options.leaseMs, (others) => work(others.some((address) => !deadHere(address))));
  }

  /**
   * While no other node can be writing, an id of this unbroken stretch of being
   * alone (a new one after any break: what was read before it may be stale);
   * undefined otherwise.
   */
  sole(): number | undefined {
    return performance.now() < this.soleUntil ? this.solePeriod : undefined;
  }

  /** Resolves once every live node has loaded the accounts as they are now (or its lease has run out). */
  async settled(): Promise<void> {
    const epoch = await this.store.currentEpoch();
    for (;;) {
      const heard = this.checkInsHeard;
      // A node of this host whose process is gone (kill -9) loads nothing more: not waited for.
      const remaining = (await this.store.laggards(epoch, this.options.leaseMs)).filter((node) => !deadHere(node.address)).map((node) => node.remainingMs);
      if (remaining.length === 0) return;
      if (this.checkInsHeard !== heard) continue;
      // Woken by the next check-in anywhere, or when the first silent node's lease runs out.
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timeout);
          this.checkIns.delete(wake);
          resolve();
        };
        const timeout = setTimeout(wake, Math.max(1, Math.min(...remaining)));
        this.checkIns.add(wake);
      });
    }
  }

  /** Checks in now; calls that arrive while one runs share the next. */
  private sync(): Promise<void> {
    if (this.running === undefined) return this.startSync();
    this.queued ??= this.running.then(
      () => this.startSync(),
      () => this.startSync(),
    );
    return this.queued;
  }

  private startSync(): Promise<void> {
    this.queued = undefined;
    this.running = this.checkIn().finally(() => (this.running = undefined));
    return this.running;
  }

  private async checkIn(): Promise<void> {
    let announced = false;
    for (;;) {
      const sent = performance.now();
      const { epoch: current, othersLive } = await this.store.checkIn(this.info, this.loaded, this.options.leaseMs);
      this.othersLive = othersLive;
      // Before the check-in that acknowledges a new epoch, which lets a starting node serve.
      if (othersLive || current !== this.loaded) this.soleUntil = 0;
      if (current === this.loaded) {
        // Starting, or back from a lapse (judged now: this check-in may have been sent before it, and
        // answered after): other nodes may have taken themselves for alone meanwhile. They stop
        // answering from memory before this node serves again (see the class comment).
        if (!announced && othersLive && performance.now() >= this.confirmedUntil) {
          announced = true;
          await this.store.bumpEpoch();
          continue;
        }
        if (announced) await this.settled();
        const until = sent + this.options.leaseMs;
        if (!othersLive) {
          if (performance.now() >= this.soleUntil) this.solePeriod++;
          this.soleUntil = until;
        }
        this.confirmedUntil = until;
        this.keyring.confirm(until);
        return;
      }
      // The epoch was read after the changes it counts had committed: a reload from here on sees them.
      await this.options.reload();
      this.loaded = current;
    }
  }

  private tick(): void {
    if (this.listener === undefined) void this.listen().catch(() => {});
    this.sync().then(
      () => {
        if (this.failing) this.options.logger.info({ node: this.info.id }, 'key ring confirmed with the database again');
        this.failing = false;
      },
      (error: unknown) => {
        // Once per outage, not once per tick; the lease turns requests away meanwhile.
        if (!this.failing) this.options.logger.error({ err: error, node: this.info.id }, 'cannot confirm the key ring with the database; authenticated requests are refused once the lease runs out');
        this.failing = true;
      },
    );
  }

  private listen(): Promise<void> {
    this.listening ??= this.store
      .listen({
        onEpoch: () => {
          this.soleUntil = 0;
          void this.sync().catch(() => {});
        },
        onCheckIn: () => {
          this.checkInsHeard++;
          for (const wake of [...this.checkIns]) wake();
        },
        onError: () => {
          // The heartbeat still catches every change; the next tick listens again.
          const listener = this.listener;
          this.listener = undefined;
          void listener?.close().catch(() => {});
        },
      })
      .then((listener) => {
        this.listener = listener;
      })
      .finally(() => (this.listening = undefined));
    return this.listening;
  }
}

/** This process as nodes name each other: `host:pid`. */
export function processAddress(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** Whether `address` (host:pid) names a process of this host that no longer runs. */
export function deadHere(address: string): boolean {
  const colon = address.lastIndexOf(':');
  if (address.slice(0, colon) !== os.hostname()) return false;
  try {
    process.kill(Number(address.slice(colon + 1)), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
