// Cluster membership: this node registers at start and leaves at stop, and its heartbeat goes with its
// lease renewals (leases.ts). How many nodes are alive decides whether overlap forbid must be checked
// across nodes, and how much each node holds in memory.
import type { Store } from "../store/client.ts";
import { joinNode, leaveNode, liveNodeCount } from "../store/nodes.ts";

export class Membership {
  #live = 1;

  constructor(private readonly deps: { store: Store; nodeId: string; version: string; lease: number; executors: readonly string[] }) {}

  /** Nodes alive at the last refresh, this one included. */
  get live(): number {
    return this.#live;
  }

  join(now: number): Promise<void> {
    return joinNode(this.deps.store, this.deps.nodeId, now, this.deps.version, this.deps.executors);
  }

  /** Counts the nodes whose heartbeat is within a lease of `now` (known within a poll). */
  async refresh(now: number): Promise<void> {
    this.#live = Math.max(1, await liveNodeCount(this.deps.store, now - this.deps.lease));
  }

  leave(): Promise<void> {
    return leaveNode(this.deps.store, this.deps.nodeId);
  }
}
