// Recording how runs end: each end (fenced) with the retry retry.ts decides for it, then the run:finished
// event. The ends of one turn of the event loop (or, while runs wait for capacity, a little longer) are
// recorded by one write.
import type { NotifySettings } from "../domain/notify.ts";
import type { Clock } from "../clock.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { type Ends, recordEnds } from "../store/finishes.ts";
import type { GroupWriter } from "../store/group-writer.ts";
import { endUnstarted } from "../store/marks.ts";
import { type Emitter, runEvent } from "./events.ts";
import { heldRetryOf, retryAfterEnd, type RetryPlan } from "./retry.ts";
import { logRunEnd, type RunLogMode } from "./run-log.ts";
import { hasNotices } from "../store/notifications.ts";
import { noticesOfEnds } from "./notices.ts";
import type { Claimed, Final, SchedulerConfig } from "./types.ts";

interface FinishRecord {
  run: Claimed;
  status: Final;
  /** When the executor actually started; null for a run ended without starting (killed while ready). */
  startedAt: number | null;
  endedAt: number;
  result: Record<string, unknown> | null;
  error: string | null;
  /** Last lines of the run's output (process runs). */
  outputTail: string | null;
  retry: RetryPlan | null;
}

interface Finished {
  /** False when the fence no longer matched: another node owns the run now. */
  recorded: boolean;
  /** The retry queued and held by this node (due soon). */
  retry: Claimed | null;
}

interface Item {
  rec: FinishRecord;
  resolve: (f: Finished) => void;
  reject: (e: unknown) => void;
}

export interface FinisherDeps {
  writer: GroupWriter;
  clock: Clock;
  log: Logger;
  config: SchedulerConfig;
  events: Emitter;
  /** Takes retries due soon (held by this node) into the timer heap. */
  hold: (runs: Claimed[]) => void;
  /** While this says so (due runs wait for capacity), ends wait to be recorded: starting runs comes first. */
  defer: () => boolean;
  /** Told when recorded ends stored deliveries to send. */
  deliveries?: { wake(): void };
  /** Which run ends get a log line ([log] runs; default: failures at warn, the rest at debug). */
  runLog?: RunLogMode;
  /** Counts recorded run ends (the node's metrics). */
  metrics?: Pick<Metrics, "runEnded">;
  /** Told when a workflow step's run ended (its instance is advanced). */
  steps?: { ended(): void };
  /** [notify], and whom to tell when ends stored notifications. */
  notify?: NotifySettings;
  notifications?: { wake(): void };
}

/** While `defer` says so, ends wait to be recorded, up to this long and this many. */
const MAX_DEFER_MS = 1000;
const MAX_DEFERRED = 2000;

export class Finisher {
  #queue: Item[] = [];
  #scheduled = false;
  #since = 0;
  /** A workflow step's end is queued: its children wait for it, so it is not deferred. */
  #urgent = false;

  constructor(private readonly deps: FinisherDeps) {}

  /** Records a run's end, queues the retry its policy allows, then tells listeners; never rejects. */
  async end(run: Claimed, status: Final, error: string | null, result: Record<string, unknown> | null, startedAt: number | null, retryAfterMs?: number, outputTail: string | null = null) {
    const { clock, config, log, events } = this.deps;
    const now = clock.now();
    try {
      const retry = retryAfterEnd(run, status, retryAfterMs, now, config);
      const done = await this.#add({ run, status, startedAt, endedAt: now, result, error, outputTail, retry });
      if (!done.recorded) log.warn("run finished after losing its lease; result not recorded", { run: run.id, status });
      else {
        this.#report(run, status, error, startedAt, now);
        if (run.instanceId) this.deps.steps?.ended();
      }
      if (done.retry) this.deps.hold([done.retry]);
    } catch (e) {
      // Not recorded: the run is no longer held, so its lease lapses and it is recovered (lost, then retried).
      log.error("could not record the end of a run", { run: run.id, status, error: errorText(e) });
    }
    if (events.has("run:finished")) events.emit("run:finished", runEvent(run, status));
  }

  /** Ends a run that never started (skipped or replaced by the overlap policy), while still queued; never rejects. */
  unstarted(run: Claimed, status: "skipped" | "killed", error: string): Promise<void> {
    const { events } = this.deps;
    const delivers = Boolean(run.job.onEnd?.length);
    const at = this.deps.clock.now();
    return this.deps.writer.submit(endUnstarted(run, status, at, error, delivers)).then(
      () => {
        this.#report(run, status, error, null, at);
        if (delivers) this.deps.deliveries?.wake();
        if (run.instanceId) this.deps.steps?.ended();
        if (events.has("run:finished")) events.emit("run:finished", runEvent(run, status));
      },
      (e) => this.deps.log.error("could not record a run that did not start", { run: run.id, error: errorText(e) }),
    );
  }

  /** A recorded end, told to the log and the metrics. */
  #report(run: Claimed, status: Final, error: string | null, startedAt: number | null, endedAt: number) {
    logRunEnd(this.deps.log, this.deps.runLog ?? "failures", run, status, error, startedAt, endedAt);
    // A run that waited for its job's earlier run (overlap queue, allow past max concurrency, misfire all)
    // is late by the job's own policy: its lateness would say nothing of this node's.
    this.deps.metrics?.runEnded(run.job.targetKind, status, run.waitedForTurn || run.catchUp ? null : run.dueAt, startedAt, endedAt);
  }

  #add(rec: FinishRecord): Promise<Finished> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) this.#since = performance.now();
      if (rec.run.instanceId) this.#urgent = true;
      this.#queue.push({ rec, resolve, reject });
      this.#schedule(0);
    });
  }

  #schedule(ms: number) {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      if (!this.#urgent && this.deps.defer() && this.#queue.length < MAX_DEFERRED && performance.now() - this.#since < MAX_DEFER_MS) return this.#schedule(2);
      this.#urgent = false;
      void this.#flush(this.#queue.splice(0));
    }, ms);
  }

  async #flush(items: Item[]) {
    let ends: Ends;
    const recs = items.map((i) => i.rec);
    // The notifications of these ends are written with them (none for jobs that send none).
    const notices = this.deps.notify ? noticesOfEnds(recs, this.deps.notify) : undefined;
    try {
      ends = await this.deps.writer.submit(recordEnds(recs, this.deps.config.nodeId, this.deps.clock.now(), notices));
    } catch (e) {
      for (const i of items) i.reject(e);
      return;
    }
    if (ends.delivers) this.deps.deliveries?.wake();
    if (notices && hasNotices(notices)) this.deps.notifications?.wake();
    for (const { rec, resolve } of items) {
      const held = ends.heldRetry(rec);
      resolve({ recorded: ends.recorded(rec.run.id), retry: held ? heldRetryOf(rec.run, held) : null });
    }
  }
}
