// The statements that move a held run from queued to running (or, blocked by overlap forbid on another
// node, to skipped), and back to queued at stop. Fenced: only where this node's claim still holds.
import type { Stmt } from "../store/sql.ts";
import type { Claimed } from "./claim.ts";

/**
 * Marks runs running. started_at is the expected start; the end records the actual one. `+status`: look
 * each run up by id, not through the index of every queued run. `rooms[i]`, when not null, is how many more
 * runs of run i's job may run beyond this node's (overlap forbid across nodes): other nodes' running runs
 * of the job must be fewer.
 */
export function markStatement(runs: Claimed[], now: number, nodeId: string, rooms: (number | null)[]): Stmt {
  return {
    sql: `UPDATE runs SET status = 'running', started_at = max(?, m.value->>1) FROM json_each(?) AS m
          WHERE runs.id = m.value->>0 AND +runs.status = 'queued' AND runs.node_id = ? AND runs.fence = m.value->>2
            AND (m.value->>3 IS NULL OR
                 (SELECT count(*) FROM runs AS o WHERE o.status = 'running' AND o.job_id = runs.job_id AND o.node_id != runs.node_id) < m.value->>3)
          RETURNING runs.id`,
    args: [now, JSON.stringify(runs.map((r, i) => [r.id, r.dueAt, r.fence, rooms[i]])), nodeId],
  };
}

/** Runs not marked because the job runs on another node (overlap forbid) end skipped, as on one node. */
export function skipBlockedStatement(runs: Claimed[], at: number, nodeId: string): Stmt {
  return {
    sql: `UPDATE runs SET status = 'skipped', ended_at = ?, error = 'overlap: the job was still running on another node (policy forbid)',
            lease_until = NULL FROM json_each(?) AS b
          WHERE runs.id = b.value->>0 AND runs.fence = b.value->>1 AND +runs.status = 'queued' AND runs.node_id = ?`,
    args: [at, JSON.stringify(runs.map((r) => [r.id, r.fence])), nodeId],
  };
}

/** Ends a queued run that will not start (skipped or replaced by the overlap policy). */
export function endUnstartedStatement(run: Claimed, status: "skipped" | "killed", at: number, error: string): Stmt {
  return {
    sql: "UPDATE runs SET status = ?, ended_at = ?, error = ?, lease_until = NULL WHERE id = ? AND fence = ? AND +status = 'queued'",
    args: [status, at, error, run.id, run.fence],
  };
}

/**
 * Runs marked running that never started go back to the queue, for any node (at stop); those whose kill
 * was requested meanwhile end killed instead.
 */
export function requeueStatement(ids: number[], nodeId: string, now: number): Stmt {
  return {
    sql: `UPDATE runs SET lease_until = NULL,
            status = CASE WHEN runs.kill_requested_at IS NULL THEN 'queued' ELSE 'killed' END,
            started_at = CASE WHEN runs.kill_requested_at IS NULL THEN NULL ELSE runs.started_at END,
            node_id = CASE WHEN runs.kill_requested_at IS NULL THEN NULL ELSE runs.node_id END,
            ended_at = CASE WHEN runs.kill_requested_at IS NULL THEN NULL ELSE ? END,
            error = CASE WHEN runs.kill_requested_at IS NULL THEN runs.error ELSE 'killed by request before it started' END
          FROM json_each(?) AS u
          WHERE runs.id = u.value AND runs.node_id = ? AND +runs.status = 'running'`,
    args: [now, JSON.stringify(ids), nodeId],
  };
}
