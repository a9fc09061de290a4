// The outbox (table deliveries): what must be sent when a run ends, such as a facade's completion
// callback. A row is written in the transaction that records the run's end, so an end is never recorded
// without its deliveries; a node takes due rows with a lease, sends them, and records the outcome.
import type { Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { type AttemptOutcome, nextDueAt, recordAttemptAt, releaseHeld, takeDue } from "./outbox.ts";
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
export const releaseDeliveries = (store: Store, nodeId: string) => releaseHeld(store, "deliveries", nodeId);

/** Takes up to `limit` due deliveries for `nodeId` until `leaseUntil` (outbox.ts takeDue). */
export async function takeDeliveries(store: Store, nodeId: string, now: number, leaseUntil: number, limit: number): Promise<DeliveryRow[]> {
  return (await takeDue(store, "deliveries", "*", nodeId, now, leaseUntil, limit)).map(rowOf);
}

/** The earliest due time of a pending delivery, or null when none waits. */
export const nextDeliveryAt = (store: Store) => nextDueAt(store, "deliveries");

/** Records an attempt of a delivery this node holds; false when the node no longer holds it. */
export const recordAttempt = (store: Store, id: number, nodeId: string, outcome: AttemptOutcome) => recordAttemptAt(store, "deliveries", id, nodeId, outcome);

/** Deletes a delivery that has nothing left to send (its run or job is gone). */
export async function dropDelivery(store: Store, id: number): Promise<void> {
  await write(store, [{ sql: "DELETE FROM deliveries WHERE id = ?", args: [id] }]);
}

/** The deliveries of a run. */
export async function deliveriesOf(store: Store, runId: number): Promise<DeliveryRow[]> {
  return (await read(store, { sql: "SELECT * FROM deliveries WHERE run_id = ? ORDER BY id", args: [runId] })).map(rowOf);
}
