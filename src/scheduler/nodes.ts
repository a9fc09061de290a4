// Cluster membership: this node registers at start and leaves at stop, and beats its heartbeat in between
// (heartbeat.ts). How many nodes are alive decides whether overlap forbid must be checked
// across nodes, and how much each node holds in memory. The same read compares this node's clock with the
// database's: every node's slots, leases and heartbeats are times, so a node whose clock is off would fire
// slots early or late and take over runs whose leases had not lapsed.
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import type { GroupWriter } from "../store/group-writer.ts";
import { beatNode, joinNode, leaveNode, nodeSilences } from "../store/nodes.ts";

export class Membership {
  #live = 1;
  #dead: { id: string; silentMs: number }[] = [];
  /** How far this node's clock was ahead of the database's at the last refresh (negative: behind). */
  #skewMs = 0;

  constructor(
    private readonly deps: {
      store: Store;
      writer: GroupWriter;
      clock: Clock;
      log: Logger;
      nodeId: string;
      version: string;
      nodeTimeout: number;
      executors: readonly string[];
      maxClockSkew: number;
    },
  ) {}

  /** Why this node must not claim or recover now (its clock is off), or null. */
  get clockProblem(): string | null {
    const max = this.deps.maxClockSkew;
    if (max === 0 || Math.abs(this.#skewMs) <= max) return null;
    const off = `${(Math.abs(this.#skewMs) / 1000).toFixed(1)} s ${this.#skewMs > 0 ? "ahead of" : "behind"}`;
    return `this node's clock is ${off} the database's (more than [scheduler] max_clock_skew): not claiming until they agree`;
  }

  /** Nodes alive at the last refresh, this one included. */
  get live(): number {
    return this.#live;
  }

  join(): Promise<void> {
    return joinNode(this.deps.store, this.deps.nodeId, this.deps.version, this.deps.executors);
  }

  /** Beats this node's heartbeat; false when its row is gone (the others took it for dead). */
  beat(): Promise<boolean> {
    return this.deps.writer.submit(beatNode(this.deps.nodeId));
  }

  /** The other nodes silent for more than node_timeout at the last refresh, and for how long. */
  get dead(): readonly { id: string; silentMs: number }[] {
    return this.#dead;
  }

  /**
   * Counts the nodes that beat within node_timeout and finds the others (heartbeats are the database's
   * times), and measures this node's clock against the database's: against the middle of the read, so its
   * round trip does not count. One read.
   */
  async refresh(): Promise<void> {
    const now = this.deps.clock.now();
    const { nodes, dbNow } = await nodeSilences(this.deps.store);
    const { nodeTimeout, nodeId } = this.deps;
    this.#live = Math.max(1, nodes.filter((n) => n.silentMs <= nodeTimeout).length);
    this.#dead = nodes.filter((n) => n.silentMs > nodeTimeout && n.id !== nodeId);
    if (!Number.isFinite(dbNow)) return;
    const before = this.clockProblem;
    this.#skewMs = Math.round((now + this.deps.clock.now()) / 2) - dbNow;
    const after = this.clockProblem;
    if (after && !before) this.deps.log.warn("clock disagrees with the database", { skewMs: this.#skewMs, problem: after });
    if (before && !after) this.deps.log.info("clock agrees with the database again: claiming", { skewMs: this.#skewMs });
  }

  leave(): Promise<void> {
    return leaveNode(this.deps.store, this.deps.nodeId);
  }
}
