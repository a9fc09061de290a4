// The scheduler loop of DESIGN.md: claim due work in batches by index, hold only the next lookahead window
// in a timer heap, mark runs running (fenced) as they come due, execute, finish (fenced), retry.
import type { Config } from "../config.ts";
import type { Executors } from "../executors/types.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { type Stmt, write } from "../store/sql.ts";
import { type Claimed, claimedFrom, claimQueued, claimSlots, RUN_INSERT_COLUMNS, recoverLost } from "./claim.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import type { SchedulerControl } from "./control.ts";
import { Emitter, type RunEvent } from "./events.ts";
import { MinHeap } from "./heap.ts";
import { retryDelay } from "./policy.ts";
import { GroupWriter } from "./writer.ts";

export type SchedulerConfig = Config["scheduler"];

interface InFlight {
  run: Claimed;
  controller: AbortController;
  startedAt: number;
}

type Final = "succeeded" | "failed" | "timed_out" | "killed" | "skipped";

export class Scheduler implements SchedulerControl {
  readonly events = new Emitter();
  #heap = new MinHeap<Claimed>((a, b) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id < b.id));
  #pendingByJob = new Map<number, Set<Claimed>>();
  #inFlight = new Map<number, InFlight>();
  #runningByJob = new Map<number, Set<number>>();
  #waiting = new Map<number, Claimed[]>(); // overlap "queue": runs waiting for their job's earlier run
  #writer: GroupWriter;
  #dispatchTimer: TimerHandle | null = null;
  #dispatchAt = Infinity;
  #pollTimer: TimerHandle | null = null;
  #ticking: Promise<void> | null = null;
  #again = false;
  #dispatching = false;
  #lastRenew = 0;
  #started = false;
  #stopping: Promise<void> | null = null;
  #pendingFinishes = new Set<Promise<void>>();

  constructor(
    private readonly deps: { store: Store; clock: Clock; log: Logger; executors: Executors; config: SchedulerConfig; version: string },
  ) {
    this.#writer = new GroupWriter(deps.store);
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
    this.#lastRenew = now;
    await this.tick();
  }

  // --- SchedulerControl -------------------------------------------------------------------------

  jobChanged(jobId: number): void {
    const pending = this.#pendingByJob.get(jobId);
    if (pending) for (const run of pending) run.cancelled = true;
    this.#pendingByJob.delete(jobId);
    this.#waiting.delete(jobId);
    this.wake();
  }

  wake(): void {
    if (!this.running) return;
    void this.tick();
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
        nodeId: this.nodeId,
        now: t,
        horizon: t + c.lookahead,
        leaseUntil: t + c.lease,
        limit: c.batchSize,
        misfireThreshold: c.misfireThreshold,
        misfireCap: c.misfireAllCap,
      };
    };
    await recoverLost(this.deps.store, now, c.defaultRetry.times);
    let claimed = 0;
    // Memory holds only what is due within the lookahead, and at most a few batches beyond what can run.
    const cap = Math.max(c.batchSize * 4, c.maxInFlight * 2);
    for (;;) {
      if (this.#heap.size >= cap || !this.running) break;
      const { claimed: runs, jobs } = await claimSlots(this.deps.store, opts());
      this.#hold(runs);
      claimed += runs.length;
      if (jobs === 0) break;
    }
    while (this.#heap.size < cap && this.running) {
      const runs = await claimQueued(this.deps.store, opts());
      this.#hold(runs);
      claimed += runs.length;
      if (runs.length < c.batchSize) break;
    }
    if (now - this.#lastRenew >= c.lease / 3) await this.#renew(now);
    this.events.emit("tick", { claimed, at: now });
    await this.#dispatch();
  }

  async #renew(now: number) {
    this.#lastRenew = now;
    await this.#writer.submit([
      { sql: "UPDATE runs SET lease_until = ? WHERE node_id = ? AND status IN ('queued', 'running')", args: [now + this.deps.config.lease, this.nodeId] },
      { sql: "UPDATE nodes SET heartbeat_at = ? WHERE id = ?", args: [now, this.nodeId] },
    ]);
  }

  #hold(runs: Claimed[]) {
    for (const run of runs) {
      this.#heap.push(run);
      let set = this.#pendingByJob.get(run.jobId);
      if (!set) this.#pendingByJob.set(run.jobId, (set = new Set()));
      set.add(run);
    }
    if (runs.length) this.#armDispatch();
  }

  #armPoll() {
    if (!this.running) return;
    if (this.#pollTimer) this.deps.clock.clearTimer(this.#pollTimer);
    this.#pollTimer = this.deps.clock.setTimer(this.deps.config.pollInterval, () => {
      this.#pollTimer = null;
      void this.tick();
    });
  }

  #armDispatch() {
    const top = this.#heap.peek();
    // At capacity, the next finishing run dispatches: no timer needed.
    if (!top || !this.running || this.#inFlight.size >= this.deps.config.maxInFlight) return;
    if (top.dueAt >= this.#dispatchAt && this.#dispatchTimer) return;
    if (this.#dispatchTimer) this.deps.clock.clearTimer(this.#dispatchTimer);
    this.#dispatchAt = top.dueAt;
    this.#dispatchTimer = this.deps.clock.setTimer(top.dueAt - this.deps.clock.now(), () => {
      this.#dispatchTimer = null;
      this.#dispatchAt = Infinity;
      void this.#dispatch();
    });
  }

  // --- dispatching ------------------------------------------------------------------------------

  /** Starts every held run that is due (never early: a timer that fired early re-arms). */
  async #dispatch(): Promise<void> {
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (;;) {
        const now = this.deps.clock.now();
        const room = this.deps.config.maxInFlight - this.#inFlight.size;
        const batch: Claimed[] = [];
        while (batch.length < Math.min(room, 512)) {
          const top = this.#heap.peek();
          if (!top || top.dueAt > now) break;
          this.#heap.pop();
          this.#pendingByJob.get(top.jobId)?.delete(top);
          if (!top.cancelled) batch.push(top);
        }
        if (batch.length === 0) break;
        await this.#startBatch(batch);
      }
    } finally {
      this.#dispatching = false;
      this.#armDispatch();
    }
  }

  /** Applies the overlap policy, marks the runs running in one fenced write, then executes them. */
  async #startBatch(batch: Claimed[]) {
    const start: Claimed[] = [];
    for (const run of batch) {
      const running = this.#runningByJob.get(run.jobId);
      const limit = run.job.maxConcurrency ?? (run.job.overlap === "allow" ? Infinity : 1);
      const busy = (running?.size ?? 0) + start.filter((r) => r.jobId === run.jobId).length;
      if (busy < limit) {
        start.push(run);
        continue;
      }
      switch (run.catchUp ? "queue" : run.job.overlap) {
        case "forbid":
          this.#finishUnstarted(run, "skipped", "overlap: the job's previous run was still running (policy forbid)");
          break;
        case "replace": {
          const oldest = running ? [...running][0] : undefined;
          if (oldest !== undefined) this.#inFlight.get(oldest)?.controller.abort(new Replaced(run.id));
          start.push(run);
          break;
        }
        case "queue":
        case "allow": {
          const q = this.#waiting.get(run.jobId) ?? [];
          q.push(run);
          this.#waiting.set(run.jobId, q);
          break;
        }
      }
    }
    if (start.length === 0) return;
    const now = this.deps.clock.now();
    let rows;
    try {
      [{ rows }] = await this.#writer.submit([
        {
          sql: "UPDATE runs SET status = 'running', started_at = ? WHERE status = 'queued' AND node_id = ? AND id IN (SELECT value FROM json_each(?)) RETURNING id",
          args: [now, this.nodeId, JSON.stringify(start.map((r) => r.id))],
        },
      ]);
    } catch (e) {
      // Not marked: the runs stay queued under this node's lease and are claimed again once it lapses.
      this.deps.log.error("could not mark runs running", { error: errorText(e), count: start.length });
      return;
    }
    const marked = new Set(rows.map((r) => Number(r.id)));
    for (const run of start) {
      // A run not marked was paused, replaced, deleted or taken over by another node meanwhile.
      if (marked.has(run.id)) this.#execute(run, now);
    }
  }

  #execute(run: Claimed, startedAt: number) {
    const controller = new AbortController();
    this.#inFlight.set(run.id, { run, controller, startedAt });
    let set = this.#runningByJob.get(run.jobId);
    if (!set) this.#runningByJob.set(run.jobId, (set = new Set()));
    set.add(run.id);
    this.events.emit("run:started", this.#event(run, "running"));
    const timeoutMs = run.job.timeoutMs ?? this.deps.config.defaultTimeout;
    const timer = setTimeout(() => controller.abort(new TimedOut(timeoutMs)), timeoutMs);
    const executor = this.deps.executors[run.job.targetKind];
    const done = executor
      .execute(
        {
          runId: run.id,
          key: run.key,
          namespace: run.namespace,
          jobName: run.jobName,
          scheduledAt: run.scheduledAt,
          attempt: run.attempt,
          target: run.job.target,
          payload: run.job.payload,
        },
        controller.signal,
      )
      .catch((e) => ({ status: "failed" as const, error: `executor error: ${errorText(e)}`, result: undefined, retryAfterMs: undefined }))
      .then(async (outcome) => {
        clearTimeout(timer);
        const reason = controller.signal.reason;
        if (reason instanceof Shutdown) return; // released at stop: recovered by the next start or another node
        let status: Final = outcome.status;
        let error = outcome.error ?? null;
        if (controller.signal.aborted && reason instanceof TimedOut) {
          status = "timed_out";
          error = `timed out after ${reason.ms} ms`;
        } else if (controller.signal.aborted && reason instanceof Replaced) {
          status = "killed";
          error = `replaced by run ${reason.by} (overlap replace)`;
        } else if (controller.signal.aborted && outcome.status !== "succeeded") {
          status = "killed";
          error = "killed";
        }
        await this.#finish(run, status, outcome.result ?? null, error, outcome.retryAfterMs);
      })
      .finally(() => {
        this.#inFlight.delete(run.id);
        const s = this.#runningByJob.get(run.jobId);
        s?.delete(run.id);
        if (s && s.size === 0) this.#runningByJob.delete(run.jobId);
        this.#releaseWaiting(run.jobId);
        void this.#dispatch();
      });
    this.#track(done);
  }

  #track(p: Promise<void>) {
    this.#pendingFinishes.add(p);
    void p.finally(() => this.#pendingFinishes.delete(p));
  }

  #releaseWaiting(jobId: number) {
    const q = this.#waiting.get(jobId);
    if (!q || q.length === 0) return;
    const next = q.shift()!;
    if (q.length === 0) this.#waiting.delete(jobId);
    if (!next.cancelled) void this.#startBatch([next]);
  }

  /** Records the end of a run (fenced) and queues its retry, held by this node, when the policy allows. */
  async #finish(run: Claimed, status: Final, result: Record<string, unknown> | null, error: string | null, retryAfterMs?: number) {
    const now = this.deps.clock.now();
    const stmts: Stmt[] = [
      {
        sql: "UPDATE runs SET status = ?, ended_at = ?, result = ?, error = ?, lease_until = NULL WHERE id = ? AND fence = ?",
        args: [status, now, result ? JSON.stringify(result) : null, error, run.id, run.fence],
      },
    ];
    const delay = status === "failed" || status === "timed_out" ? retryDelay(run.job.retry, this.deps.config.defaultRetry, run.attempt, retryAfterMs) : null;
    if (delay !== null) {
      stmts.push({
        sql: `INSERT INTO runs (${RUN_INSERT_COLUMNS}) SELECT ?, ?, ?, ?, ?, 'retry', ?, ?, 'queued', ?, ?, 1, NULL, NULL, NULL
              WHERE changes() = 1 ON CONFLICT DO NOTHING RETURNING *`,
        args: [run.jobId, run.namespace, run.jobName, run.scheduledAt, now + delay, run.attempt + 1, Number(run.key), this.nodeId, now + delay + this.deps.config.lease],
      });
    }
    try {
      const results = await this.#writer.submit(stmts);
      if (results[0].rowsAffected === 0) {
        this.deps.log.warn("run finished after losing its lease; result not recorded", { run: run.id, status });
      }
      if (results[1]?.rows.length) this.#hold(results[1].rows.map((r) => claimedFrom(r, run.job)));
    } catch (e) {
      this.deps.log.error("could not record the end of a run", { run: run.id, status, error: errorText(e) });
    }
    this.events.emit("run:finished", this.#event(run, status));
  }

  /** Ends a run that never started (skipped by the overlap policy). */
  #finishUnstarted(run: Claimed, status: "skipped", error: string) {
    const now = this.deps.clock.now();
    this.#track(
      this.#writer
        .submit([
          {
            sql: "UPDATE runs SET status = ?, ended_at = ?, error = ?, lease_until = NULL WHERE id = ? AND fence = ? AND status = 'queued'",
            args: [status, now, error, run.id, run.fence],
          },
        ])
        .then(
          () => this.events.emit("run:finished", this.#event(run, status)),
          (e) => this.deps.log.error("could not record a skipped run", { run: run.id, error: errorText(e) }),
        ),
    );
  }

  #event(run: Claimed, status: string): RunEvent {
    return {
      runId: run.id,
      jobId: run.jobId,
      namespace: run.namespace,
      jobName: run.jobName,
      scheduledAt: run.scheduledAt,
      attempt: run.attempt,
      trigger: run.trigger,
      status,
    };
  }

  /** Aborts a run in flight on this node (kill); false when it is not running here. */
  abort(runId: number): boolean {
    const f = this.#inFlight.get(runId);
    if (!f) return false;
    f.controller.abort(new Error("killed"));
    return true;
  }

  /** Resolves once nothing is in flight and every write has committed (tests use it after moving time). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#ticking) await this.#ticking;
      if (this.#pendingFinishes.size) await Promise.all([...this.#pendingFinishes]);
      await this.#writer.flushed();
      if (!this.#ticking && this.#pendingFinishes.size === 0 && !this.#dispatching) return;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  get stats() {
    return { held: this.#heap.size, inFlight: this.#inFlight.size };
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
      if (this.#ticking) await this.#ticking.catch(() => {});
      const grace = this.deps.config.shutdownGrace;
      if (this.#inFlight.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all([...this.#pendingFinishes]),
          new Promise((r) => {
            timer = setTimeout(r, grace);
          }),
        ]);
        clearTimeout(timer);
      }
      const stranded = [...this.#inFlight.values()];
      for (const f of stranded) f.controller.abort(new Shutdown());
      this.#heap.drain();
      this.#waiting.clear();
      await this.#writer.flushed();
      const now = this.deps.clock.now();
      try {
        // recoverLost with this node's id marks what is still running lost, queues its recovery attempts
        // and releases held runs to any node.
        await recoverLost(this.deps.store, now, this.deps.config.defaultRetry.times, this.nodeId);
        await write(this.deps.store, [{ sql: "DELETE FROM nodes WHERE id = ?", args: [this.nodeId] }]);
      } catch (e) {
        this.deps.log.error("could not release runs at stop", { error: errorText(e) });
      }
    })();
    return this.#stopping;
  }
}

class TimedOut extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}
class Replaced extends Error {
  constructor(readonly by: number) {
    super(`replaced by run ${by}`);
  }
}
class Shutdown extends Error {
  constructor() {
    super("node shutting down");
  }
}
