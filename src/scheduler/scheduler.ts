// The scheduler loop: claim due work in batches by index, hold only the next lookahead window
// in a timer heap, and hand runs to the runner (runner.ts) as they come due, never early.
import type { Config } from "../config.ts";
import type { SecretBox } from "../domain/secrets.ts";
import type { Executors } from "../executors/types.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Egress } from "../net/egress.ts";
import type { Store } from "../store/client.ts";
import { read, write } from "../store/sql.ts";
import { type Claimed, claimQueued, claimSlots, recoverLost } from "./claim.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import type { SchedulerControl } from "../domain/ports.ts";
import { Emitter, type RunEvent } from "./events.ts";
import { HeldRuns } from "./held.ts";
import { requeueStatement } from "./marks.ts";
import type { OutputOptions } from "./output.ts";
import { Runner } from "./runner.ts";
import { GroupWriter } from "./writer.ts";

export type SchedulerConfig = Config["scheduler"];

/** What the scheduler takes from [executors.process]: output kept per run and the kill grace. */
export function processOptions(cfg: Pick<Config, "executors">): { output: OutputOptions; killGrace: number } {
  const p = cfg.executors.process;
  return { output: { maxLogBytes: p.maxLogBytes, tailLines: p.tailLines }, killGrace: p.killGrace };
}

/**
 * How long before its due time a run is marked running: the write is then off the critical path, and the
 * run starts at its due time with no database round trip. (A run marked but not yet started when the node
 * dies is recovered like any run in flight.) The lead grows with the runs held, about what marking them
 * costs, so that a burst of thousands due at one instant is marked before that instant.
 */
export const MARK_LEAD_MS = 20;
const MARK_COST_MS = 0.015;

export class Scheduler implements SchedulerControl {
  readonly events = new Emitter();
  #held = new HeldRuns();
  #writer: GroupWriter;
  #runner: Runner;
  #dispatchTimer: TimerHandle | null = null;
  #dispatchAt = Infinity;
  #pollTimer: TimerHandle | null = null;
  #ticking: Promise<void> | null = null;
  #again = false;
  #dispatching = false;
  #redispatch = false;
  #lastRenew = 0;
  #lastRecover = -Infinity;
  #capped = false;
  #liveNodes = 1;
  #wakeQueued = false;
  #started = false;
  #stopping: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      log: Logger;
      executors: Executors;
      config: SchedulerConfig;
      version: string;
      /** Process output kept per run (executors.process max_log_bytes, tail_lines). */
      output?: OutputOptions;
      /** How long an aborted process gets to exit before SIGKILL (executors.process kill_grace). */
      killGrace?: number;
      /** Opens jobs' and runs' sealed secret values for their executors ([secrets] key). */
      secrets: SecretBox;
      /** Resolves host names for the per-host limit: the executors' own Egress, so they share its cache. */
      egress?: Egress;
      /** [limits]: max_in_flight per namespace (none: no limit per namespace). */
      limits?: Pick<Config["limits"], "maxInFlight" | "namespaces">;
    },
  ) {
    this.#writer = new GroupWriter(deps.store);
    this.#runner = new Runner({
      clock: deps.clock,
      log: deps.log,
      executors: deps.executors,
      config: deps.config,
      writer: this.#writer,
      events: this.events,
      hold: (runs) => this.#hold(runs),
      settled: () => void this.#dispatch(),
      shared: () => this.#liveNodes > 1,
      namespaceLimit: deps.limits ? (ns) => deps.limits!.namespaces[ns]?.maxInFlight ?? deps.limits!.maxInFlight : undefined,
      output: deps.output ?? { maxLogBytes: 1 << 20, tailLines: 20 },
      egress: deps.egress,
    });
  }

  get nodeId(): string {
    return this.deps.config.nodeId;
  }

  get running(): boolean {
    return this.#started && !this.#stopping;
  }

  /** Recovers this node's runs left by a previous process, registers the node and starts polling. */
  async start(): Promise<void> {
    if (this.#started) return;
    const now = this.deps.clock.now();
    const lost = await recoverLost(this.deps.store, now, this.deps.config.defaultRetry.times, this.nodeId);
    if (lost > 0) this.deps.log.warn("recovered runs left in flight by a previous process", { count: lost, node: this.nodeId });
    await write(this.deps.store, [
      {
        sql: "INSERT INTO nodes (id, started_at, heartbeat_at, version) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, version = excluded.version",
        args: [this.nodeId, now, now, this.deps.version],
      },
    ]);
    this.#started = true;
    await this.#renew(now);
    await this.tick();
  }

  // --- SchedulerControl -------------------------------------------------------------------------

  jobChanged(jobId: number, nextFireAt: number | null, dropped = true): void {
    if (dropped) {
      // The verb deleted the job's queued runs: forget those held here, and don't start its marked ones.
      this.#held.dropJob(jobId);
      this.#runner.cancelJob(jobId);
    }
    // A job due beyond the lookahead is found by a later poll: waking for it would cost a claim cycle per
    // API write for nothing.
    if (nextFireAt !== null && nextFireAt <= this.deps.clock.now() + this.deps.config.lookahead) this.wake();
  }

  wake(): void {
    if (!this.running || this.#wakeQueued) return;
    // Wakes in one turn of the event loop (a burst of API calls) share one claim cycle.
    this.#wakeQueued = true;
    setTimeout(() => {
      this.#wakeQueued = false;
      void this.tick();
    }, 0);
  }

  // --- claiming ---------------------------------------------------------------------------------

  /**
   * One claim cycle: recover runs whose node died, claim due slots and queued runs up to the lookahead
   * horizon, renew leases, dispatch what is due. Cycles never overlap; a wake during one runs another.
   */
  tick(): Promise<void> {
    if (this.#ticking) {
      this.#again = true;
      return this.#ticking;
    }
    this.#ticking = (async () => {
      try {
        do {
          this.#again = false;
          await this.#cycle();
        } while (this.#again && this.running);
      } catch (e) {
        this.deps.log.error("claim cycle failed", { error: errorText(e) });
      } finally {
        this.#ticking = null;
        this.#armPoll();
      }
    })();
    return this.#ticking;
  }

  async #cycle() {
    if (!this.running) return;
    const c = this.deps.config;
    const now = this.deps.clock.now();
    const opts = () => {
      const t = this.deps.clock.now();
      return {
        secrets: this.deps.secrets,
        nodeId: this.nodeId,
        now: t,
        horizon: t + c.lookahead,
        leaseUntil: t + c.lease,
        limit: c.batchSize,
        misfireThreshold: c.misfireThreshold,
        misfireCap: c.misfireAllCap,
      };
    };
    // Runs of dead nodes are looked for a few times per lease, not on every wake.
    if (now - this.#lastRecover >= Math.min(c.lease / 4, 5_000) || now < this.#lastRecover) {
      this.#lastRecover = now;
      await recoverLost(this.deps.store, now, c.defaultRetry.times);
    }
    // Whether other nodes share the database decides the cross-node overlap check: known within a poll.
    const [live] = await read(this.deps.store, { sql: "SELECT count(*) AS n FROM nodes WHERE heartbeat_at >= ?", args: [now - c.lease] });
    this.#liveNodes = Math.max(1, Number(live.n));
    let claimed = 0;
    this.#capped = false;
    for (;;) {
      if (this.#held.size >= this.#cap || !this.running) {
        this.#capped = true;
        break;
      }
      const { claimed: runs, jobs } = await claimSlots(this.deps.store, opts());
      this.#hold(runs);
      claimed += runs.length;
      if (jobs === 0) break;
    }
    while (this.running) {
      if (this.#held.size >= this.#cap) {
        this.#capped = true;
        break;
      }
      const runs = await claimQueued(this.deps.store, opts());
      this.#hold(runs);
      claimed += runs.length;
      if (runs.length < c.batchSize) break;
    }
    if (now - this.#lastRenew >= c.lease / 3) await this.#renew(now);
    await this.#killRequested();
    this.events.emit("tick", { claimed, at: now });
    await this.#dispatch();
  }

  /**
   * Renews the leases of exactly the runs this node holds (in the heap or the runner), and its heartbeat.
   * A run this node lost track of (a write that failed) is not renewed: its lease lapses and it is claimed
   * or recovered again.
   */
  async #renew(now: number) {
    this.#lastRenew = now;
    const ids = [...this.#held.ids(), ...this.#runner.ids()];
    await this.#writer.submit([
      {
        sql: "UPDATE runs SET lease_until = ? FROM json_each(?) AS h WHERE runs.id = h.value AND runs.node_id = ?",
        args: [now + this.deps.config.lease, JSON.stringify(ids), this.nodeId],
      },
      { sql: "UPDATE nodes SET heartbeat_at = ? WHERE id = ?", args: [now, this.nodeId] },
    ]);
  }

  /** Aborts runs of this node whose kill was requested through another node (or before they started). */
  async #killRequested() {
    if (this.#runner.activeCount === 0) return;
    const rows = await read(this.deps.store, {
      sql: "SELECT id FROM runs WHERE status = 'running' AND node_id = ? AND kill_requested_at IS NOT NULL",
      args: [this.nodeId],
    });
    for (const r of rows) this.#runner.abort(Number(r.id));
  }

  /** Takes claimed runs into the timer heap. */
  #hold(runs: Claimed[]) {
    if (this.#held.add(runs, (id) => this.#runner.has(id)) > 0) this.#armDispatch();
  }

  /**
   * Memory holds only what is due within the lookahead, up to max_held shared among the live nodes (so a
   * burst is spread over a cluster, and held whole by a node alone), and never less than a few batches.
   */
  get #cap(): number {
    const c = this.deps.config;
    return Math.max(c.batchSize * 4, c.maxInFlight * 2, Math.floor(c.maxHeld / this.#liveNodes));
  }

  get #lead(): number {
    return MARK_LEAD_MS + this.#held.size * MARK_COST_MS;
  }

  /**
   * Whether runs already due may be marked (besides `adding` being marked now): they wait in the heap,
   * unmarked, while a full ready queue is ahead of them or very many runs wait for their hosts.
   */
  #roomForDue(adding: number): boolean {
    const max = this.deps.config.maxInFlight;
    return this.#runner.readyCount + adding < max && this.#runner.parkedCount < 4 * max;
  }

  #armPoll() {
    if (!this.running) return;
    if (this.#pollTimer) this.deps.clock.clearTimer(this.#pollTimer);
    this.#pollTimer = this.deps.clock.setTimer(this.deps.config.pollInterval, () => {
      this.#pollTimer = null;
      void this.tick();
    });
  }

  /**
   * Arms the one dispatch timer: for the next held run, a little before it is due (to mark it running in
   * time), or for the next ready run at its due time. At capacity, the next run to end dispatches instead.
   */
  #armDispatch() {
    if (!this.running) return;
    let at = Number.POSITIVE_INFINITY;
    const top = this.#held.peek();
    if (top && (top.dueAt > this.deps.clock.now() || this.#roomForDue(0))) at = top.dueAt - this.#lead;
    const start = this.#runner.nextStartAt;
    if (start !== null) at = Math.min(at, start);
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.#dispatchTimer && at >= this.#dispatchAt) return;
    if (this.#dispatchTimer) this.deps.clock.clearTimer(this.#dispatchTimer);
    this.#dispatchAt = at;
    this.#dispatchTimer = this.deps.clock.setTimer(at - this.deps.clock.now(), () => {
      this.#dispatchTimer = null;
      this.#dispatchAt = Number.POSITIVE_INFINITY;
      void this.#dispatch();
    });
  }

  // --- dispatching ------------------------------------------------------------------------------

  /**
   * Hands held runs due within the mark lead to the runner, which marks them running in batches, then lets
   * it start those whose time has come (never early: the runner checks the clock, and a timer that fired
   * early re-arms). Calls during a dispatch make it go round once more.
   */
  async #dispatch(): Promise<void> {
    if (!this.running) return;
    if (this.#dispatching) {
      this.#redispatch = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#redispatch = false;
        for (;;) {
          const now = this.deps.clock.now();
          const lead = this.#lead;
          const batch: Claimed[] = [];
          while (batch.length < 512) {
            const top = this.#held.peek();
            if (!top || top.dueAt > now + lead) break;
            if (top.dueAt <= now && !this.#roomForDue(batch.length)) break;
            const run = this.#held.take();
            if (run) batch.push(run);
          }
          // The last claim stopped at the memory cap, so more is due: claim again now, not at the next poll.
          if (this.#capped && this.#held.size < this.#cap / 2) {
            this.#capped = false;
            this.wake();
          }
          if (batch.length === 0) break;
          await this.#runner.prepare(batch);
        }
        this.#runner.pump();
      } while (this.#redispatch && this.running);
    } finally {
      this.#dispatching = false;
      this.#armDispatch();
    }
  }

  kill(runId: number): Promise<void> | null {
    this.#held.drop(runId);
    if (!this.#runner.running(runId)) return null;
    // Listen before aborting: the end may be recorded in the same turn.
    const ended = new Promise<void>((resolve) => {
      const off = this.events.on("run:finished", (e) => {
        if (e.runId !== runId) return;
        off();
        resolve();
      });
    });
    return this.#runner.abort(runId) ? ended : null;
  }

  ended(event: RunEvent): void {
    this.events.emit("run:finished", event);
  }

  /** Resolves once nothing is in flight and every write has committed (tests use it after moving time). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#ticking) await this.#ticking;
      await this.#runner.settledAll();
      await this.#writer.flushed();
      if (!this.#ticking && !this.#runner.busy && !this.#dispatching) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  get stats() {
    return { held: this.#held.size, inFlight: this.#runner.inFlight, parked: this.#runner.parkedCount };
  }

  // --- stopping ---------------------------------------------------------------------------------

  /**
   * Stops claiming, lets runs in flight finish for up to the shutdown grace, then releases the rest:
   * runs still in flight are marked lost with a recovery attempt queued, held runs are released, so the
   * next start or another node takes them over. Idempotent: every call returns the same promise.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const wasStarted = this.#started;
    this.#stopping = (async () => {
      if (this.#pollTimer) this.deps.clock.clearTimer(this.#pollTimer);
      if (this.#dispatchTimer) this.deps.clock.clearTimer(this.#dispatchTimer);
      if (!wasStarted) return;
      this.#runner.stopStarting();
      if (this.#ticking) await this.#ticking.catch(() => {});
      // Runs finishing within the grace keep their leases, so no other node recovers them meanwhile.
      const renew = setInterval(() => void this.#renew(this.deps.clock.now()).catch(() => {}), Math.max(50, this.deps.config.lease / 3));
      // Kills sent through other nodes are still carried out during the grace.
      const kills = setInterval(() => void this.#killRequested().catch(() => {}), this.deps.config.pollInterval);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#runner.settledAll(),
        new Promise((r) => {
          timer = setTimeout(r, this.deps.config.shutdownGrace);
        }),
      ]);
      clearTimeout(timer);
      clearInterval(renew);
      clearInterval(kills);
      const unstarted = this.#runner.close();
      this.#held.clear();
      // Runs abandoned now were aborted: their processes get their kill grace to go, so none outlives tock.
      if (this.#runner.inFlight > 0) {
        let graceTimer: ReturnType<typeof setTimeout> | undefined;
        // (Container jobs' engine commands get at least a second.)
        const wait = Math.max(this.deps.killGrace ?? 0, 1000) + 250;
        await Promise.race([this.#runner.settledAll(), new Promise((r) => (graceTimer = setTimeout(r, wait)))]);
        clearTimeout(graceTimer);
      }
      await this.#writer.flushed();
      const now = this.deps.clock.now();
      try {
        // Runs marked running that never started go back to the queue; recoverLost with this node's id
        // then marks what is still running lost, queues its recovery attempts and releases held runs.
        await write(this.deps.store, [requeueStatement(unstarted, this.nodeId, now)]);
        await recoverLost(this.deps.store, now, this.deps.config.defaultRetry.times, this.nodeId);
        await write(this.deps.store, [{ sql: "DELETE FROM nodes WHERE id = ?", args: [this.nodeId] }]);
      } catch (e) {
        this.deps.log.error("could not release runs at stop", { error: errorText(e) });
      }
    })();
    return this.#stopping;
  }
}
