// The scheduler: its lifecycle and claim cycle. Each cycle recovers runs whose leases lapsed, claims due
// slots and queued runs by index up to the lookahead horizon, renews leases and hands what is due to the
// dispatcher (dispatch.ts), which hands runs to the runner (runner.ts) as they come due, never early. The
// heartbeat (heartbeat.ts) takes over the runs of nodes that died.
import type { TimerHandle } from "../clock.ts";
import type { SchedulerControl } from "../domain/ports.ts";
import { errorText, offered } from "../executors/types.ts";
import { GroupWriter } from "../store/group-writer.ts";
import { killRequested, requeueUnstarted } from "../store/marks.ts";
import { claimQueued, claimSlots } from "./claim.ts";
import { Dispatcher } from "./dispatch.ts";
import { Emitter, type RunEvent } from "./events.ts";
import { Heartbeat } from "./heartbeat.ts";
import { Leases } from "./leases.ts";
import { Membership } from "./nodes.ts";
import { Runner } from "./runner.ts";
import { after, every } from "./timers.ts";
import type { SchedulerDeps } from "./types.ts";
import { Workflows } from "./workflows.ts";

/** Longer than a kill request waits for the run's end (domain/kill.ts: at most 10 s). */
const KILL_LISTEN_MS = 15_000;

export class Scheduler implements SchedulerControl {
  readonly events = new Emitter();
  #writer: GroupWriter;
  #runner: Runner;
  #dispatch: Dispatcher;
  #nodes: Membership;
  #leases: Leases;
  #heartbeat: Heartbeat;
  /** What this node can run: it claims nothing else (a node that can takes it). */
  readonly #offers: string[];
  #pollTimer: TimerHandle | null = null;
  readonly #workflows: Workflows;
  #ticking: Promise<void> | null = null;
  #again = false;
  #wakeQueued = false;
  #started = false;
  #stopping: Promise<void> | null = null;

  constructor(
    private readonly deps: SchedulerDeps,
  ) {
    const { store, clock, config, limits, notify, notifications } = deps;
    this.#offers = offered(deps.executors);
    // Run ends and marks wait for a locked database as long as a lease: failing sooner would only have
    // the run recovered and fired again.
    this.#writer = new GroupWriter(store, undefined, config.lease);
    const { nodeId, nodeTimeout, maxClockSkew } = config;
    this.#nodes = new Membership({ store, writer: this.#writer, clock, log: deps.log, nodeId, version: deps.version, nodeTimeout, executors: this.#offers, maxClockSkew });
    this.#workflows = new Workflows({ store, clock, log: deps.log, config, wake: () => this.wake(), notify, notifications });
    this.#runner = new Runner({
      clock,
      log: deps.log,
      executors: deps.executors,
      config,
      writer: this.#writer,
      events: this.events,
      hold: (runs) => this.#dispatch.hold(runs),
      settled: () => void this.#dispatch.dispatch(),
      shared: () => this.#nodes.live > 1,
      namespaceLimit: limits ? (ns) => limits.namespaces[ns]?.maxInFlight ?? limits.maxInFlight : undefined,
      output: deps.output ?? { maxLogBytes: 1 << 20, tailLines: 20 },
      egress: deps.egress, recheck: deps.recheck, deliveries: deps.deliveries, notify, notifications, runLog: deps.runLog, metrics: deps.metrics,
      steps: this.#workflows,
    });
    this.#dispatch = new Dispatcher({
      clock,
      config,
      runner: this.#runner,
      running: () => this.running,
      liveNodes: () => this.#nodes.live,
      wake: () => this.wake(),
    });
    this.#leases = new Leases({ store, writer: this.#writer, clock, log: deps.log, executors: deps.executors, config, held: () => [...this.#dispatch.held.ids(), ...this.#runner.ids()], metrics: deps.metrics });
    const declaredDead = (now: number) => this.#declaredDead(now);
    this.#heartbeat = new Heartbeat({ clock, log: deps.log, config, nodes: this.#nodes, leases: this.#leases, declaredDead, wake: () => this.wake() });
  }

  get nodeId(): string {
    return this.deps.config.nodeId;
  }

  get running(): boolean {
    return this.#started && !this.#stopping;
  }

  /** Beats the heartbeat now (it beats every [scheduler] heartbeat by itself; tests call it after moving the clock). */
  beat(): Promise<void> {
    return this.#heartbeat.beat();
  }

  /** Why this node is not doing its share now (its clock disagrees with the database's), or null. */
  get problem(): string | null {
    return this.#nodes.clockProblem;
  }

  /** Recovers this node's runs left by a previous process, registers the node and starts polling. */
  async start(): Promise<void> {
    if (this.#started) return;
    const now = this.deps.clock.now();
    const lost = await this.#leases.recoverOwn(now);
    if (lost > 0) this.deps.log.warn("recovered runs left in flight by a previous process", { count: lost, node: this.nodeId });
    await this.#nodes.join();
    await this.#nodes.refresh();
    this.#started = true;
    this.#heartbeat.start(now);
    await this.#leases.renew(now);
    await this.tick();
  }

  /**
   * The other nodes took this one for dead (it was frozen or cut off) and took its runs: it drops what it
   * held (its runs in flight are aborted: their recovery attempts run elsewhere), releases what it claimed
   * since, and joins again.
   */
  async #declaredDead(now: number) {
    this.#dispatch.held.clear();
    for (const id of this.#runner.ids()) this.#runner.abort(id);
    await this.#leases.recoverOwn(now);
    await this.#nodes.join();
  }

  // --- SchedulerControl -------------------------------------------------------------------------

  jobChanged(jobId: number, nextFireAt: number | null, dropped = true): void {
    if (dropped) {
      // The verb deleted the job's queued runs: forget those held here, and don't start its marked ones.
      this.#dispatch.held.dropJob(jobId);
      this.#runner.cancelJob(jobId);
    }
    // A job due beyond the lookahead is found by a later poll (waking would cost a claim cycle per write).
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

  kill(runId: number): Promise<void> | null {
    this.#dispatch.held.drop(runId);
    if (!this.#runner.running(runId)) return null;
    // Listen before aborting: the end may be recorded in the same turn. A run that never reports its end
    // (this node stops first) lets the listener go after the longest a kill waits.
    const nothing = () => {};
    const ended = this.events.next("run:finished", (e) => e.runId === runId, KILL_LISTEN_MS).then(nothing, nothing);
    return this.#runner.abort(runId) ? ended : null;
  }

  notified = (): void => this.deps.notifications?.wake();

  ended(event: RunEvent): void {
    this.deps.deliveries?.wake(); // its end may have stored deliveries (a killed run's callback)
    this.events.emit("run:finished", event);
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
    const { store, clock, config: c } = this.deps;
    const now = clock.now();
    const started = performance.now();
    const opts = () => {
      const t = clock.now();
      const { lookahead, lease, batchSize: limit, misfireThreshold, misfireAllCap: misfireCap } = c;
      return { secrets: this.deps.secrets, nodeId: this.nodeId, now: t, horizon: t + lookahead, leaseUntil: t + lease, limit, misfireThreshold, misfireCap, offers: this.#offers, liveFor: c.nodeTimeout, notify: this.deps.notify };
    };
    // (Whether other nodes share the database, and whether the clocks agree, is known from the heartbeat.)
    const problem = this.#nodes.clockProblem;
    let claimed = 0;
    // A clock that is off would take slots early or late and runs whose leases had not lapsed: this node
    // claims and recovers nothing until it agrees again (its runs in flight go on, their leases renewed).
    if (!problem) await this.#leases.recoverIfDue(now);
    this.#dispatch.claiming();
    while (!problem && this.running && !this.#dispatch.full()) {
      const { claimed: runs, jobs, notified } = await claimSlots(store, opts());
      if (notified) this.notified();
      this.#dispatch.hold(runs);
      claimed += runs.length;
      if (jobs === 0) break;
    }
    // Workflows' slots that came and steps that became due (their parents ended) are queued, then claimed.
    if (!problem) await this.#workflows.cycle();
    while (!problem && this.running && !this.#dispatch.full()) {
      const runs = await claimQueued(store, opts());
      this.#dispatch.hold(runs);
      claimed += runs.length;
      if (runs.length < c.batchSize) break;
    }
    await this.#leases.renewIfDue(now);
    await this.#killRequested();
    this.deps.metrics?.claimCycle(performance.now() - started, claimed);
    this.events.emit("tick", { claimed, at: now });
    await this.#dispatch.dispatch();
  }

  /** Aborts runs of this node whose kill was requested through another node (or before they started). */
  async #killRequested() {
    if (this.#runner.activeCount === 0) return;
    for (const id of await killRequested(this.deps.store, this.nodeId)) this.#runner.abort(id);
  }

  #armPoll() {
    if (!this.running) return;
    if (this.#pollTimer) this.deps.clock.clearTimer(this.#pollTimer);
    this.#pollTimer = this.deps.clock.setTimer(this.deps.config.pollInterval, () => {
      this.#pollTimer = null;
      void this.tick();
    });
  }

  /** Resolves once nothing is in flight and every write has committed (tests use it after moving time). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#ticking) await this.#ticking;
      await this.#runner.settledAll();
      await this.#writer.flushed();
      if (!this.#ticking && !this.#runner.busy && !this.#dispatch.dispatching) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** held: claimed, not started (of which parked: for a host or namespace; waiting: for the job's earlier run). */
  get stats() {
    const { readyCount: ready, parkedCount: parked, waitingCount: waiting, inFlight } = this.#runner;
    return { held: this.#dispatch.held.count + ready + parked + waiting, inFlight, parked, waiting, liveNodes: this.running ? this.#nodes.live : 0 };
  }

  // --- stopping ---------------------------------------------------------------------------------

  /**
   * Stops claiming, lets runs in flight finish for up to the shutdown grace (on the clock, from this call),
   * then releases the rest: runs still in flight are marked lost with a recovery attempt queued, held runs
   * are released, so the next start or another node takes them over. Idempotent: every call returns the
   * same promise.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const wasStarted = this.#started;
    const { clock, config } = this.deps;
    const grace = wasStarted ? after(clock, config.shutdownGrace) : null;
    this.#stopping = (async () => {
      if (this.#pollTimer) clock.clearTimer(this.#pollTimer);
      this.#dispatch.stop();
      if (!grace) return;
      this.#runner.stopStarting();
      if (this.#ticking) await this.#ticking.catch(() => {});
      // Runs finishing within the grace keep their leases, so no other node recovers them meanwhile.
      const renewing = every(clock, Math.max(50, config.lease / 3), () => void this.#leases.renew(clock.now()).catch(() => {}));
      // Kills sent through other nodes are still carried out during the grace.
      const killing = every(clock, config.pollInterval, () => void this.#killRequested().catch(() => {}));
      await Promise.race([this.#runner.settledAll(), grace.done]);
      grace.cancel();
      renewing(), killing();
      const unstarted = this.#runner.close();
      this.#dispatch.held.clear();
      // Runs abandoned now were aborted: their processes get their kill grace to go, so none outlives tock
      // (a real timer: it waits for processes to exit, not for scheduler time; container CLIs get 1 s at least).
      if (this.#runner.inFlight > 0) {
        let graceTimer: ReturnType<typeof setTimeout> | undefined;
        const wait = Math.max(this.deps.killGrace ?? 0, 1000) + 250;
        await Promise.race([this.#runner.settledAll(), new Promise((r) => (graceTimer = setTimeout(r, wait)))]);
        clearTimeout(graceTimer);
      }
      await Promise.all([this.#writer.flushed(), this.#workflows.close()]);
      const now = clock.now();
      try {
        // Runs marked running that never started go back to the queue; recovering this node's own runs
        // then marks what is still running lost, queues its recovery attempts and releases held runs.
        await requeueUnstarted(this.deps.store, unstarted, this.nodeId, now);
        this.deps.deliveries?.wake();
        await this.#leases.recoverOwn(now);
        await this.#heartbeat.stop();
        await this.#nodes.leave();
      } catch (e) {
        this.deps.log.error("could not release runs at stop", { error: errorText(e) });
      } finally {
        // Stopped beats, whatever failed above: a stopped node takes nobody's runs over.
        await this.#heartbeat.stop();
      }
    })();
    return this.#stopping;
  }
}
