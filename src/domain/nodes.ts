// The nodes sharing this database, and whether the database answers.
import { listNodeRows } from "../store/nodes.ts";
import { ping } from "../store/system.ts";
import { requireRole } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { iso } from "./ids.ts";

export interface NodeView {
  id: string;
  version: string;
  startedAt: string | null;
  heartbeatAt: string | null;
}

/** Every node that has heartbeated into this database (admins only). */
export async function listNodes(deps: Pick<DomainDeps, "store" | "access">): Promise<{ items: NodeView[]; nextCursor: null }> {
  requireRole(deps.access, "admin", "listing nodes");
  const rows = await listNodeRows(deps.store);
  return { items: rows.map((n) => ({ id: n.id, version: n.version, startedAt: iso(n.startedAt), heartbeatAt: iso(n.heartbeatAt) })), nextCursor: null };
}

/** "ok", or why the database cannot answer a read. */
export async function databaseStatus(deps: Pick<DomainDeps, "store">): Promise<string> {
  try {
    await ping(deps.store);
    return "ok";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
