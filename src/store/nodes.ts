// The SQL of cluster membership (table nodes): a node registers at start, beats its heartbeat every
// second or so, and leaves at stop; the others count who is alive, find who died (leases.ts takes their
// runs back and removes their rows), and the API lists them.
import type { Store } from "./client.ts";
import type { Batch } from "./group-writer.ts";
import { nodes } from "./schema.ts";
import { json, read, readOne, write } from "./sql.ts";

export type NodeRow = typeof nodes.$inferSelect;

/** Registers (or re-registers) a node as started now, with the kinds of target it can run. */
export async function joinNode(store: Store, id: string, now: number, version: string, executors: readonly string[]): Promise<void> {
  await write(store, [
    {
      sql: `INSERT INTO nodes (id, started_at, heartbeat_at, version, executors) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, version = excluded.version, executors = excluded.executors`,
      args: [id, now, now, version, JSON.stringify(executors)],
    },
  ]);
}

/** Beats this node's heartbeat; resolves false when its row is gone (other nodes took it for dead). */
export function beatNode(id: string, now: number): Batch<boolean> {
  return {
    stmts: [{ sql: "UPDATE nodes SET heartbeat_at = ? WHERE id = ?", args: [now, id] }],
    result: ([rs]) => rs.rowsAffected === 1,
  };
}

/** Other nodes whose heartbeat is older than `before`, with it. */
export async function deadNodes(store: Store, before: number, me: string): Promise<{ id: string; heartbeatAt: number }[]> {
  const rows = await read(store, { sql: "SELECT id, heartbeat_at FROM nodes WHERE heartbeat_at < ? AND id != ?", args: [before, me] });
  return rows.map((r) => ({ id: String(r.id), heartbeatAt: Number(r.heartbeat_at) }));
}

/** Nodes whose heartbeat is at or after `since`, and the database's clock (ms) as it answered. */
export async function liveNodes(store: Store, since: number): Promise<{ live: number; dbNow: number }> {
  const row = await readOne(store, {
    sql: "SELECT (SELECT count(*) FROM nodes WHERE heartbeat_at >= ?) AS n, CAST(unixepoch('subsec') * 1000 AS INTEGER) AS db_now",
    args: [since],
  });
  return { live: Number(row?.n ?? 0), dbNow: Number(row?.db_now) };
}

/** What each node whose heartbeat is at or after `since` can run (its executors' offers). */
export async function liveOffers(store: Store, since: number): Promise<string[][]> {
  const rows = await read(store, { sql: "SELECT executors FROM nodes WHERE heartbeat_at >= ?", args: [since] });
  return rows.map((r) => json<string[]>(r.executors) ?? []);
}

export async function leaveNode(store: Store, id: string): Promise<void> {
  await write(store, [{ sql: "DELETE FROM nodes WHERE id = ?", args: [id] }]);
}

/** Every node registered, by id, with how many runs it is running now. */
export async function listNodeRows(store: Store): Promise<(NodeRow & { running: number })[]> {
  const [rows, counts] = await Promise.all([
    store.db.select().from(nodes).orderBy(nodes.id),
    read(store, "SELECT node_id, count(*) AS n FROM runs INDEXED BY runs_running WHERE status = 'running' GROUP BY node_id"),
  ]);
  const running = new Map(counts.map((r) => [String(r.node_id), Number(r.n)]));
  return rows.map((n) => ({ ...n, running: running.get(n.id) ?? 0 }));
}
