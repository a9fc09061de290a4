// Running claimed runs. `prepare` applies the overlap policy and marks due runs `running` in one fenced
// write, a little before they are due, into a ready queue; `pump` starts ready runs at their due time
// (never before) as capacity allows, with no database round trip between one run ending and the next
// starting. Each run's end is recorded (fenced) with its actual start time, and its retry queued.
import type { ExecRequest, Executors, Outcome } from "../executors/types.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Claimed } from "./claim.ts";
import { endUnstartedStatement, markStatement, skipBlockedStatement } from "./marks.ts";
import type { Clock } from "../clock.ts";
import type { Emitter, RunEvent } from "./events.ts";
import { type Final, Finisher } from "./finisher.ts";
import { MinHeap } from "./heap.ts";
import { resolveHostKeys } from "./host-keys.ts";
import { Slots } from "./slots.ts";
import { JobQueues, MAX_WAITING } from "./waiting.ts";
import { aborted, Cancelled, clusterLimit, Killed, Replaced, Shutdown, TimedOut } from "./outcomes.ts";
import { retryDelay } from "./policy.ts";
import type { SchedulerConfig } from "./scheduler.ts";
import type { GroupWriter } from "./writer.ts";
import { type OutputOptions, RunLogs } from "./output.ts";
import { withParams } from "../domain/targets.ts";
import type { Egress } from "../net/egress.ts";

/** A run marked running on this node: ready (waiting for its due time or capacity) or executing. */
interface Active {
  run: Claimed;
  /** Its per-host key: the job's, or for a host name the address it resolves to. */
  host: string;
  controller: AbortController;
  executing: boolean;
  /** A kill was requested: the run ends killed (and is not retried) whatever else stopped it. */
  killed?: boolean;
}

export interface RunnerDeps {
  clock: Clock;
  log: Logger;
  executors: Executors;
  config: SchedulerConfig;
  writer: GroupWriter;
  events: Emitter;
  /** Takes retries due soon (held by this node) into the timer heap. */
  hold: (runs: Claimed[]) => void;
  /** A run ended or was dropped: there is room for more. */
  settled: () => void;
  /** Runs of a namespace that may execute at once on this node ([limits] max_in_flight); none: no limit. */
  namespaceLimit?: (ns: string) => number;
  /** Whether other nodes share the database (overlap forbid must then be checked in SQL, not only here). */
  shared: () => boolean;
  output: OutputOptions;
  /** Resolves host names for the per-host limit, as the executors do (the same cache); none: names are keys. */
  egress?: Egress;
}

/** A run whose kind of executor this node does not have (process jobs turned off in its config). */
const disabled = (kind: string): Outcome => ({ status: "failed", error: `${kind} jobs are turned off on this node ([executors.process] enabled = false)` });

/** Longest timer a runtime arms as asked (2^31-1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export class Runner {
  #active = new Map<number, Active>();
  #executing = 0;
  #ready = new MinHeap<Active>((a, b) => a.run.dueAt < b.run.dueAt || (a.run.dueAt === b.run.dueAt && a.run.id < b.run.id));
  #activeByJob = new Map<number, Set<number>>();
  #waiting = new JobQueues();
  #hosts = new Slots<Active>(() => this.deps.config.maxInFlightPerHost);
  /** No namespace takes every slot ([limits] max_in_flight): the rest wait while other namespaces run. */
  #namespaces = new Slots<Active>((ns) => this.deps.namespaceLimit?.(ns) ?? Number.POSITIVE_INFINITY);
  #pending = new Set<Promise<void>>();
  #closed = false;
  #markedAfterClose: number[] = [];
  #finisher: Finisher;
  #logs: RunLogs;

  constructor(private readonly deps: RunnerDeps) {
    this.#logs = new RunLogs(deps, deps.output);
    // While due runs wait for capacity, starting them comes first: ends are recorded a little later.
    this.#finisher = new Finisher(deps.writer, deps.config.nodeId, () => this.#backlog());
  }

  /** Runs executing now. */
  get inFlight(): number {
    return this.#executing;
  }

  /** Runs marked running and waiting for their due time or for capacity (not those waiting for their host). */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Runs waiting for their host's or their namespace's limit. */
  get parkedCount(): number {
    return this.#hosts.waiting + this.#namespaces.waiting;
  }

  /**
   * When a timer should next start a ready run: the due time of the next one not yet due. A due one that
   * pump left waiting waits for capacity, and the next run to end starts it: no timer.
   */
  get nextStartAt(): number | null {
    if (this.#closed) return null;
    const at = this.#ready.peek()?.run.dueAt;
    return at !== undefined && at > this.deps.clock.now() ? at : null;
  }

  /** Whether anything is under way: a run, the record of its end, or a ready run whose time has come. */
  get busy(): boolean {
    const top = this.#ready.peek();
    return this.#pending.size > 0 || (!this.#closed && top !== undefined && top.run.dueAt <= this.deps.clock.now());
  }

  /** Runs marked running here (ready or executing). */
  get activeCount(): number {
    return this.#active.size;
  }

  /** Ids of every run held here (ready, waiting for its host or its job's earlier run, or executing). */
  ids(): number[] {
    const ids = [...this.#active.keys()];
    ids.push(...this.#waiting.ids());
    return ids;
  }

  /** Whether a run is held here. */
  has(runId: number): boolean {
    return this.#active.has(runId) || this.#waiting.has(runId);
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
    this.#waiting.drop(jobId);
    for (const id of this.#activeByJob.get(jobId) ?? []) {
      const a = this.#active.get(id);
      if (a && !a.executing) this.#stopUnstarted(a, new Cancelled());
    }
  }

  /** Aborts a run held on this node (kill); false when it is not here. Idempotent. */
  /** Whether `runId` is marked running on this node. */
  running(runId: number): boolean {
    return this.#active.has(runId);
  }

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
    this.#hosts.remove(a.host, a);
    this.#namespaces.remove(a.run.namespace, a);
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
    this.#ready.drain();
    this.#hosts.clear();
    this.#namespaces.clear();
    this.#waiting.clear();
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
    const mark: Claimed[] = [];
    const adding = new Map<number, Claimed[]>(); // job id -> runs of this batch marked
    const add = (run: Claimed) => {
      mark.push(run);
      const list = adding.get(run.jobId);
      if (list) list.push(run);
      else adding.set(run.jobId, [run]);
    };
    for (const run of batch) {
      const active = this.#activeByJob.get(run.jobId);
      const batchmates = adding.get(run.jobId) ?? [];
      const limit = run.job.maxConcurrency ?? (run.job.overlap === "allow" ? Number.POSITIVE_INFINITY : 1);
      if ((active?.size ?? 0) + batchmates.length < limit) {
        add(run);
        continue;
      }
      switch (run.catchUp ? "queue" : run.job.overlap) {
        case "forbid":
          this.#finishUnstarted(run, "skipped", "overlap: the job's previous run was still running (policy forbid)");
          break;
        case "replace": {
          if (batchmates.length > 0) {
            // The run it replaces is in this same batch: that one never starts.
            const first = batchmates.shift()!;
            mark.splice(mark.indexOf(first), 1);
            this.#finishUnstarted(first, "killed", `replaced by run ${run.id} (overlap replace)`);
          } else {
            const oldest = [...(active ?? [])].map((id) => this.#active.get(id)!).find((a) => !a.controller.signal.aborted);
            if (oldest?.executing) oldest.controller.abort(new Replaced(run.id));
            else if (oldest) this.#stopUnstarted(oldest, new Replaced(run.id));
          }
          add(run);
          break;
        }
        case "queue":
        case "allow": {
          // Catch-up runs of misfire `all` are bounded by misfire_all_cap instead.
          if (!this.#waiting.push(run, run.catchUp === true)) {
            this.#finishUnstarted(run, "skipped", `overlap: ${MAX_WAITING} runs of the job already wait for their turn (policy ${run.job.overlap})`);
          }
          break;
        }
      }
    }
    if (mark.length === 0) return;
    const now = this.deps.clock.now();
    const shared = this.deps.shared();
    let rows;
    try {
      // Runs of the job this node holds, and those of this batch ahead of it, count against the limit.
      const ahead = new Map<number, number>();
      const room = (run: Claimed) => {
        const limit = clusterLimit(run);
        if (!shared || limit === null) return null;
        const earlier = ahead.get(run.jobId) ?? 0;
        ahead.set(run.jobId, earlier + 1);
        return limit - ((this.#activeByJob.get(run.jobId)?.size ?? 0) + earlier);
      };
      [{ rows }] = await this.deps.writer.submit([markStatement(mark, now, this.deps.config.nodeId, mark.map(room))]);
    } catch (e) {
      // Not marked and no longer held: this node stops renewing their leases, so once those lapse the
      // runs are claimed again (by any node, this one included).
      this.deps.log.error("could not mark runs running", { error: errorText(e), count: mark.length });
      return;
    }
    const marked = new Set(rows.map((r) => Number(r.id)));
    const resolved = this.deps.egress ? resolveHostKeys(this.deps.egress, mark) : null;
    // Not marked because another node runs the job (overlap forbid): skipped, as on one node. (One not marked
    // because it was deleted or taken over is untouched by this: gone, or its fence moved.)
    const blocked = shared ? mark.filter((r) => !marked.has(r.id) && clusterLimit(r) !== null) : [];
    if (blocked.length) {
      const at = this.deps.clock.now();
      const recorded = this.deps.writer.submit([skipBlockedStatement(blocked, at, this.deps.config.nodeId)]);
      this.#track(recorded.then(() => undefined, (e) => this.deps.log.error("could not record skipped runs", { error: errorText(e) })));
    }
    for (const run of mark) {
      // A run not marked was paused, replaced, deleted or taken over by another node meanwhile. One marked
      // after stop began does not start: stop puts it back in the queue.
      if (!marked.has(run.id) || run.cancelled) continue;
      if (this.#closed) {
        this.#markedAfterClose.push(run.id);
        continue;
      }
      const a: Active = { run, host: run.job.host, controller: new AbortController(), executing: false };
      this.#active.set(run.id, a);
      let set = this.#activeByJob.get(run.jobId);
      if (!set) this.#activeByJob.set(run.jobId, (set = new Set()));
      set.add(run.id);
      const key = run.job.resolve && resolved?.get(`${run.namespace}\u0000${run.job.resolve.name}`);
      if (key) {
        // Ready once its host is known; a slow resolver holds up only the runs to that name.
        this.#track(
          key.then((host) => {
            if (host) a.host = `${host}:${run.job.resolve!.port}`;
            if (this.#active.get(run.id) !== a || a.controller.signal.aborted || this.#closed) return;
            this.#ready.push(a);
            this.pump();
          }),
        );
      } else this.#ready.push(a);
      if (this.deps.events.has("run:ready")) this.deps.events.emit("run:ready", this.#event(run, "running"));
    }
    this.pump();
  }

  /** Whether due runs are waiting for capacity. */
  #backlog(): boolean {
    if (this.#closed) return false;
    const top = this.#ready.peek();
    return this.parkedCount > 0 || (top !== undefined && top.run.dueAt <= this.deps.clock.now());
  }

  /**
   * Starts ready runs whose due time has come, while there is capacity. A run whose namespace or host is
   * at its limit waits in that one's queue; its next free slot starts it.
   */
  pump(): void {
    if (this.#closed) return;
    const now = this.deps.clock.now();
    while (this.#executing < this.deps.config.maxInFlight) {
      const top = this.#ready.peek();
      if (!top || top.run.dueAt > now) break;
      this.#ready.pop();
      if (!this.#active.has(top.run.id)) continue; // ended before it started (killed, cancelled)
      this.#start(top);
    }
  }

  /** Starts a due run, or parks it in the queue of the limit it is at (its namespace's, else its host's). */
  #start(a: Active) {
    if (this.#namespaces.full(a.run.namespace)) this.#namespaces.wait(a.run.namespace, a);
    else if (this.#hosts.full(a.host)) this.#hosts.wait(a.host, a);
    else if (this.#executing >= this.deps.config.maxInFlight) this.#ready.push(a); // the next end pumps it
    else this.#execute(a);
  }

  #execute(a: Active) {
    const { run, controller } = a;
    a.executing = true;
    this.#executing++;
    this.#hosts.take(a.host);
    this.#namespaces.take(run.namespace);
    const startedAt = this.deps.clock.now();
    if (this.deps.events.has("run:started")) this.deps.events.emit("run:started", this.#event(run, "running"));
    const timeoutMs = Math.min(run.job.timeoutMs ?? this.deps.config.defaultTimeout, MAX_TIMER_MS);
    const timer = setTimeout(() => controller.abort(new TimedOut(timeoutMs)), timeoutMs);
    const kind = run.job.targetKind;
    const executor = this.deps.executors[kind];
    const request = this.#request(run);
    // Only local processes have output to keep; HTTP and TCP results are kept on the run itself.
    const sink = kind === "http" || kind === "tcp" ? null : this.#logs.open(run.id);
    if (sink) request.output = sink;
    const done = (
      run.job.unopened
        ? Promise.resolve<Outcome>({ status: "failed", error: run.job.unopened })
        : executor
          ? executor.execute(request, controller.signal)
          : Promise.resolve(disabled(kind))
    )
      .catch((e) => ({ status: "failed" as const, error: `executor error: ${errorText(e)}`, result: undefined, retryAfterMs: undefined }))
      .then(async (outcome) => {
        clearTimeout(timer);
        this.#executing--;
        // The oldest runs waiting for this host and for this namespace go next (at stop they stay unstarted,
        // and are requeued).
        const forHost = this.#hosts.release(a.host);
        const forNamespace = this.#namespaces.release(run.namespace);
        if (!this.#closed) {
          if (forNamespace) this.#start(forNamespace);
          if (forHost) this.#start(forHost);
        }
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

  /** Records the end of a run (fenced) and queues its retry when the policy allows. */
  async #end(
    a: Active,
    end: { status: Final; error: string | null },
    result: Record<string, unknown> | null,
    startedAt: number | null,
    retryAfterMs?: number,
    outputTail: string | null = null,
  ) {
    const { run } = a;
    if (!a.executing && startedAt === null) this.#drop(a); // ended without starting
    const now = this.deps.clock.now();
    const { status, error } = end;
    const delay = status === "failed" || status === "timed_out" ? retryDelay(run.job.retry, this.deps.config.defaultRetry, run.attempt, retryAfterMs, Math.random, this.deps.config.minEvery) : null;
    try {
      const done = await this.#finisher.add({
        run,
        status,
        startedAt,
        endedAt: now,
        result,
        error,
        outputTail,
        retry:
          delay === null
            ? null
            : // A retry due within the lookahead stays with this node; a later one is left for any node to claim.
              { dueAt: now + delay, leaseUntil: delay <= this.deps.config.lookahead ? now + delay + this.deps.config.lease : null },
      });
      if (!done.recorded) this.deps.log.warn("run finished after losing its lease; result not recorded", { run: run.id, status });
      if (done.retry) this.deps.hold([done.retry]);
    } catch (e) {
      // Not recorded: the run is no longer held, so its lease lapses and it is recovered (lost, then retried).
      this.deps.log.error("could not record the end of a run", { run: run.id, status, error: errorText(e) });
    }
    if (this.deps.events.has("run:finished")) this.deps.events.emit("run:finished", this.#event(run, status));
  }

  /** Forgets a run that ended (or will not start) here, and lets the next one in. */
  #drop(a: Active) {
    const { run } = a;
    if (!this.#active.delete(run.id)) return;
    const s = this.#activeByJob.get(run.jobId);
    s?.delete(run.id);
    if (s && s.size === 0) this.#activeByJob.delete(run.jobId);
    this.#releaseWaiting(run.jobId);
    this.pump();
    this.#refill();
  }

  /**
   * Asks the scheduler for more once the ready queue runs low, or for a timer when its next run is not yet
   * due; not on every run's end while due runs are queued here (pump starts those), as it re-arms timers.
   */
  #refill() {
    const top = this.#ready.peek();
    if (this.#ready.size < this.deps.config.maxInFlight / 2 + 1 || (top && top.run.dueAt > this.deps.clock.now())) this.deps.settled();
  }

  #track(p: Promise<void>) {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #releaseWaiting(jobId: number) {
    const next = this.#waiting.shift(jobId);
    if (next && !next.cancelled) void this.prepare([next]); // prepare tracks itself
  }

  /** Ends a run that never started (skipped or replaced by the overlap policy), while still queued. */
  #finishUnstarted(run: Claimed, status: "skipped" | "killed", error: string) {
    const now = this.deps.clock.now();
    this.#track(
      this.deps.writer
        .submit([endUnstartedStatement(run, status, now, error)])
        .then(
          () => {
            if (this.deps.events.has("run:finished")) this.deps.events.emit("run:finished", this.#event(run, status));
          },
          (e) => this.deps.log.error("could not record a run that did not start", { run: run.id, error: errorText(e) }),
        ),
    );
  }

  #request(run: Claimed): ExecRequest {
    return {
      runId: run.id,
      key: run.key,
      namespace: run.namespace,
      jobName: run.jobName,
      scheduledAt: run.scheduledAt,
      attempt: run.attempt,
      target: withParams(run.job.targetKind, run.job.target, run.params),
      payload: run.job.payload,
    };
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
}
