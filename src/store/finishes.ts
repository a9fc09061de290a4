// The SQL of recording the ends of runs, set-based: the ends of one batch are recorded by one UPDATE (fenced:
// a node that lost a run's lease records nothing) and their retries queued by one INSERT, which only inserts
// where that run's update went through.
import { deliveriesOfEnds } from "./deliveries.ts";
import { hasNotices, type Notices, notificationStatements } from "./notifications.ts";
import type { Batch } from "./group-writer.ts";
import { type Stmt, valuesTable } from "./sql.ts";

/** One run's end, as the statements read it. */
export interface EndRecord {
  run: { id: number; fence: number; jobId: number; namespace: string; scheduledAt: number; key: string; job: { updatedAt: number; onEnd: string[] | null } };
  status: string;
  /** When the run actually started; null for one ended without starting. */
  startedAt: number | null;
  endedAt: number;
  result: Record<string, unknown> | null;
  error: string | null;
  outputTail?: string | null;
  /** The retry to queue: held by this node until `leaseUntil`, or (null) by none. */
  retry: { attempt: number; dueAt: number; leaseUntil: number | null } | null;
}

/** A retry queued and held by this node. */
export interface HeldRetry {
  id: number;
  dueAt: number;
  attempt: number;
  key: string;
}

export interface Ends {
  /** Whether the batch stored deliveries to send (a job of one of its runs asks for them). */
  delivers: boolean;
  /** Whether the end of run `id` was recorded (false: the fence moved, another node owns the run now). */
  recorded(id: number): boolean;
  /** The retry queued for this end, when one was and this node holds it (it is due soon). */
  heldRetry(end: EndRecord): HeldRetry | undefined;
}

const retryKey = (jobId: unknown, scheduledAt: unknown, attempt: unknown) => `${jobId}:${scheduledAt}:${attempt}`;

/**
 * The ends of runs (table e), where the fence still holds. A run that failed after a kill was requested (the
 * request reached its node too late) ends killed.
 */
const END_RUNS = `UPDATE runs SET ended_at = e.ended_at, result = e.result, lease_until = NULL, started_at = e.started_at, output_tail = e.output_tail,
    status = CASE WHEN runs.kill_requested_at IS NOT NULL AND e.status IN ('failed', 'timed_out') THEN 'killed' ELSE e.status END,
    error = CASE WHEN runs.kill_requested_at IS NOT NULL AND e.status IN ('failed', 'timed_out') THEN 'killed by request' ELSE e.error END
  FROM e WHERE runs.id = e.id AND runs.fence = e.fence RETURNING runs.id`;

export function recordEnds(ends: EndRecord[], nodeId: string, now: number, notices?: Notices): Batch<Ends> {
  const rows = ends.map((e) => [e.run.id, e.run.fence, e.status, e.endedAt, e.result === null ? null : JSON.stringify(e.result), e.error, e.startedAt, e.outputTail ?? null]);
  const stmts: Stmt[] = valuesTable("e", ["id", "fence", "status", "ended_at", "result", "error", "started_at", "output_tail"], rows, END_RUNS);
  const updates = stmts.length;
  const retries: unknown[][] = [];
  for (const e of ends) {
    if (!e.retry) continue;
    const r = e.run;
    retries.push([r.id, r.fence, r.scheduledAt, e.retry.dueAt, e.retry.attempt, Number(r.key), e.retry.leaseUntil, r.job.updatedAt]);
  }
  if (retries.length) {
    stmts.push({
      // Only where the end above was recorded (the fence held), no kill was requested, and the job is still
      // the one that ran: a job removed, paused or replaced meanwhile is not retried.
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, key, status, node_id, lease_until, fence, params, for_node, instance_id, step_id)
            SELECT p.job_id, p.namespace, p.job_name, r.value->>2, r.value->>3, 'retry', r.value->>4, r.value->>5, 'queued',
                   CASE WHEN r.value->>6 IS NULL THEN NULL ELSE ? END, r.value->>6, 1, p.params, p.for_node, p.instance_id, p.step_id
            FROM json_each(?) AS r, runs AS p, jobs AS j
            WHERE p.id = r.value->>0 AND p.fence = r.value->>1 AND p.kill_requested_at IS NULL AND j.id = p.job_id AND j.updated_at = r.value->>7
            ON CONFLICT DO NOTHING RETURNING id, job_id, scheduled_at, due_at, attempt, key, node_id`,
      args: [nodeId, JSON.stringify(retries)],
    });
  }
  const retried = retries.length > 0 ? updates : -1;
  // The deliveries of the ends recorded (a facade's callbacks), in the same transaction: never an end without them.
  const delivering = ends.filter((e) => e.run.job.onEnd?.length);
  if (delivering.length) stmts.push(deliveriesOfEnds(delivering.map((e) => ({ runId: e.run.id, fence: e.run.fence, namespace: e.run.namespace, kinds: e.run.job.onEnd! })), now));
  // Their notifications (each fenced by its run), in the same transaction too.
  if (notices && hasNotices(notices)) stmts.push(...notificationStatements(notices, now));
  return {
    stmts,
    result(results) {
      const recorded = new Set<number>();
      for (let i = 0; i < updates; i++) for (const r of results[i].rows) recorded.add(Number(r.id));
      const inserted = retried > 0 ? results[retried] : undefined;
      // Only a retry held by this node (node_id set: due soon) is of interest to the caller.
      const held = new Map<string, HeldRetry>();
      for (const r of inserted?.rows ?? []) {
        if (r.node_id == null) continue;
        held.set(retryKey(r.job_id, r.scheduled_at, r.attempt), { id: Number(r.id), dueAt: Number(r.due_at), attempt: Number(r.attempt), key: String(r.key) });
      }
      return {
        delivers: delivering.length > 0,
        recorded: (id) => recorded.has(id),
        heldRetry: (e) => (e.retry && held.size ? held.get(retryKey(e.run.jobId, e.run.scheduledAt, e.retry.attempt)) : undefined),
      };
    },
  };
}
