// What the two outboxes (table deliveries: a facade's callbacks; table notifications) share: rows a node
// takes under a lease when due, sends, and records; each with its own row shape and what else it does.
import type { Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { read, write } from "./sql.ts";

export type Outbox = "deliveries" | "notifications";

/** An attempt's outcome: delivered, failed for good (`retryAt` null) or to be retried at `retryAt`. */
export type AttemptOutcome = { delivered: true; at: number } | { delivered: false; at: number; error: string; retryAt: number | null };

/** Puts back the rows `nodeId` holds (at its start or stop): any node may take them now. */
export async function releaseHeld(store: Store, table: Outbox, nodeId: string): Promise<void> {
  await write(store, [{ sql: `UPDATE ${table} SET node_id = NULL, lease_until = NULL WHERE node_id = ? AND status = 'pending'`, args: [nodeId] }]);
}

/** The earliest due time of a pending row, or null when none waits. */
export async function nextDueAt(store: Store, table: Outbox): Promise<number | null> {
  const [r] = await read(store, `SELECT min(due_at) AS at FROM ${table} INDEXED BY ${table}_pending WHERE status = 'pending'`);
  return r?.at == null ? null : Number(r.at);
}

/**
 * Takes up to `limit` due rows for `nodeId` until `leaseUntil`, soonest first: those no node holds, or whose
 * holder's lease lapsed (it died while sending). Those it holds itself (being sent) it does not take again.
 */
export async function takeDue(store: Store, table: Outbox, columns: string, nodeId: string, now: number, leaseUntil: number, limit: number): Promise<Row[]> {
  const [rs] = await write(store, [
    {
      sql: `UPDATE ${table} SET node_id = ?, lease_until = ? WHERE id IN (
              SELECT id FROM ${table} INDEXED BY ${table}_pending WHERE status = 'pending' AND due_at <= ?
                AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at, id LIMIT ?)
            RETURNING ${columns}`,
      args: [nodeId, leaseUntil, now, now, limit],
    },
  ]);
  return [...rs.rows].sort((a, b) => Number(a.due_at ?? 0) - Number(b.due_at ?? 0) || Number(a.id) - Number(b.id));
}

/** Records an attempt at a row this node holds; false when the node no longer holds it. */
export async function recordAttemptAt(store: Store, table: Outbox, id: number, nodeId: string, outcome: AttemptOutcome): Promise<boolean> {
  const [rs] = await write(store, [
    outcome.delivered
      ? {
          sql: `UPDATE ${table} SET status = 'delivered', attempts = attempts + 1, ended_at = ?, node_id = NULL, lease_until = NULL, last_error = NULL
                WHERE id = ? AND node_id = ? AND status = 'pending' RETURNING id`,
          args: [outcome.at, id, nodeId],
        }
      : {
          sql: `UPDATE ${table} SET status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END, attempts = attempts + 1,
                  due_at = COALESCE(?, due_at), ended_at = CASE WHEN ? IS NULL THEN ? END, node_id = NULL, lease_until = NULL, last_error = ?
                WHERE id = ? AND node_id = ? AND status = 'pending' RETURNING id`,
          args: [outcome.retryAt, outcome.retryAt, outcome.retryAt, outcome.at, outcome.error, id, nodeId],
        },
  ]);
  return rs.rows.length > 0;
}
