// Running claimed runs. `prepare` applies the overlap policy and marks due runs `running` in one fenced
// write, a little before they are due, into a ready queue; `pump` starts ready runs at their due time
// (never before) as capacity allows, with no database round trip between one run ending and the next
// starting. Each run's end is recorded (fenced) with its actual start time, and its retry queued.
import type { Executors } from "../executors/types.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Claimed } from "./claim.ts";
import type { Clock } from "./clock.ts";
import type { Emitter, RunEvent } from "./events.ts";
import { type Final, Finisher } from "./finisher.ts";
import { MinHeap } from "./heap.ts";
import { retryDelay } from "./policy.ts";
import type { SchedulerConfig } from "./scheduler.ts";
import type { GroupWriter } from "./writer.ts";

/** A run marked running on this node: ready (waiting for its due time or capacity) or executing. */
interface Active {
  run: Claimed;
  controller: AbortController;
  executing: boolean;
  /** Due, but its host is at its limit: waits in that host's queue. */
  parked?: boolean;
}

export interface RunnerDeps {
  clock: Clock;
  log: Logger;
  executors: Executors;
  config: SchedulerConfig;
  writer: GroupWriter;
  events: Emitter;
  /** Takes retries (held by this node) into the timer heap. */
  hold: (runs: Claimed[]) => void;
  /** A run ended or was dropped: there is room for more. */
  settled: () => void;
}

export class Runner {
  #active = new Map<number, Active>();
  #executing = 0;
  #ready = new MinHeap<Active>((a, b) => a.run.dueAt < b.run.dueAt || (a.run.dueAt === b.run.dueAt && a.run.id < b.run.id));
  #activeByJob = new Map<number, Set<number>>();
  #waiting = new Map<number, Claimed[]>(); // overlap "queue": runs waiting for their job's earlier run
  #hostBusy = new Map<string, number>();
  #parked = new Map<string, Active[]>(); // due runs waiting for their host, oldest first
  #parkedCount = 0;
  #pending = new Set<Promise<void>>();
  #finisher: Finisher;

  constructor(private readonly deps: RunnerDeps) {
    // While due runs wait for capacity, starting them comes first: ends are recorded a little later.
    this.#finisher = new Finisher(deps.writer, deps.config.nodeId, () => this.#backlog());
  }

  /** Runs executing now. */
  get inFlight(): number {
    return this.#executing;
  }

  /** Runs marked running and waiting for their due time or for capacity. */
  get readyCount(): number {
    return this.#ready.size + this.#parkedCount;
  }

  /** Due time of the next ready run, if there is room to start it. */
  get nextStartAt(): number | null {
    if (this.#executing >= this.deps.config.maxInFlight) return null;
    return this.#ready.peek()?.run.dueAt ?? null;
  }

  /** Whether anything is under way: a run, the record of its end, or a ready run whose time has come. */
  get busy(): boolean {
    const next = this.nextStartAt;
    return this.#pending.size > 0 || (next !== null && next <= this.deps.clock.now());
  }

  /** Resolves when every run started so far has ended and been recorded. */
  async settledAll(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  /** Drops the runs of a job waiting for their turn (the job changed). */
  forget(jobId: number): void {
    this.#waiting.delete(jobId);
  }

  /** Aborts a run marked running on this node (kill); false when it is not here. */
  abort(runId: number): boolean {
    const a = this.#active.get(runId);
    if (!a) return false;
    a.controller.abort(new Killed());
    if (a.parked) {
      const q = this.#parked.get(a.run.job.host)!;
      q.splice(q.indexOf(a), 1);
      this.#unpark(a);
      this.#track(this.#end(a, aborted(a.controller.signal.reason), null, null));
    } else if (!a.executing) this.pump(); // a ready run is recorded killed without being started
    return true;
  }

  /** At stop, after the grace: runs still here are abandoned without a record (recovery takes them). */
  abandon(): void {
    for (const a of this.#active.values()) a.controller.abort(new Shutdown());
    this.#ready.drain();
    this.#parked.clear();
    this.#parkedCount = 0;
    this.#waiting.clear();
  }

  /** Applies the overlap policy and marks the runs running in one fenced write; they start via `pump`. */
  async prepare(batch: Claimed[]): Promise<void> {
    const mark: Claimed[] = [];
    const adding = new Map<number, number>(); // job id -> runs of this batch marked
    const add = (run: Claimed) => {
      mark.push(run);
      adding.set(run.jobId, (adding.get(run.jobId) ?? 0) + 1);
    };
    for (const run of batch) {
      const active = this.#activeByJob.get(run.jobId);
      const limit = run.job.maxConcurrency ?? (run.job.overlap === "allow" ? Infinity : 1);
      if ((active?.size ?? 0) + (adding.get(run.jobId) ?? 0) < limit) {
        add(run);
        continue;
      }
      switch (run.catchUp ? "queue" : run.job.overlap) {
        case "forbid":
          this.#finishUnstarted(run, "skipped", "overlap: the job's previous run was still running (policy forbid)");
          break;
        case "replace": {
          const oldest = active ? [...active][0] : undefined;
          if (oldest !== undefined) this.#active.get(oldest)?.controller.abort(new Replaced(run.id));
          add(run);
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
    if (mark.length === 0) return;
    const now = this.deps.clock.now();
    let rows;
    try {
      [{ rows }] = await this.deps.writer.submit([
        {
          // started_at is the expected start; the finish records the actual one. `+status`: look each run
          // up by id, not through the index of every queued run.
          sql: `UPDATE runs SET status = 'running', started_at = max(?, m.value->>1) FROM json_each(?) AS m
                WHERE runs.id = m.value->>0 AND +runs.status = 'queued' AND runs.node_id = ? RETURNING runs.id`,
          args: [now, JSON.stringify(mark.map((r) => [r.id, r.dueAt])), this.deps.config.nodeId],
        },
      ]);
    } catch (e) {
      // Not marked: the runs stay queued under this node's lease and are claimed again once it lapses.
      this.deps.log.error("could not mark runs running", { error: errorText(e), count: mark.length });
      return;
    }
    const marked = new Set(rows.map((r) => Number(r.id)));
    for (const run of mark) {
      // A run not marked was paused, replaced, deleted or taken over by another node meanwhile.
      if (!marked.has(run.id) || run.cancelled) continue;
      const a: Active = { run, controller: new AbortController(), executing: false };
      this.#active.set(run.id, a);
      let set = this.#activeByJob.get(run.jobId);
      if (!set) this.#activeByJob.set(run.jobId, (set = new Set()));
      set.add(run.id);
      this.#ready.push(a);
    }
    this.pump();
  }

  /** Whether due runs are waiting for capacity. */
  #backlog(): boolean {
    const top = this.#ready.peek();
    return this.#parkedCount > 0 || (top !== undefined && top.run.dueAt <= this.deps.clock.now());
  }

  /**
   * Starts ready runs whose due time has come, while there is capacity. A run whose host is at its limit
   * waits in that host's queue; the host's next free slot starts it (see #hostFreed).
   */
  pump(): void {
    const now = this.deps.clock.now();
    while (this.#executing < this.deps.config.maxInFlight) {
      const top = this.#ready.peek();
      if (!top || (top.run.dueAt > now && !top.controller.signal.aborted)) break;
      this.#ready.pop();
      if (top.controller.signal.reason instanceof Shutdown) continue;
      if (top.controller.signal.aborted) this.#track(this.#end(top, aborted(top.controller.signal.reason), null, null));
      else if ((this.#hostBusy.get(top.run.job.host) ?? 0) >= this.deps.config.maxInFlightPerHost) this.#park(top);
      else this.#execute(top);
    }
  }

  #park(a: Active) {
    a.parked = true;
    this.#parkedCount++;
    const q = this.#parked.get(a.run.job.host);
    if (q) q.push(a);
    else this.#parked.set(a.run.job.host, [a]);
  }

  #unpark(a: Active) {
    a.parked = false;
    this.#parkedCount--;
    const q = this.#parked.get(a.run.job.host);
    if (q && q.length === 0) this.#parked.delete(a.run.job.host);
  }

  /** A run of `host` ended: its oldest waiting run goes next. */
  #hostFreed(host: string) {
    const n = (this.#hostBusy.get(host) ?? 1) - 1;
    if (n > 0) this.#hostBusy.set(host, n);
    else this.#hostBusy.delete(host);
    const q = this.#parked.get(host);
    if (!q || this.#executing >= this.deps.config.maxInFlight) return;
    const next = q.shift()!;
    this.#unpark(next);
    this.#execute(next);
  }

  #execute(a: Active) {
    const { run, controller } = a;
    a.executing = true;
    this.#executing++;
    this.#hostBusy.set(run.job.host, (this.#hostBusy.get(run.job.host) ?? 0) + 1);
    const startedAt = this.deps.clock.now();
    if (this.deps.events.has("run:started")) this.deps.events.emit("run:started", this.#event(run, "running"));
    const timeoutMs = run.job.timeoutMs ?? this.deps.config.defaultTimeout;
    const timer = setTimeout(() => controller.abort(new TimedOut(timeoutMs)), timeoutMs);
    const done = this.deps.executors[run.job.targetKind]
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
      .then((outcome) => {
        clearTimeout(timer);
        this.#executing--;
        this.#hostFreed(run.job.host);
        this.pump(); // the next run starts now; this one's end is recorded meanwhile
        this.#refill();
        const reason = controller.signal.reason;
        if (reason instanceof Shutdown) return this.#drop(a); // recovered by the next start or another node
        if (controller.signal.aborted && outcome.status !== "succeeded") {
          const { status, error } = aborted(reason);
          return this.#end(a, { status, error }, outcome.result ?? null, startedAt);
        }
        return this.#end(a, { status: outcome.status, error: outcome.error ?? null }, outcome.result ?? null, startedAt, outcome.retryAfterMs);
      });
    this.#track(done);
  }

  /** Records the end of a run (fenced) and queues its retry, held by this node, when the policy allows. */
  async #end(a: Active, end: { status: Final; error: string | null }, result: Record<string, unknown> | null, startedAt: number | null, retryAfterMs?: number) {
    const { run } = a;
    const now = this.deps.clock.now();
    const { status, error } = end;
    const delay = status === "failed" || status === "timed_out" ? retryDelay(run.job.retry, this.deps.config.defaultRetry, run.attempt, retryAfterMs) : null;
    try {
      const done = await this.#finisher.add({
        run,
        status,
        startedAt,
        endedAt: now,
        result,
        error,
        retry: delay === null ? null : { dueAt: now + delay, leaseUntil: now + delay + this.deps.config.lease },
      });
      if (!done.recorded) this.deps.log.warn("run finished after losing its lease; result not recorded", { run: run.id, status });
      if (done.retry) this.deps.hold([done.retry]);
    } catch (e) {
      this.deps.log.error("could not record the end of a run", { run: run.id, status, error: errorText(e) });
    }
    this.#drop(a);
    if (this.deps.events.has("run:finished")) this.deps.events.emit("run:finished", this.#event(run, status));
  }

  /** Forgets a run that ended here, and lets the next one in. */
  #drop(a: Active) {
    const { run } = a;
    this.#active.delete(run.id);
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
    const q = this.#waiting.get(jobId);
    if (!q || q.length === 0) return;
    const next = q.shift()!;
    if (q.length === 0) this.#waiting.delete(jobId);
    if (!next.cancelled) this.#track(this.prepare([next]));
  }

  /** Ends a run that never started (skipped by the overlap policy). */
  #finishUnstarted(run: Claimed, status: "skipped", error: string) {
    const now = this.deps.clock.now();
    this.#track(
      this.deps.writer
        .submit([
          {
            sql: "UPDATE runs SET status = ?, ended_at = ?, error = ?, lease_until = NULL WHERE id = ? AND fence = ? AND +status = 'queued'",
            args: [status, now, error, run.id, run.fence],
          },
        ])
        .then(
          () => this.deps.events.emit("run:finished", this.#event(run, status)),
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
}

/** How an aborted run ends, by the reason it was aborted for. */
function aborted(reason: unknown): { status: Final; error: string } {
  if (reason instanceof TimedOut) return { status: "timed_out", error: `timed out after ${reason.ms} ms` };
  if (reason instanceof Replaced) return { status: "killed", error: `replaced by run ${reason.by} (overlap replace)` };
  return { status: "killed", error: "killed" };
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
class Killed extends Error {
  constructor() {
    super("killed");
  }
}
class Shutdown extends Error {
  constructor() {
    super("node shutting down");
  }
}
