// The SQL of cluster membership (table nodes): a node registers at start, beats its heartbeat every
// second or so, and leaves at stop; the others count who is alive, find who died (leases.ts takes their
// runs back and removes their rows), and the API lists them.
import type { Store } from "./client.ts";
import type { Batch } from "./group-writer.ts";
import { nodes } from "./schema.ts";
import { DB_NOW, json, read, readOne, write } from "./sql.ts";

export type NodeRow = typeof nodes.$inferSelect;

/** Registers (or re-registers) a node as started now (the database's time), with what it can run. */
export async function joinNode(store: Store, id: string, version: string, executors: readonly string[]): Promise<void> {
  await write(store, [
    {
      sql: `INSERT INTO nodes (id, started_at, heartbeat_at, version, executors) VALUES (?, ${DB_NOW}, ${DB_NOW}, ?, ?)
            ON CONFLICT(id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, version = excluded.version, executors = excluded.executors`,
      args: [id, version, JSON.stringify(executors)],
    },
  ]);
}

/** Beats this node's heartbeat (the database's time); resolves false when its row is gone (others took it for dead). */
export function beatNode(id: string): Batch<boolean> {
  return {
    stmts: [{ sql: `UPDATE nodes SET heartbeat_at = ${DB_NOW} WHERE id = ?`, args: [id] }],
    result: ([rs]) => rs.rowsAffected === 1,
  };
}

/**
 * How long each node has been silent (ms since its heartbeat, by the database's clock), and that clock as it
 * answered: one read serves the live count, the dead ones and the clock check of a heartbeat.
 */
export async function nodeSilences(store: Store): Promise<{ dbNow: number; nodes: { id: string; silentMs: number }[] }> {
  const row = await readOne(store, `SELECT ${DB_NOW} AS db_now, (SELECT json_group_array(json_array(id, ${DB_NOW} - heartbeat_at)) FROM nodes) AS silences`);
  const silences = json<[string, number][]>(row?.silences) ?? [];
  return { dbNow: Number(row?.db_now), nodes: silences.map(([id, silentMs]) => ({ id, silentMs })) };
}

/** What each node that beat within `timeoutMs` can run (its executors' offers). */
export async function liveOffers(store: Store, timeoutMs: number): Promise<string[][]> {
  const rows = await read(store, { sql: `SELECT executors FROM nodes WHERE heartbeat_at >= ${DB_NOW} - ?`, args: [timeoutMs] });
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
