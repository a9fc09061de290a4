// The SQL that moves a held run from queued to running (or, blocked by overlap forbid on another node, to
// skipped), ends one that will not start, and puts unstarted ones back in the queue at stop. Fenced: only
// where this node's claim still holds.
import type { Store } from "./client.ts";
import { deliveriesOfEndedRun, deliveriesOfKilledAtStop } from "./deliveries.ts";
import { type Batch, batchOf } from "./group-writer.ts";
import { read, valuesTable, write } from "./sql.ts";

/** A run as this node holds it: the fence is its claim. */
export interface HeldRun {
  id: number;
  dueAt: number;
  fence: number;
}

/** Runs (table m) marked running (at now, for this node) where this node's claim holds and the room allows. */
const MARK_RUNNING = `UPDATE runs SET status = 'running', started_at = max(?, m.due_at) FROM m
  WHERE runs.id = m.id AND +runs.status = 'queued' AND runs.node_id = ? AND runs.fence = m.fence
    AND (m.room IS NULL OR
         (SELECT count(*) FROM runs AS o WHERE o.status = 'running' AND o.job_id = runs.job_id AND o.node_id != runs.node_id) < m.room)
  RETURNING runs.id`;

/**
 * Marks runs running; resolves with the ids marked. started_at is the expected start; the end records the
 * actual one. `+status`: look each run up by id, not through the index of every queued run. `rooms[i]`,
 * when not null, is how many more runs of run i's job may run beyond this node's (overlap forbid across
 * nodes): other nodes' running runs of the job must be fewer. No `rooms`: none is checked.
 */
export function markRunning(runs: HeldRun[], now: number, nodeId: string, rooms: (number | null)[] | null): Batch<Set<number>> {
  const rows = runs.map((r, i) => [r.id, r.dueAt, r.fence, rooms ? rooms[i] : null]);
  return {
    stmts: valuesTable("m", ["id", "due_at", "fence", "room"], rows, MARK_RUNNING, [now, nodeId]),
    result: (results) => new Set(results.flatMap((rs) => rs.rows.map((r) => Number(r.id)))),
  };
}

/**
 * Records the process group running a run, who its leader is and its container's name (fenced: while this
 * node holds it).
 */
export function recordProcess(run: HeldRun, pgid: number, identity: string | null, container?: string): Batch<void> {
  return batchOf([
    { sql: "UPDATE runs SET pgid = ?, proc = ?, container = ? WHERE id = ? AND fence = ? AND +status = 'running'", args: [pgid, identity, container ?? null, run.id, run.fence] },
  ]);
}

/** Runs not marked because the job runs on another node (overlap forbid) end skipped, as on one node. */
export function skipBlocked(runs: HeldRun[], at: number, nodeId: string): Batch<void> {
  return batchOf([
    {
      sql: `UPDATE runs SET status = 'skipped', ended_at = ?, error = 'overlap: the job was still running on another node (policy forbid)',
              lease_until = NULL FROM json_each(?) AS b
            WHERE runs.id = b.value->>0 AND runs.fence = b.value->>1 AND +runs.status = 'queued' AND runs.node_id = ?`,
      args: [at, JSON.stringify(runs.map((r) => [r.id, r.fence])), nodeId],
    },
  ]);
}

/** Ends a queued run that will not start (skipped or replaced by the overlap policy). */
export function endUnstarted(run: HeldRun, status: "skipped" | "killed", at: number, error: string, delivers = false): Batch<void> {
  const end = {
    sql: "UPDATE runs SET status = ?, ended_at = ?, error = ?, lease_until = NULL WHERE id = ? AND fence = ? AND +status = 'queued'",
    args: [status, at, error, run.id, run.fence],
  };
  // The run's deliveries (its job's on_end), with its end.
  return batchOf(delivers ? [end, deliveriesOfEndedRun(run.id, at)] : [end]);
}

/**
 * Runs marked running that never started go back to the queue, for any node (at stop); those whose kill
 * was requested meanwhile end killed instead.
 */
export async function requeueUnstarted(store: Store, ids: number[], nodeId: string, now: number): Promise<void> {
  await write(store, [
    {
      sql: `UPDATE runs SET lease_until = NULL,
              status = CASE WHEN runs.kill_requested_at IS NULL THEN 'queued' ELSE 'killed' END,
              started_at = CASE WHEN runs.kill_requested_at IS NULL THEN NULL ELSE runs.started_at END,
              node_id = CASE WHEN runs.kill_requested_at IS NULL THEN NULL ELSE runs.node_id END,
              ended_at = CASE WHEN runs.kill_requested_at IS NULL THEN NULL ELSE ? END,
              error = CASE WHEN runs.kill_requested_at IS NULL THEN runs.error ELSE 'killed by request before it started' END
            FROM json_each(?) AS u
            WHERE runs.id = u.value AND runs.node_id = ? AND +runs.status = 'running'`,
      args: [now, JSON.stringify(ids), nodeId],
    },
    // Those that ended killed store their deliveries with the end.
    deliveriesOfKilledAtStop(ids, nodeId, now),
  ]);
}

/** This node's running runs whose kill was requested (through another node, or before they started). */
export async function killRequested(store: Store, nodeId: string): Promise<number[]> {
  const rows = await read(store, {
    sql: "SELECT id FROM runs WHERE status = 'running' AND node_id = ? AND kill_requested_at IS NOT NULL",
    args: [nodeId],
  });
  return rows.map((r) => Number(r.id));
}
