// The runs table as the API sees it: its typed row, history reads, triggers, kills and deletes. (Claiming,
// marking and recording ends, the scheduler's statements, live in their own modules.)
import type { Row } from "@libsql/client";
import type { Store } from "./client.ts";
import type { runs } from "./schema.ts";
import { deliveriesOfEndedRun } from "./deliveries.ts";
import { NODE_CAN_RUN } from "./jobs.ts";
import { DB_NOW, json, num, read, readOne, str, write } from "./sql.ts";
import { type Notices, notificationStatements } from "./notifications.ts";

export type RunRow = typeof runs.$inferSelect;

/**
 * SQL condition: the run has finished. Queued and running runs belong to the node holding them: deleting
 * one would pull its record from under that node.
 */
export const FINISHED = "status NOT IN ('queued', 'running')";

/** A runs row as libSQL returns it to its typed form. */
export function runRowOf(r: Row): RunRow {
  return {
    id: Number(r.id),
    jobId: Number(r.job_id),
    namespace: String(r.namespace),
    jobName: String(r.job_name),
    scheduledAt: Number(r.scheduled_at),
    dueAt: Number(r.due_at),
    trigger: r.trigger as RunRow["trigger"],
    attempt: Number(r.attempt),
    key: num(r.key),
    status: r.status as RunRow["status"],
    nodeId: str(r.node_id),
    leaseUntil: num(r.lease_until),
    fence: Number(r.fence),
    startedAt: num(r.started_at),
    endedAt: num(r.ended_at),
    result: json(r.result),
    error: str(r.error),
    outputTail: str(r.output_tail),
    killRequestedAt: num(r.kill_requested_at),
    params: json(r.params),
    pgid: num(r.pgid),
    container: str(r.container),
    forNode: String(r.for_node ?? ""),
    proc: str(r.proc),
    instanceId: Number(r.instance_id ?? 0),
    stepId: String(r.step_id ?? ""),
  };
}

export async function runById(store: Store, id: number): Promise<RunRow | null> {
  const r = await readOne(store, { sql: "SELECT * FROM runs WHERE id = ?", args: [id] });
  return r ? runRowOf(r) : null;
}

/** A run's status and namespace (cheaper than the whole row), or null. */
export async function runState(store: Store, id: number): Promise<{ status: RunRow["status"]; namespace: string } | null> {
  const r = await readOne(store, { sql: "SELECT status, namespace FROM runs WHERE id = ?", args: [id] });
  return r ? { status: r.status as RunRow["status"], namespace: String(r.namespace) } : null;
}

/**
 * A page of a job's runs, newest slot first and its latest attempt first (the order of the (job, slot,
 * attempt) key, so no sort), before the slot and attempt `before`, with one of `statuses`.
 */
export async function runsOfJob(store: Store, jobId: number, q: { statuses?: readonly string[]; before?: [number, number, string]; limit: number; offset?: number }): Promise<RunRow[]> {
  const args: (string | number)[] = [jobId];
  let sql = "SELECT * FROM runs WHERE job_id = ?";
  if (q.statuses) {
    sql += ` AND status IN (${q.statuses.map(() => "?").join(", ")})`;
    args.push(...q.statuses);
  }
  if (q.before) {
    sql += " AND (scheduled_at, attempt, for_node) < (?, ?, ?)";
    args.push(...q.before);
  }
  // A broadcast job's slot has a run per node: for_node orders them.
  sql += " ORDER BY scheduled_at DESC, attempt DESC, for_node DESC LIMIT ?";
  args.push(q.limit);
  if (q.offset) {
    sql += " OFFSET ?";
    args.push(q.offset);
  }
  return (await read(store, { sql, args })).map(runRowOf);
}

/**
 * Runs across jobs, newest slot first: optionally of one namespace and some statuses, with slots in
 * [since, until), after `before` (the last row of the page before: [slot, id]).
 */
export async function runsAcross(
  store: Store,
  q: { namespace?: string; statuses?: readonly string[]; since?: number; until?: number; before?: [number, number]; limit: number },
): Promise<RunRow[]> {
  const args: (string | number)[] = [];
  let sql = "SELECT * FROM runs WHERE 1 = 1";
  if (q.namespace !== undefined) {
    sql += " AND namespace = ?";
    args.push(q.namespace);
  }
  if (q.statuses) {
    sql += ` AND status IN (${q.statuses.map(() => "?").join(", ")})`;
    args.push(...q.statuses);
  }
  if (q.since !== undefined) {
    sql += " AND scheduled_at >= ?";
    args.push(q.since);
  }
  if (q.until !== undefined) {
    sql += " AND scheduled_at < ?";
    args.push(q.until);
  }
  if (q.before) {
    sql += " AND (scheduled_at, id) < (?, ?)";
    args.push(...q.before);
  }
  sql += " ORDER BY scheduled_at DESC, id DESC LIMIT ?";
  args.push(q.limit);
  return (await read(store, { sql, args })).map(runRowOf);
}

/** Each job's latest finished run (newest slot, then latest attempt), for jobs `jobIds`; a job with none has no row. */
export async function lastFinishedRuns(store: Store, jobIds: readonly number[]): Promise<RunRow[]> {
  if (jobIds.length === 0) return [];
  const sql = `SELECT r.* FROM json_each(?) AS j JOIN runs r ON r.id = (
      SELECT id FROM runs WHERE job_id = j.value AND ${FINISHED} ORDER BY scheduled_at DESC, attempt DESC, for_node DESC LIMIT 1)`;
  return (await read(store, { sql, args: [JSON.stringify(jobIds)] })).map(runRowOf);
}

export async function countRunsOfJob(store: Store, jobId: number): Promise<number> {
  const r = await readOne(store, { sql: "SELECT count(*) AS n FROM runs WHERE job_id = ?", args: [jobId] });
  return Number(r?.n ?? 0);
}

/** A job's scheduled first attempts that were claimed ahead of their time and still wait. */
export async function countWaitingSlots(store: Store, jobId: number): Promise<number> {
  const r = await readOne(store, {
    sql: "SELECT count(*) AS n FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id = ? AND trigger = 'schedule' AND attempt = 1",
    args: [jobId],
  });
  return Number(r?.n ?? 0);
}

/** Queues a run of a job for slot `at`, held by no node; null when that slot is taken. */
export async function insertTriggered(
  store: Store,
  run: { jobId: number; namespace: string; jobName: string; scheduledAt: number; dueAt: number; trigger: "manual" | "api"; params: string | null },
): Promise<RunRow | null> {
  const [rs] = await write(store, [
    {
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, fence, params)
            VALUES (?, ?, ?, ?, ?, ?, 1, 'queued', 0, ?) ON CONFLICT DO NOTHING RETURNING *`,
      args: [run.jobId, run.namespace, run.jobName, run.scheduledAt, run.dueAt, run.trigger, run.params],
    },
  ]);
  return rs.rows.length ? runRowOf(rs.rows[0]) : null;
}

/**
 * A broadcast job's triggered slot: a run for each node that beat within `liveFor` ms and can run the job (none: nothing is stored). Empty when the slot is taken.
 */
export async function insertTriggeredBroadcast(
  store: Store,
  run: { jobId: number; namespace: string; jobName: string; scheduledAt: number; dueAt: number; trigger: "manual" | "api"; params: string | null },
  liveFor: number,
): Promise<RunRow[]> {
  const [rs] = await write(store, [
    {
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, fence, params, for_node)
            SELECT jobs.id, ?, ?, ?, ?, ?, 1, 'queued', 0, ?, n.id FROM jobs, nodes AS n
            WHERE jobs.id = ? AND n.heartbeat_at >= ${DB_NOW} - ? AND ${NODE_CAN_RUN}
            ON CONFLICT DO NOTHING RETURNING *`,
      args: [run.namespace, run.jobName, run.scheduledAt, run.dueAt, run.trigger, run.params, run.jobId, liveFor],
    },
  ]);
  return rs.rows.map(runRowOf).sort((a, b) => a.id - b.id);
}

/** What a kill needs to know of a run before it is asked: where it stands, and its job's notifications. */
export async function killFacts(store: Store, id: number): Promise<{ status: string; namespace: string; jobId: number; jobName: string; notify: unknown } | null> {
  const r = await readOne(store, { sql: "SELECT r.status, r.namespace, r.job_id, r.job_name, j.notify FROM runs AS r LEFT JOIN jobs AS j ON j.id = r.job_id WHERE r.id = ?", args: [id] });
  return r ? { status: String(r.status), namespace: String(r.namespace), jobId: Number(r.job_id), jobName: String(r.job_name), notify: json(r.notify) } : null;
}

/**
 * Stores a kill request: a queued run ends `killed` at once (its fence moves, so a node holding it can no
 * longer mark it running); a running one is marked for its node to abort. Null when it was neither.
 */
export async function requestKill(store: Store, id: number, now: number, notices?: Notices): Promise<{ ended: RunRow } | { running: RunRow } | null> {
  // A queued run's notifications are written only where this kill ended it.
  const endedHere = { sql: "EXISTS (SELECT 1 FROM runs WHERE id = ? AND status = 'killed' AND ended_at = ?)", args: [id, now] };
  const [queued, , running] = await write(store, [
    {
      sql: `UPDATE runs SET status = 'killed', ended_at = ?, error = 'killed by request before it started', lease_until = NULL,
              fence = fence + 1, kill_requested_at = ? WHERE id = ? AND status = 'queued' RETURNING *`,
      args: [now, now, id],
    },
    // A run that ended here has its deliveries written with its end.
    deliveriesOfEndedRun(id, now),
    { sql: "UPDATE runs SET kill_requested_at = COALESCE(kill_requested_at, ?) WHERE id = ? AND status = 'running' RETURNING *", args: [now, id] },
    ...(notices ? notificationStatements(notices, now, endedHere) : []),
  ]);
  if (queued.rows.length) return { ended: runRowOf(queued.rows[0]) };
  if (running.rows.length) return { running: runRowOf(running.rows[0]) };
  return null;
}

/** Deletes a finished run, its lines and deliveries in one transaction; false when it is not finished (or not there). */
export async function deleteFinishedRun(store: Store, id: number): Promise<boolean> {
  // The guard is in the statements (no read-then-delete), so no race can delete a live run or its lines.
  const [, , rs] = await write(store, [
    { sql: `DELETE FROM run_logs WHERE run_id IN (SELECT id FROM runs WHERE id = ? AND ${FINISHED})`, args: [id] },
    { sql: `DELETE FROM deliveries WHERE run_id IN (SELECT id FROM runs WHERE id = ? AND ${FINISHED})`, args: [id] },
    { sql: `DELETE FROM runs WHERE id = ? AND ${FINISHED} RETURNING id`, args: [id] },
  ]);
  return rs.rows.length > 0;
}
