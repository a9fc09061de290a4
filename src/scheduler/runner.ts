// Running claimed runs. `prepare` applies the overlap policy and marks due runs `running` in one fenced
// write, a little before they are due, into a ready queue; `pump` starts ready runs at their due time
// (never before) as capacity allows, with no database round trip between one run ending and the next
// starting. Each run's end is recorded (fenced) with its actual start time, and its retry queued.
import { errorText, type Executors } from "../executors/types.ts";
import type { Egress } from "../net/egress.ts";
import { recordProcess } from "../store/marks.ts";
import { type Active, ActiveRuns } from "./active.ts";
import { Capacity } from "./capacity.ts";
import { runEvent } from "./events.ts";
import { execute } from "./execute.ts";
import { Finisher, type FinisherDeps } from "./finisher.ts";
import { resolveHostKeys } from "./host-keys.ts";
import { aborted, Cancelled, Killed, Replaced, Shutdown, TimedOut } from "./outcomes.ts";
import { type OutputOptions, RunLogs } from "./output.ts";
import { type Admission, admitBatch, markBatch } from "./marking.ts";
import type { Claimed, Final, Recheck } from "./types.ts";

export interface RunnerDeps extends Omit<FinisherDeps, "defer"> {
  executors: Executors;
  /** A run ended or was dropped: there is room for more. */
  settled: () => void;
  /** Runs of a namespace that may execute at once on this node ([limits] max_in_flight); none: no limit. */
  namespaceLimit?: (ns: string) => number;
  /** Whether other nodes share the database (overlap forbid must then be checked in SQL, not only here). */
  shared: () => boolean;
  output: OutputOptions;
  /** Resolves host names for the per-host limit, as the executors do (the same cache); none: names are keys. */
  egress?: Egress;
  /** Checks process, script and container targets against this node's config before they run. */
  recheck?: Recheck;
}

/** Longest timer a runtime arms as asked (2^31-1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export class Runner {
  #active = new ActiveRuns();
  #capacity: Capacity;
  #pending = new Set<Promise<void>>();
  #closed = false;
  #markedAfterClose: number[] = [];
  #finisher: Finisher;
  #logs: RunLogs;
  /** Starts a run a freed slot hands over (bound once: it is called on every run's end). */
  #startNext = (a: Active) => this.#start(a);
  #admission: Admission = {
    running: (jobId) => this.#active.countOf(jobId),
    waiting: (jobId) => this.#active.waiting.waiting(jobId),
    wait: (run) => {
      run.waitedForTurn = true;
      this.#active.waiting.push(run);
    },
    unstarted: (run, status, error) => this.#track(this.#finisher.unstarted(run, status, error)),
    replaceOldest: (jobId, by) => this.#replaceOldest(jobId, by),
  };

  constructor(private readonly deps: RunnerDeps) {
    this.#capacity = new Capacity(deps.config.maxInFlight, deps.config.maxInFlightPerHost, deps.namespaceLimit);
    this.#logs = new RunLogs(deps, deps.output);
    this.#finisher = new Finisher({ ...deps, defer: () => this.#backlog() });
  }

  /** Runs executing now. */
  get inFlight(): number {
    return this.#capacity.executing;
  }

  /** Runs marked running and waiting for their due time or for capacity (not those waiting for their host). */
  get readyCount(): number {
    return this.#capacity.readyCount;
  }

  /** Runs waiting for their host's or their namespace's limit. */
  get parkedCount(): number {
    return this.#capacity.parkedCount;
  }

  /** Which limit runs like `run` already wait for here: its namespace's, its host's, or none. */
  backlog(run: Claimed): "namespace" | "host" | null {
    return this.#capacity.backlog(run.namespace, run.job.host);
  }

  /** Runs waiting for their job's earlier run (overlap queue, allow past max concurrency, catch-up). */
  get waitingCount(): number {
    return this.#active.waiting.size;
  }

  /**
   * When a timer should next start a ready run: the due time of the next one not yet due. A due one that
   * pump left waiting waits for capacity, and the next run to end starts it: no timer.
   */
  get nextStartAt(): number | null {
    if (this.#closed) return null;
    const at = this.#capacity.peek()?.run.dueAt;
    return at !== undefined && at > this.deps.clock.now() ? at : null;
  }

  /** Whether anything is under way: a run, the record of its end, or a ready run whose time has come. */
  get busy(): boolean {
    const top = this.#capacity.peek();
    return this.#pending.size > 0 || (!this.#closed && top !== undefined && top.run.dueAt <= this.deps.clock.now());
  }

  /** Runs marked running here (ready or executing). */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Ids of every run held here (ready, waiting for its host or its job's earlier run, or executing). */
  ids(): number[] {
    return this.#active.ids();
  }

  /** Whether a run is held here. */
  has(runId: number): boolean {
    return this.#active.has(runId);
  }

  /** Whether `runId` is marked running on this node. */
  running(runId: number): boolean {
    return this.#active.get(runId) !== undefined;
  }

  /** Resolves when every run started so far has ended and been recorded. */
  async settledAll(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  /**
   * The job changed (replaced, paused, removed): its runs waiting for an earlier one are dropped (their rows
   * were deleted), and those marked running but not started end `skipped` instead of starting.
   */
  cancelJob(jobId: number): void {
    this.#active.waiting.drop(jobId);
    for (const a of this.#active.ofJob(jobId)) if (!a.executing) this.#stopUnstarted(a, new Cancelled());
  }

  /** Aborts a run marked running on this node (kill); false when it is not here. Idempotent. */
  abort(runId: number): boolean {
    const a = this.#active.get(runId);
    if (!a) return false;
    a.killed = true;
    if (a.controller.signal.aborted) return true; // already stopping (timeout, replace): it now ends killed
    if (a.executing) a.controller.abort(new Killed());
    else this.#stopUnstarted(a, new Killed());
    return true;
  }

  /** Ends a run marked running that has not started, without starting it. */
  #stopUnstarted(a: Active, reason: Error) {
    a.controller.abort(reason);
    this.#capacity.unpark(a);
    // Ended now, whatever the capacity: pump skips it when it reaches the top of the ready queue.
    this.#track(this.#end(a, aborted(reason), null, null));
  }

  /** At stop: nothing more starts; runs executing go on. */
  stopStarting(): void {
    this.#closed = true;
  }

  /**
   * At stop, after the grace: returns the runs marked running that never started (to be put back in the
   * queue); runs still executing are abandoned without a record (recovery takes them).
   */
  close(): number[] {
    this.#closed = true;
    const unstarted: number[] = this.#markedAfterClose.splice(0);
    for (const a of this.#active.values()) {
      if (!a.executing) unstarted.push(a.run.id);
      a.controller.abort(new Shutdown());
    }
    this.#capacity.clear();
    this.#active.waiting.clear();
    return unstarted;
  }

  /** Applies the overlap policy and marks the runs running in one fenced write; they start via `pump`. */
  prepare(batch: Claimed[]): Promise<void> {
    const p = this.#prepare(batch);
    this.#track(p); // stop waits for a mark in progress
    return p;
  }

  async #prepare(batch: Claimed[]): Promise<void> {
    if (this.#closed) return;
    const mark = admitBatch(batch, this.#admission);
    if (mark.length === 0) return;
    const marked = await markBatch(this.deps, mark, this.deps.shared(), this.#admission.running, (p) => this.#track(p));
    if (!marked) return;
    const resolved = this.deps.egress ? resolveHostKeys(this.deps.egress, mark) : null;
    for (const run of mark) {
      // A run not marked was paused, replaced, deleted or taken over by another node meanwhile. One marked
      // after stop began does not start: stop puts it back in the queue.
      if (!marked.has(run.id) || run.cancelled) continue;
      if (this.#closed) {
        this.#markedAfterClose.push(run.id);
        continue;
      }
      const a: Active = { run, host: run.job.host, controller: new AbortController(), executing: false };
      this.#active.add(a);
      const key = run.job.resolve && resolved?.get(`${run.namespace}\u0000${run.job.resolve.name}`);
      if (key) {
        // Ready once its host is known; a slow resolver holds up only the runs to that name.
        this.#track(
          key.then((host) => {
            if (host) a.host = `${host}:${run.job.resolve!.port}`;
            if (this.#active.get(run.id) !== a || a.controller.signal.aborted || this.#closed) return;
            this.#capacity.ready(a);
            this.pump();
          }),
        );
      } else this.#capacity.ready(a);
      if (this.deps.events.has("run:ready")) this.deps.events.emit("run:ready", runEvent(run, "running"));
    }
    this.pump();
  }

  /** The job's oldest run on this node stops, replaced by run `by` (overlap replace). */
  #replaceOldest(jobId: number, by: number) {
    const oldest = this.#active.ofJob(jobId).find((a) => !a.controller.signal.aborted);
    if (oldest?.executing) oldest.controller.abort(new Replaced(by));
    else if (oldest) this.#stopUnstarted(oldest, new Replaced(by));
  }

  /** Whether due runs are waiting for capacity. */
  #backlog(): boolean {
    if (this.#closed) return false;
    const top = this.#capacity.peek();
    return this.parkedCount > 0 || (top !== undefined && top.run.dueAt <= this.deps.clock.now());
  }

  /**
   * Starts ready runs whose due time has come, while there is capacity. A run whose namespace or host is
   * at its limit waits in that one's queue; its next free slot starts it.
   */
  pump(): void {
    if (this.#closed) return;
    const now = this.deps.clock.now();
    for (let a = this.#capacity.takeDue(now); a; a = this.#capacity.takeDue(now)) {
      if (this.#active.get(a.run.id) !== undefined) this.#start(a); // else ended before it started (killed, cancelled)
    }
  }

  #start(a: Active) {
    if (this.#capacity.admit(a)) this.#execute(a);
  }

  #execute(a: Active) {
    const { run, controller } = a;
    const { clock } = this.deps;
    a.executing = true;
    const startedAt = clock.now();
    if (this.deps.events.has("run:started")) this.deps.events.emit("run:started", runEvent(run, "running"));
    const timeoutMs = Math.min(run.job.timeoutMs ?? this.deps.config.defaultTimeout, MAX_TIMER_MS);
    const timer = clock.setTimer(timeoutMs, () => controller.abort(new TimedOut(timeoutMs)));
    const kind = run.job.targetKind;
    // Only local processes have output to keep; HTTP and TCP results are kept on the run itself.
    const sink = kind === "http" || kind === "tcp" ? null : this.#logs.open(run.id);
    // A local run's process group is recorded, so that recovery on this machine can end it if tock dies.
    const spawned = sink ? (pgid: number, identity: string | null, container?: string) => this.#recordProcess(run, pgid, identity, container) : undefined;
    const done = execute(run, this.deps.executors, this.deps.recheck, sink, controller.signal, spawned).then(async (outcome) => {
      clock.clearTimer(timer);
      // The oldest runs waiting for this host and for this namespace go next (at stop they stay unstarted,
      // and are requeued).
      this.#capacity.release(a, this.#closed ? null : this.#startNext);
      // The run no longer counts for its job's overlap, and the next one starts now; this one's end is
      // recorded meanwhile.
      this.#drop(a);
      const tail = sink?.close() ?? null;
      // The run's lines commit before its end record: whoever sees the run ended has every line.
      if (sink) await this.#logs.flush();
      const reason = a.killed ? new Killed() : controller.signal.reason;
      if (reason instanceof Shutdown) return; // recovered by the next start or another node
      if (controller.signal.aborted && outcome.status !== "succeeded") {
        return this.#end(a, aborted(reason), outcome.result ?? null, startedAt, undefined, tail);
      }
      return this.#end(a, { status: outcome.status, error: outcome.error ?? null }, outcome.result ?? null, startedAt, outcome.retryAfterMs, tail);
    });
    this.#track(done);
  }

  #recordProcess(run: Claimed, pgid: number, identity: string | null, container?: string) {
    this.deps.writer.submit(recordProcess(run, pgid, identity, container)).catch((e) => this.deps.log.warn("could not record a run's process", { run: run.id, error: errorText(e) }));
  }

  /** Records the end of a run (fenced), with its retry when the policy allows. */
  #end(a: Active, end: { status: Final; error: string | null }, result: Record<string, unknown> | null, startedAt: number | null, retryAfterMs?: number, tail: string | null = null) {
    if (!a.executing && startedAt === null) this.#drop(a); // ended without starting
    return this.#finisher.end(a.run, end.status, end.error, result, startedAt, retryAfterMs, tail);
  }

  /** Forgets a run that ended (or will not start) here, and lets the next one in. */
  #drop(a: Active) {
    if (!this.#active.delete(a)) return;
    const next = this.#active.waiting.shift(a.run.jobId);
    if (next && !next.cancelled) void this.prepare([next]); // prepare tracks itself
    this.pump();
    this.#refill();
  }

  /**
   * Asks the scheduler for more once the ready queue runs low, or for a timer when its next run is not yet
   * due; not on every run's end while due runs are queued here (pump starts those), as it re-arms timers.
   */
  #refill() {
    const top = this.#capacity.peek();
    if (this.#capacity.readyCount < this.deps.config.maxInFlight / 2 + 1 || (top && top.run.dueAt > this.deps.clock.now())) this.deps.settled();
  }

  #track(p: Promise<void>) {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }
}
