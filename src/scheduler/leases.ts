// Leases: this node renews the leases of exactly the runs it holds, a few times per lease. (A node that dies loses its runs sooner, through its heartbeat: heartbeat.ts.) A run it lost track of (a write that failed) is not renewed: its lease lapses and it is claimed or
// recovered again. Runs whose holder's lease lapsed are recovered here; retry.ts decides their new attempts.
import type { Clock } from "../clock.ts";
import type { Store } from "../store/client.ts";
import type { GroupWriter } from "../store/group-writer.ts";
import type { Executors } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { endStaleGroup, onThisMachine } from "../runtime/procs.ts";
import { processesOf, recoverLapsed, renewLeases, type Whose } from "../store/leases.ts";
import { recoveryRule } from "./retry.ts";
import type { SchedulerConfig } from "./types.ts";

export interface LeaseDeps {
  store: Store;
  writer: GroupWriter;
  clock: Clock;
  log: Logger;
  /** This node's executors: what a dead tock's run left behind is ended through them. */
  executors: Executors;
  config: SchedulerConfig;
  /** Ids of every run this node holds (in the heap or the runner). */
  held: () => number[];
  /** Counts the runs in flight this node ended lost, not those it ended killed (the node's metrics). */
  metrics?: Pick<Metrics, "runsLost">;
}

export class Leases {
  #lastRenew = 0;
  #lastRecover = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: LeaseDeps) {}

  /** Renews the leases of the runs held now, and the heartbeat. */
  renew(now: number): Promise<void> {
    this.#lastRenew = now;
    const c = this.deps.config;
    return this.deps.writer.submit(renewLeases(this.deps.held(), now + c.lease, c.nodeId));
  }

  /** Renews when a third of a lease has passed since the last renewal. */
  async renewIfDue(now: number): Promise<void> {
    if (now - this.#lastRenew >= this.deps.config.lease / 3) await this.renew(now);
  }

  /** Recovers runs of dead nodes: a few times per lease, not on every claim cycle. */
  async recoverIfDue(now: number): Promise<void> {
    const c = this.deps.config;
    if (now - this.#lastRecover < Math.min(c.lease / 4, 5_000) && now >= this.#lastRecover) return;
    this.#lastRecover = now;
    await this.#recover(now, { lapsed: true });
  }

  /**
   * Takes back the runs of the nodes silent for more than node_timeout (and of lapsed leases), and removes
   * those nodes' rows. Returns how many runs in flight ended lost (or killed).
   */
  takeOver(now: number): Promise<number> {
    return this.#recover(now, { deadFor: this.deps.config.nodeTimeout, me: this.deps.config.nodeId });
  }

  /**
   * Recovers this node's own runs without waiting for their leases: those left by a previous process (at
   * start) or abandoned at stop. Returns how many runs in flight ended lost (or killed).
   */
  recoverOwn(now: number): Promise<number> {
    return this.#recover(now, { mine: this.deps.config.nodeId });
  }

  /**
   * Recovers the runs `whose` names. Their processes still running on this machine (left by a tock that
   * died) are ended first, so that a recovery attempt never runs next to the attempt it replaces.
   */
  async #recover(now: number, whose: Whose): Promise<number> {
    for (const p of await processesOf(this.deps.store, now, whose)) {
      if (!onThisMachine(p.proc)) continue;
      if (endStaleGroup(p.pgid, p.proc)) {
        this.deps.log.warn("ended the process group of a run being recovered, left running by a tock that stopped", { run: p.runId, pgid: p.pgid });
      }
      // A container outlives its CLI: the engine removes it, in the background (an engine slow to answer
      // must not hold up the heartbeat this may run in; the recovery attempt gets a container of its own).
      if (p.container) void this.deps.executors[p.kind as keyof Executors]?.cleanup?.(p.container);
    }
    const { ended, lost } = await recoverLapsed(this.deps.store, now, recoveryRule(now, this.deps.config), whose);
    if (lost > 0) this.deps.metrics?.runsLost(lost);
    return ended;
  }
}
