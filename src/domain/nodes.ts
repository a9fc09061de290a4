// The nodes sharing this database, and whether the database answers.
import { listNodeRows } from "../store/nodes.ts";
import { fileProblem, ping, probeWrite, writeProblem } from "../store/system.ts";
import { requireRole } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { iso } from "./ids.ts";

export interface NodeView {
  id: string;
  version: string;
  startedAt: string | null;
  heartbeatAt: string | null;
  /** The kinds of target it can run. */
  executors: string[];
  /** The script languages it has an interpreter for. */
  scriptLanguages: string[];
  /** Runs it is running now. */
  running: number;
}

/** Every node that has registered in this database, with what it runs and can run (admins only). */
export async function listNodes(deps: Pick<DomainDeps, "store" | "access">): Promise<{ items: NodeView[]; nextCursor: null }> {
  requireRole(deps.access, "admin", "listing nodes");
  const rows = await listNodeRows(deps.store);
  const view = (n: (typeof rows)[number]): NodeView => {
    const offers = n.executors ?? [];
    const languages = offers.filter((o) => o.startsWith("script:")).map((o) => o.slice("script:".length));
    const kinds = [...new Set(offers.map((o) => (o.startsWith("script:") ? "script" : o)))];
    return { id: n.id, version: n.version, startedAt: iso(n.startedAt), heartbeatAt: iso(n.heartbeatAt), executors: kinds, scriptLanguages: languages, running: n.running };
  };
  return { items: rows.map(view), nextCursor: null };
}

/**
 * "ok", or why not: its file was deleted or replaced under this node, it cannot answer a read, or it takes
 * no writes: after a write failed for the
 * database's storage (locked, full, read-only, its file gone), a probe write says whether that has passed.
 */
export async function databaseStatus(deps: Pick<DomainDeps, "store">): Promise<string> {
  const text = (e: unknown) => (e instanceof Error ? e.message : String(e));
  const gone = fileProblem(deps.store);
  if (gone) return gone;
  try {
    await ping(deps.store);
  } catch (e) {
    return text(e);
  }
  const failing = writeProblem(deps.store);
  if (!failing) return "ok";
  try {
    await probeWrite(deps.store);
    return "ok";
  } catch (e) {
    return `writes fail since ${iso(failing.since)}: ${text(e)}`;
  }
}
