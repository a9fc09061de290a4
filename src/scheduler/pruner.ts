// History retention: deletes finished runs (and their log lines) past `max_age` or beyond the newest
// `keep_per_job` of their job, in the background. Each write deletes at most `prune_batch` runs and the pass
// yields to the event loop between writes, so claiming and finishing runs never wait long behind it.
// Several nodes may prune one database at once: every delete re-checks its rule in SQL and is idempotent.
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import * as pruning from "../store/pruning.ts";
import type { Clock, TimerHandle } from "../clock.ts";

export interface PrunerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Config["history"];
}

export interface Pruned {
  runs: number;
  logs: number;
}

/** Log lines deleted per write: a batch of runs can hold millions of lines. */
const LOG_CHUNK = 5000;
/** Reads between yields stay under this (ms): local libSQL calls run on the event loop's thread. */
const SLICE_MS = 10;

// A real timer, not the Clock: this gives way to other work now, it does not wait for scheduler time.
const yieldToLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class Pruner {
  #timer: TimerHandle | null = null;
  #current: Promise<Pruned> | null = null;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #lastYield = 0;

  constructor(private readonly deps: PrunerDeps) {}

  /** Arms a pass every `pruneInterval`; a pass still going when the timer fires is not doubled. */
  start(): void {
    if (this.#timer || this.#stopping) return;
    this.#arm();
  }

  /** Idempotent: no timer is left, and a pass in progress ends at its next step (its write completes). */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      if (this.#timer) this.deps.clock.clearTimer(this.#timer);
      this.#timer = null;
      await this.idle();
    })();
    return this.#stopped;
  }

  /** Resolves once no pass is in progress (a failed pass counts as ended). */
  async idle(): Promise<void> {
    while (this.#current) await this.#current.catch(() => {});
  }

  /** One full pass, after any pass in progress; rejects if a write fails. Deletes nothing after stop(). */
  async pruneOnce(): Promise<Pruned> {
    await this.idle();
    return this.#begin();
  }

  #arm() {
    // Re-armed when it fires, not when the pass ends: a fixed cadence, and a slow pass just skips a beat.
    this.#timer = this.deps.clock.setTimer(this.deps.config.pruneInterval, () => {
      if (this.#stopping) return;
      this.#arm();
      if (this.#current) return;
      this.#begin().catch((e) => this.deps.log.error("history pruning failed; the next pass retries", { error: String((e as Error)?.message ?? e) }));
    });
  }

  #begin(): Promise<Pruned> {
    const pass: Promise<Pruned> = this.#pass().finally(() => {
      if (this.#current === pass) this.#current = null;
    });
    this.#current = pass;
    return pass;
  }

  async #pass(): Promise<Pruned> {
    const { keepPerJob, maxAge } = this.deps.config;
    const total: Pruned = { runs: 0, logs: 0 };
    const started = performance.now();
    this.#lastYield = started;
    if (maxAge > 0) await this.#byAge(this.deps.clock.now() - maxAge, total);
    if (keepPerJob > 0) await this.#byCount(keepPerJob, total);
    const fields = { ...total, ms: Math.round(performance.now() - started) };
    if (total.runs > 0) this.deps.log.info("history pruned", fields);
    else this.deps.log.debug("history pruned", fields);
    return total;
  }

  /**
   * Walks runs by id from the oldest, one window of `pruneBatch` rows at a time, deleting the finished ones
   * that ended before `cutoff`. Ids follow insertion time, and a non-retry run is inserted at most a claim
   * lookahead before it is due, so once a window holds a non-retry run due at or after the cutoff, later runs
   * ended after it (give or take that lookahead, which the next pass catches): the walk stops there rather
   * than scan the table. Retries are inserted long before they are due, so they say nothing about age.
   */
  async #byAge(cutoff: number, total: Pruned) {
    const { store, config } = this.deps;
    let after = 0;
    while (!this.#stopping) {
      const runs = await pruning.runsAfter(store, after, config.pruneBatch);
      const ids: number[] = [];
      let reached = runs.length < config.pruneBatch;
      for (const r of runs) {
        if (pruning.isFinished(r.status) && r.endedAt < cutoff) ids.push(r.id);
        if (r.trigger !== "retry" && r.dueAt >= cutoff) reached = true;
      }
      if (ids.length) await this.#delete(ids, cutoff, total);
      else await this.#breathe();
      if (reached) return;
      after = runs[runs.length - 1].id;
    }
  }

  /**
   * For each job (in id pages), finds its newest run that is NOT kept: `OFFSET keepPerJob` down the runs_slot
   * index, so the cost follows what is kept. The finished runs at or below that slot go, oldest first, in
   * writes of at most `pruneBatch`, gathered across jobs. Runs of deleted jobs are left to max_age.
   */
  async #byCount(keep: number, total: Pruned) {
    const { store, config } = this.deps;
    const batch = config.pruneBatch;
    let pending: number[] = [];
    const flush = async () => {
      if (pending.length) await this.#delete(pending, null, total);
      pending = [];
    };
    let afterJob = 0;
    while (!this.#stopping) {
      const jobs = await pruning.jobIdsAfter(store, afterJob, batch);
      for (const jobId of jobs) {
        if (this.#stopping) return;
        const edge = await pruning.firstNotKept(store, jobId, keep);
        await this.#breathe();
        if (!edge) continue;
        // (slot, attempt) of the last victim read, so unfinished runs below the edge are not re-read.
        let from: pruning.SlotPosition = [Number.MIN_SAFE_INTEGER, 0];
        while (!this.#stopping) {
          const room = batch - pending.length;
          const victims = await pruning.finishedBetween(store, jobId, from, edge, room);
          for (const v of victims) pending.push(v.id);
          if (pending.length >= batch) await flush();
          else await this.#breathe();
          if (victims.length < room) break;
          from = victims[victims.length - 1].at;
        }
      }
      if (jobs.length < batch) break;
      afterJob = jobs[jobs.length - 1];
    }
    if (!this.#stopping) await flush();
  }

  /**
   * The runs among `ids` still finished (and, with `endedBefore`, ended before it): first their log lines, a
   * bounded chunk per write (a run may have many thousands), then the runs in one write. Lines go first so
   * that a crash in between leaves no lines without a run; the runs' turn comes at the next pass.
   */
  async #delete(ids: number[], endedBefore: number | null, total: Pruned) {
    for (;;) {
      const lines = await pruning.deleteLogLines(this.deps.store, ids, endedBefore, LOG_CHUNK);
      total.logs += lines;
      await this.#breathe(true);
      if (lines < LOG_CHUNK || this.#stopping) break;
    }
    total.runs += await pruning.deleteRuns(this.deps.store, ids, endedBefore);
    await this.#breathe(true);
  }

  /** Gives the event loop a turn after every write, and after reads once they have held it for a slice. */
  async #breathe(force = false) {
    if (!force && performance.now() - this.#lastYield < SLICE_MS) return;
    await yieldToLoop();
    this.#lastYield = performance.now();
  }
}
