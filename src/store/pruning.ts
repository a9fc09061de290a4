// The SQL of history retention: reads that find finished runs past max_age or beyond keep_per_job, and
// deletes that re-check, in SQL, that each run is still finished (and still matches its rule): several
// nodes may prune one database at once, and a run may be retried or killed meanwhile.
import type { Store } from "./client.ts";
import { FINISHED } from "./runs.ts";
import { read, readOne, write } from "./sql.ts";


export interface PruneCandidate {
  id: number;
  status: string;
  trigger: string;
  dueAt: number;
  /** When it ended, or (not ended) its due time. */
  endedAt: number;
}

/** Up to `limit` runs after id `after`, in id order, finished or not. */
export async function runsAfter(store: Store, after: number, limit: number): Promise<PruneCandidate[]> {
  const rows = await read(store, {
    sql: "SELECT id, status, trigger, due_at, coalesce(ended_at, due_at) AS ended FROM runs WHERE id > ? ORDER BY id LIMIT ?",
    args: [after, limit],
  });
  return rows.map((r) => ({ id: Number(r.id), status: String(r.status), trigger: String(r.trigger), dueAt: Number(r.due_at), endedAt: Number(r.ended) }));
}

export const isFinished = (status: string): boolean => status !== "queued" && status !== "running";

/** Up to `limit` job ids after `after`, in order. */
export async function jobIdsAfter(store: Store, after: number, limit: number): Promise<number[]> {
  const rows = await read(store, { sql: "SELECT id FROM jobs WHERE id > ? ORDER BY id LIMIT ?", args: [after, limit] });
  return rows.map((r) => Number(r.id));
}

/** Where a run stands in its job's history: its slot, then its attempt. */
export type SlotPosition = [scheduledAt: number, attempt: number];

/** The newest run of the job beyond the `keep` newest (down the runs_slot index), if any. */
export async function firstNotKept(store: Store, jobId: number, keep: number): Promise<SlotPosition | undefined> {
  const row = await readOne(store, {
    sql: "SELECT scheduled_at, attempt FROM runs WHERE job_id = ? ORDER BY scheduled_at DESC, attempt DESC LIMIT 1 OFFSET ?",
    args: [jobId, keep],
  });
  return row ? [Number(row.scheduled_at), Number(row.attempt)] : undefined;
}

/** Up to `limit` finished runs of the job after `from` and at or before `upTo`, oldest first. */
export async function finishedBetween(store: Store, jobId: number, from: SlotPosition, upTo: SlotPosition, limit: number): Promise<{ id: number; at: SlotPosition }[]> {
  const rows = await read(store, {
    sql: `SELECT id, scheduled_at, attempt FROM runs
          WHERE job_id = ? AND (scheduled_at, attempt) > (?, ?) AND (scheduled_at, attempt) <= (?, ?) AND ${FINISHED}
          ORDER BY scheduled_at, attempt LIMIT ?`,
    args: [jobId, from[0], from[1], upTo[0], upTo[1], limit],
  });
  return rows.map((r) => ({ id: Number(r.id), at: [Number(r.scheduled_at), Number(r.attempt)] }));
}

/** Which of the given runs a delete may take: finished ones, and with `endedBefore` only those ended before it. */
function guardOf(endedBefore: number | null): { sql: string; args: number[] } {
  // A run without ended_at (none should be finished so) ages from its due time rather than never.
  return endedBefore === null ? { sql: FINISHED, args: [] } : { sql: `${FINISHED} AND coalesce(ended_at, due_at) < ?`, args: [endedBefore] };
}

/** Deletes at most `limit` log lines of those of `ids` the guard allows; returns how many went. */
export async function deleteLogLines(store: Store, ids: number[], endedBefore: number | null, limit: number): Promise<number> {
  const guard = guardOf(endedBefore);
  const [rs] = await write(store, [
    {
      sql: `DELETE FROM run_logs WHERE rowid IN (
              SELECT l.rowid FROM json_each(?) AS j JOIN runs ON runs.id = j.value JOIN run_logs AS l ON l.run_id = runs.id
              WHERE ${guard.sql} LIMIT ?)`,
      args: [JSON.stringify(ids), ...guard.args, limit],
    },
  ]);
  return rs.rowsAffected;
}

/**
 * Deletes those of `ids` the guard allows, with their deliveries (one still pending could say nothing of a
 * run that is gone); returns how many went.
 */
export async function deleteRuns(store: Store, ids: number[], endedBefore: number | null): Promise<number> {
  const guard = guardOf(endedBefore);
  const list = JSON.stringify(ids);
  const [, rs] = await write(store, [
    { sql: `DELETE FROM deliveries WHERE run_id IN (SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND ${guard.sql})`, args: [list, ...guard.args] },
    { sql: `DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?)) AND ${guard.sql}`, args: [list, ...guard.args] },
  ]);
  return rs.rowsAffected;
}
