// The database as a whole: whether it answers, and the nodes that share it.
import type { Store } from "./client.ts";
import { read } from "./sql.ts";

export interface NodeRow {
  id: string;
  version: string;
  startedAt: number;
  heartbeatAt: number;
}

/** Throws what the database says when it cannot answer a read. */
export async function ping(store: Store): Promise<void> {
  await read(store, "SELECT 1");
}

export async function listNodeRows(store: Store): Promise<NodeRow[]> {
  const rows = await read(store, "SELECT id, version, started_at, heartbeat_at FROM nodes ORDER BY id");
  return rows.map((r) => ({ id: String(r.id), version: String(r.version), startedAt: Number(r.started_at), heartbeatAt: Number(r.heartbeat_at) }));
}
