// The outbox (table deliveries): what must be sent when a run ends, such as a facade's completion
// callback. A row is written in the transaction that records the run's end, so an end is never recorded
// without its deliveries; a node takes due rows with a lease, sends them, and records the outcome.
import type { Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { read, type Stmt, str, write } from "./sql.ts";

export interface DeliveryRow {
  id: number;
  runId: number;
  kind: string;
  namespace: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  dueAt: number;
  createdAt: number;
  lastError: string | null;
}

const rowOf = (r: Row): DeliveryRow => ({
  id: Number(r.id),
  runId: Number(r.run_id),
  kind: String(r.kind),
  namespace: String(r.namespace),
  status: r.status as DeliveryRow["status"],
  attempts: Number(r.attempts),
  dueAt: Number(r.due_at),
  createdAt: Number(r.created_at),
  lastError: str(r.last_error),
});

/**
 * The deliveries of runs whose end the same batch records: one row per (run, kind), only where the run's
 * fence still is `fence` (a node that lost the run records neither its end nor its deliveries).
 */
export function deliveriesOfEnds(ends: { runId: number; fence: number; namespace: string; kinds: readonly string[] }[], now: number): Stmt {
  const rows = ends.flatMap((e) => e.kinds.map((k) => [e.runId, e.fence, k, e.namespace]));
  return {
    sql: `INSERT INTO deliveries (run_id, kind, namespace, status, attempts, due_at, created_at)
          SELECT d.value->>0, d.value->>2, d.value->>3, 'pending', 0, ?, ? FROM json_each(?) AS d, runs
          WHERE runs.id = d.value->>0 AND runs.fence = d.value->>1
          ON CONFLICT DO NOTHING`,
    args: [now, now, JSON.stringify(rows)],
  };
}

/** Inserts the deliveries of the runs `where` selects (table runs), one per kind their jobs' `on_end` lists. */
const deliveriesWhere = (where: string, args: (string | number)[], now: number): Stmt => ({
  sql: `INSERT INTO deliveries (run_id, kind, namespace, status, attempts, due_at, created_at)
        SELECT runs.id, k.value, runs.namespace, 'pending', 0, ?, ? FROM runs, jobs, json_each(jobs.on_end) AS k
        WHERE ${where} AND jobs.id = runs.job_id AND jobs.on_end IS NOT NULL
        ON CONFLICT DO NOTHING`,
  args: [now, now, ...args],
});

/**
 * The deliveries of run `runId` if the statement just before this one (in the same batch) ended it: a kill
 * of a queued run, the end of a run that never started. Nothing for a run that statement did not change.
 */
export const deliveriesOfEndedRun = (runId: number, now: number): Stmt => deliveriesWhere("runs.id = ? AND changes() = 1", [runId], now);

/** The deliveries of those of `runIds` that node `nodeId` has just (at `now`) ended killed while putting the rest back. */
export const deliveriesOfKilledAtStop = (runIds: readonly number[], nodeId: string, now: number): Stmt =>
  deliveriesWhere("runs.id IN (SELECT value FROM json_each(?)) AND runs.status = 'killed' AND runs.ended_at = ? AND runs.node_id = ?", [JSON.stringify(runIds), now, nodeId], now);

/** Puts back the deliveries `nodeId` held (it is starting, so it sends none): any node may take them now. */
export async function releaseDeliveries(store: Store, nodeId: string): Promise<void> {
  await write(store, [{ sql: "UPDATE deliveries SET node_id = NULL, lease_until = NULL WHERE node_id = ? AND status = 'pending'", args: [nodeId] }]);
}

/**
 * Takes up to `limit` due deliveries for `nodeId` until `leaseUntil`: those no node holds, or whose holder's
 * lease lapsed (it died while sending). Those it holds itself (being sent) it does not take again.
 */
export async function takeDeliveries(store: Store, nodeId: string, now: number, leaseUntil: number, limit: number): Promise<DeliveryRow[]> {
  const [rs] = await write(store, [
    {
      sql: `UPDATE deliveries SET node_id = ?, lease_until = ? WHERE id IN (
              SELECT id FROM deliveries INDEXED BY deliveries_pending WHERE status = 'pending' AND due_at <= ?
                AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?)
            RETURNING *`,
      args: [nodeId, leaseUntil, now, now, limit],
    },
  ]);
  return rs.rows.map(rowOf);
}

/** The earliest due time of a pending delivery, or null when none waits. */
export async function nextDeliveryAt(store: Store): Promise<number | null> {
  const [r] = await read(store, "SELECT min(due_at) AS at FROM deliveries INDEXED BY deliveries_pending WHERE status = 'pending'");
  return r?.at == null ? null : Number(r.at);
}

/**
 * Records an attempt of a delivery this node holds: delivered, failed for good (`retryAt` null) or to be
 * retried at `retryAt`. False when the node no longer holds it.
 */
export async function recordAttempt(
  store: Store,
  id: number,
  nodeId: string,
  outcome: { delivered: true; at: number } | { delivered: false; at: number; error: string; retryAt: number | null },
): Promise<boolean> {
  const [rs] = await write(store, [
    outcome.delivered
      ? {
          sql: `UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, ended_at = ?, node_id = NULL, lease_until = NULL, last_error = NULL
                WHERE id = ? AND node_id = ? AND status = 'pending' RETURNING id`,
          args: [outcome.at, id, nodeId],
        }
      : {
          sql: `UPDATE deliveries SET status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END, attempts = attempts + 1,
                  due_at = COALESCE(?, due_at), ended_at = CASE WHEN ? IS NULL THEN ? END, node_id = NULL, lease_until = NULL, last_error = ?
                WHERE id = ? AND node_id = ? AND status = 'pending' RETURNING id`,
          args: [outcome.retryAt, outcome.retryAt, outcome.retryAt, outcome.at, outcome.error, id, nodeId],
        },
  ]);
  return rs.rows.length > 0;
}

/** Deletes a delivery that has nothing left to send (its run or job is gone). */
export async function dropDelivery(store: Store, id: number): Promise<void> {
  await write(store, [{ sql: "DELETE FROM deliveries WHERE id = ?", args: [id] }]);
}

/** The deliveries of a run. */
export async function deliveriesOf(store: Store, runId: number): Promise<DeliveryRow[]> {
  return (await read(store, { sql: "SELECT * FROM deliveries WHERE run_id = ? ORDER BY id", args: [runId] })).map(rowOf);
}
