// History retention: deletes finished runs (and their log lines) past `max_age` or beyond the newest
// `keep_per_job` of their job, in the background. Each write deletes at most `prune_batch` runs and the pass
// yields to the event loop between writes, so claiming and finishing runs never wait long behind it.
// Several nodes may prune one database at once: every delete re-checks its rule in SQL and is idempotent.
import { FINISHED as FINISHED_SQL } from "../store/runs.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { read, readOne, write } from "../store/sql.ts";
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

/** Reads between yields stay under this (ms): local libSQL calls run on the event loop's thread. */
/** Log lines deleted per write: a batch of runs can hold millions of lines. */
const LOG_CHUNK = 5000;
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
      const rows = await read(store, {
        sql: "SELECT id, status, trigger, due_at, coalesce(ended_at, due_at) AS ended FROM runs WHERE id > ? ORDER BY id LIMIT ?",
        args: [after, config.pruneBatch],
      });
      const ids: number[] = [];
      let reached = rows.length < config.pruneBatch;
      for (const r of rows) {
        if (r.status !== "queued" && r.status !== "running" && Number(r.ended) < cutoff) ids.push(Number(r.id));
        if (r.trigger !== "retry" && Number(r.due_at) >= cutoff) reached = true;
      }
      if (ids.length) {
        // A run without ended_at (none should be finished so) ages from its due time rather than never.
        await this.#delete(ids, { sql: `coalesce(ended_at, due_at) < ?`, args: [cutoff] }, total);
      } else {
        await this.#breathe();
      }
      if (reached) return;
      after = Number(rows[rows.length - 1].id);
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
      const jobs = await read(store, { sql: "SELECT id FROM jobs WHERE id > ? ORDER BY id LIMIT ?", args: [afterJob, batch] });
      for (const job of jobs) {
        if (this.#stopping) return;
        const jobId = Number(job.id);
        const edge = await readOne(store, {
          sql: "SELECT scheduled_at, attempt FROM runs WHERE job_id = ? ORDER BY scheduled_at DESC, attempt DESC LIMIT 1 OFFSET ?",
          args: [jobId, keep],
        });
        await this.#breathe();
        if (!edge) continue;
        // (slot, attempt) of the last victim read, so unfinished runs below the edge are not re-read.
        let from: [number, number] = [Number.MIN_SAFE_INTEGER, 0];
        while (!this.#stopping) {
          const room = batch - pending.length;
          const victims = await read(store, {
            sql: `SELECT id, scheduled_at, attempt FROM runs
                  WHERE job_id = ? AND (scheduled_at, attempt) > (?, ?) AND (scheduled_at, attempt) <= (?, ?) AND ${FINISHED_SQL}
                  ORDER BY scheduled_at, attempt LIMIT ?`,
            args: [jobId, from[0], from[1], edge.scheduled_at, edge.attempt, room],
          });
          for (const v of victims) pending.push(Number(v.id));
          if (pending.length >= batch) await flush();
          else await this.#breathe();
          if (victims.length < room) break;
          const last = victims[victims.length - 1];
          from = [Number(last.scheduled_at), Number(last.attempt)];
        }
      }
      if (jobs.length < batch) break;
      afterJob = Number(jobs[jobs.length - 1].id);
    }
    if (!this.#stopping) await flush();
  }

  /**
   * The runs among `ids` still finished (and still matching `rule`): first their log lines, a bounded
   * chunk per write (a run may have many thousands), then the runs in one write. Lines go first so that a
   * crash in between leaves no lines without a run; the runs' turn comes at the next pass.
   */
  async #delete(ids: number[], rule: { sql: string; args: number[] } | null, total: Pruned) {
    const list = JSON.stringify(ids);
    const guard = `${FINISHED_SQL}${rule ? ` AND ${rule.sql}` : ""}`;
    for (;;) {
      const [logs] = await write(this.deps.store, [
        {
          sql: `DELETE FROM run_logs WHERE rowid IN (
                  SELECT l.rowid FROM json_each(?) AS j JOIN runs ON runs.id = j.value JOIN run_logs AS l ON l.run_id = runs.id
                  WHERE ${guard} LIMIT ?)`,
          args: [list, ...(rule?.args ?? []), LOG_CHUNK],
        },
      ]);
      total.logs += logs.rowsAffected;
      await this.#breathe(true);
      if (logs.rowsAffected < LOG_CHUNK || this.#stopping) break;
    }
    const [runs] = await write(this.deps.store, [
      { sql: `DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND ${guard}`, args: [list, ...(rule?.args ?? [])] },
    ]);
    total.runs += runs.rowsAffected;
    await this.#breathe(true);
  }

  /** Gives the event loop a turn after every write, and after reads once they have held it for a slice. */
  async #breathe(force = false) {
    if (!force && performance.now() - this.#lastYield < SLICE_MS) return;
    await yieldToLoop();
    this.#lastYield = performance.now();
  }
}
