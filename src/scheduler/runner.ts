// Running claimed runs: the overlap policy, the fenced mark as `running`, the executor with its timeout,
// the fenced finish and the retry. The scheduler hands due runs to `start`; the runner hands retries back
// through `hold` and says when capacity frees up through `settled`.
import type { Executors } from "../executors/types.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Claimed } from "./claim.ts";
import type { Clock } from "./clock.ts";
import type { Emitter, RunEvent } from "./events.ts";
import { type Final, Finisher } from "./finisher.ts";
import { retryDelay } from "./policy.ts";
import type { SchedulerConfig } from "./scheduler.ts";
import type { GroupWriter } from "./writer.ts";

interface InFlight {
  run: Claimed;
  controller: AbortController;
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
  /** A run ended: capacity is free again. */
  settled: () => void;
}

export class Runner {
  #inFlight = new Map<number, InFlight>();
  #runningByJob = new Map<number, Set<number>>();
  #waiting = new Map<number, Claimed[]>(); // overlap "queue": runs waiting for their job's earlier run
  #pending = new Set<Promise<void>>();

  #finisher: Finisher;

  constructor(private readonly deps: RunnerDeps) {
    this.#finisher = new Finisher(deps.writer, deps.config.nodeId);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Whether anything (a run, or the record of its end) is still under way. */
  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** Resolves when every run started so far has ended and been recorded. */
  async settledAll(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  /** Drops the runs of a job waiting for their turn (the job changed). */
  forget(jobId: number): void {
    this.#waiting.delete(jobId);
  }

  /** Aborts a run in flight on this node (kill); false when it is not running here. */
  abort(runId: number): boolean {
    const f = this.#inFlight.get(runId);
    if (!f) return false;
    f.controller.abort(new Error("killed"));
    return true;
  }

  /** At stop, after the grace: runs still in flight are abandoned without a record (recovery takes them). */
  abandon(): void {
    for (const f of this.#inFlight.values()) f.controller.abort(new Shutdown());
    this.#waiting.clear();
  }

  /** Applies the overlap policy, marks the runs running in one fenced write, then executes them. */
  async start(batch: Claimed[]): Promise<void> {
    const start: Claimed[] = [];
    const starting = new Map<number, number>(); // job id -> runs of this batch starting
    for (const run of batch) {
      const running = this.#runningByJob.get(run.jobId);
      const limit = run.job.maxConcurrency ?? (run.job.overlap === "allow" ? Infinity : 1);
      const busy = (running?.size ?? 0) + (starting.get(run.jobId) ?? 0);
      if (busy < limit) {
        start.push(run);
        starting.set(run.jobId, (starting.get(run.jobId) ?? 0) + 1);
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
          starting.set(run.jobId, (starting.get(run.jobId) ?? 0) + 1);
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
      [{ rows }] = await this.deps.writer.submit([
        {
          // `+status`: look each run up by id, not through the index of every queued run.
          sql: `UPDATE runs SET status = 'running', started_at = ? FROM json_each(?) AS m
                WHERE runs.id = m.value AND +runs.status = 'queued' AND runs.node_id = ? RETURNING runs.id`,
          args: [now, JSON.stringify(start.map((r) => r.id)), this.deps.config.nodeId],
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
      if (marked.has(run.id)) this.#execute(run);
    }
  }

  #execute(run: Claimed) {
    const controller = new AbortController();
    this.#inFlight.set(run.id, { run, controller });
    let set = this.#runningByJob.get(run.jobId);
    if (!set) this.#runningByJob.set(run.jobId, (set = new Set()));
    set.add(run.id);
    this.deps.events.emit("run:started", this.#event(run, "running"));
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
        this.deps.settled();
      });
    this.#track(done);
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
    if (!next.cancelled) void this.start([next]);
  }

  /** Records the end of a run (fenced) and queues its retry, held by this node, when the policy allows. */
  async #finish(run: Claimed, status: Final, result: Record<string, unknown> | null, error: string | null, retryAfterMs?: number) {
    const now = this.deps.clock.now();
    const delay = status === "failed" || status === "timed_out" ? retryDelay(run.job.retry, this.deps.config.defaultRetry, run.attempt, retryAfterMs) : null;
    try {
      const done = await this.#finisher.add({
        run,
        status,
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
    this.deps.events.emit("run:finished", this.#event(run, status));
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
