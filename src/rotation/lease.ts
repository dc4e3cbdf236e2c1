import type { RotationStore } from '../db/rotations.js';

/** The node a rotation runs on, and how long its claim on a rotation lasts without renewal. */
export interface RotationNode {
  id: string;
  leaseMs: number;
  /** True when other nodes share the database (PostgreSQL): a rotation another node holds is left to it. */
  shared: boolean;
}

/**
 * A run's hold on its rotation: renewed every third of the lease. A run stops
 * at its next step boundary once the hold is no longer sure, which is before
 * the store lets another node claim it (the hold is counted from when the
 * renewal was sent, on this process's clock; the store counts from when it
 * arrived).
 */
export class RotationLease {
  private heldUntil: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: RotationStore,
    private readonly rotationId: string,
    private readonly node: RotationNode,
    claimedAt: number,
  ) {
    this.heldUntil = claimedAt + node.leaseMs;
    this.timer = setInterval(() => void this.renew(), node.leaseMs / 3).unref();
  }

  held(): boolean {
    return performance.now() < this.heldUntil;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async renew(): Promise<void> {
    const sent = performance.now();
    try {
      this.heldUntil = (await this.store.claim(this.rotationId, this.node.id, this.node.leaseMs)) ? sent + this.node.leaseMs : 0;
    } catch {
      // The database did not answer: the hold runs out on its own unless the next renewal gets through.
    }
  }
}
