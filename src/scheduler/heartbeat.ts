// The heartbeat: every `heartbeat` (1 s) this node writes its own and reads everyone's. A node whose
// heartbeat is older than `node_timeout` (5 s) is dead: its runs are taken back at once (those it held
// unstarted go back to the queue for any node, those in flight end lost with a recovery attempt, fenced)
// and its row goes, all in one transaction. A node that finds its own row gone was taken for dead (it was
// frozen, or cut off from the database): it drops what it held, since others own it now, and joins again.
//
// Heartbeats are written and compared in the database's time, so nodes whose clocks differ (each within
// max_clock_skew of the database) agree on who is silent. Nobody is taken for dead on a stale view: this
// node must itself have beaten on time for a whole node_timeout first. A database locked for everyone (or this node frozen) stops every heartbeat at once,
// and that is no reason to take over anyone's runs when it ends.
import type { Clock } from "../clock.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Leases } from "./leases.ts";
import type { Membership } from "./nodes.ts";
import { every } from "./timers.ts";
import type { SchedulerConfig } from "./types.ts";

export interface HeartbeatDeps {
  clock: Clock;
  log: Logger;
  config: SchedulerConfig;
  nodes: Membership;
  leases: Leases;
  /** This node was taken for dead: drop what it held and join again. */
  declaredDead(now: number): Promise<void>;
  /** Runs were released for any node to claim: claim now, not at the next poll. */
  wake(): void;
}

export class Heartbeat {
  #cancel: (() => void) | null = null;
  #beating: Promise<void> | null = null;
  /** When the last beat that went through was written. */
  #lastBeat = Number.NEGATIVE_INFINITY;
  /** Since when this node has beaten on time without a gap. */
  #onTimeSince = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: HeartbeatDeps) {}

  /** Starts beating (this node joined at `now`). */
  start(now: number): void {
    this.#lastBeat = now;
    this.#onTimeSince = now;
    this.#cancel = every(this.deps.clock, this.deps.config.heartbeat, () => void this.beat());
  }

  /** Stops beating; resolves once a beat under way has ended. */
  async stop(): Promise<void> {
    this.#cancel?.();
    this.#cancel = null;
    await this.#beating;
  }

  /** One beat (a beat still under way, waiting for a locked database, makes the next one skip). */
  beat(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => {
      this.#beating = null;
    });
    return this.#beating;
  }

  async #beat() {
    const { clock, config: c, nodes, log } = this.deps;
    const now = clock.now();
    try {
      const present = await nodes.beat();
      // A beat that comes late (this node or the database stalled) restarts the time on record.
      if (now - this.#lastBeat > 2 * c.heartbeat) this.#onTimeSince = now;
      const silent = now - this.#lastBeat;
      this.#lastBeat = now;
      if (!present) {
        log.warn("this node was taken for dead by the others (no heartbeat within node_timeout): its runs went to other nodes, and its own results are no longer recorded; dropping what it held and joining again", {
          node: c.nodeId,
          silentMs: silent,
        });
        await this.deps.declaredDead(now);
        this.#onTimeSince = clock.now();
      }
      await nodes.refresh();
      if (nodes.clockProblem || now - this.#onTimeSince < c.nodeTimeout) return;
      const dead = nodes.dead;
      if (dead.length === 0) return;
      const lost = await this.deps.leases.takeOver(clock.now());
      log.warn("took over the runs of nodes with no heartbeat within node_timeout", {
        nodes: dead.map((d) => d.id),
        silentMs: dead.map((d) => d.silentMs),
        lostInFlight: lost,
      });
      this.deps.wake();
    } catch (e) {
      log.warn("heartbeat failed; the next one tries again", { error: errorText(e) });
    }
  }
}
