// Recording the ends of runs, set-based: the runs that end in one turn of the event loop are recorded by
// one UPDATE (fenced: a node that lost a run's lease records nothing) and their retries queued by one
// INSERT, which only inserts where that run's update went through.
import type { Claimed } from "./claim.ts";
import type { GroupWriter } from "./writer.ts";

export type Final = "succeeded" | "failed" | "timed_out" | "killed" | "skipped";

export interface FinishRecord {
  run: Claimed;
  status: Final;
  /** When the executor actually started; null for a run ended without starting (killed while ready). */
  startedAt: number | null;
  endedAt: number;
  result: Record<string, unknown> | null;
  error: string | null;
  /** Last lines of the run's output (process runs). */
  outputTail?: string | null;
  /** Queue a retry of the slot due at `dueAt`: held by this node until `leaseUntil`, or (null) by none. */
  retry: { dueAt: number; leaseUntil: number | null } | null;
}

export interface Finished {
  /** False when the fence no longer matched: another node owns the run now. */
  recorded: boolean;
  retry: Claimed | null;
}

interface Item {
  rec: FinishRecord;
  resolve: (f: Finished) => void;
  reject: (e: unknown) => void;
}

/** While `defer` says so, ends wait to be recorded, up to this long and this many. */
const MAX_DEFER_MS = 1000;
const MAX_DEFERRED = 2000;

export class Finisher {
  #queue: Item[] = [];
  #scheduled = false;
  #since = 0;

  constructor(
    private readonly writer: GroupWriter,
    private readonly nodeId: string,
    private readonly defer: () => boolean = () => false,
  ) {}

  add(rec: FinishRecord): Promise<Finished> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) this.#since = performance.now();
      this.#queue.push({ rec, resolve, reject });
      this.#schedule(0);
    });
  }

  #schedule(ms: number) {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      if (this.defer() && this.#queue.length < MAX_DEFERRED && performance.now() - this.#since < MAX_DEFER_MS) return this.#schedule(2);
      void this.#flush(this.#queue.splice(0));
    }, ms);
  }

  async #flush(items: Item[]) {
    const ends = items.map(({ rec: r }) => [r.run.id, r.run.fence, r.status, r.endedAt, r.result, r.error, r.startedAt, r.outputTail ?? null]);
    const retries = items
      .filter(({ rec }) => rec.retry)
      .map(({ rec: r }) => [
        r.run.id,
        r.run.fence,
        r.run.scheduledAt,
        r.retry!.dueAt,
        r.run.attempt + 1,
        Number(r.run.key),
        r.retry!.leaseUntil,
        r.run.job.updatedAt,
      ]);
    const stmts = [
      {
        // A run that failed after a kill was requested (the request reached its node too late) ends killed.
        sql: `UPDATE runs SET ended_at = e.value->>3, result = e.value->>4, lease_until = NULL, started_at = e.value->>6, output_tail = e.value->>7,
                status = CASE WHEN runs.kill_requested_at IS NOT NULL AND e.value->>2 IN ('failed', 'timed_out') THEN 'killed' ELSE e.value->>2 END,
                error = CASE WHEN runs.kill_requested_at IS NOT NULL AND e.value->>2 IN ('failed', 'timed_out') THEN 'killed by request' ELSE e.value->>5 END
              FROM json_each(?) AS e WHERE runs.id = e.value->>0 AND runs.fence = e.value->>1 RETURNING runs.id`,
        args: [JSON.stringify(ends)],
      },
    ];
    if (retries.length) {
      stmts.push({
        // Only where the end above was recorded (the fence held), no kill was requested, and the job is still
        // the one that ran: a job removed, paused or replaced meanwhile is not retried.
        sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, key, status, node_id, lease_until, fence, params)
              SELECT p.job_id, p.namespace, p.job_name, r.value->>2, r.value->>3, 'retry', r.value->>4, r.value->>5, 'queued',
                     CASE WHEN r.value->>6 IS NULL THEN NULL ELSE ? END, r.value->>6, 1, p.params
              FROM json_each(?) AS r, runs AS p, jobs AS j
              WHERE p.id = r.value->>0 AND p.fence = r.value->>1 AND p.kill_requested_at IS NULL AND j.id = p.job_id AND j.updated_at = r.value->>7
              ON CONFLICT DO NOTHING RETURNING id, job_id, scheduled_at, due_at, attempt, key, node_id`,
        args: [this.nodeId, JSON.stringify(retries)] as never,
      });
    }
    let results;
    try {
      results = await this.writer.submit(stmts);
    } catch (e) {
      for (const i of items) i.reject(e);
      return;
    }
    const recorded = new Set(results[0].rows.map((r) => Number(r.id)));
    const retried = new Map((results[1]?.rows ?? []).map((r) => [`${r.job_id}:${r.scheduled_at}:${r.attempt}`, r]));
    for (const { rec, resolve } of items) {
      const run = rec.run;
      const found = rec.retry ? retried.get(`${run.jobId}:${run.scheduledAt}:${run.attempt + 1}`) : undefined;
      const row = found?.node_id != null ? found : undefined; // held by this node (due soon)
      resolve({
        recorded: recorded.has(run.id),
        retry: row
          ? { ...run, id: Number(row.id), dueAt: Number(row.due_at), trigger: "retry", attempt: Number(row.attempt), key: String(row.key), fence: 1, catchUp: false, cancelled: false }
          : null,
      });
    }
  }
}
