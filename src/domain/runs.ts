// Run queries and deletion: history of a job and single runs.
import { read, readOne, write } from "../store/sql.ts";
import { audit, mayChange, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { conflict, invalid, notFound } from "./errors.ts";
import { decodeCursor, encodeCursor } from "./ids.ts";
import { getJobRow, type Page } from "./jobs.ts";
import { type RunView, runView } from "./views.ts";

export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "killed", "skipped", "lost"] as const;

/** Statuses a run never leaves; every line of such a run is committed. */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES.filter((s) => s !== "queued" && s !== "running"));

/**
 * SQL condition: the run has finished. Queued and running runs belong to the node holding them: deleting
 * one would pull its record from under that node.
 */
export const FINISHED_SQL = "status NOT IN ('queued', 'running')";

export async function listRuns(
  deps: DomainDeps,
  ns: string,
  name: string,
  q: { limit?: number; cursor?: string; status?: string },
): Promise<Page<RunView>> {
  const job = await getJobRow(deps, ns, name);
  const limit = q.limit ?? 100;
  const args: (string | number)[] = [Number(job.id)];
  let sql = "SELECT * FROM runs WHERE job_id = ?";
  if (q.status) {
    const statuses = q.status.split(",");
    for (const s of statuses) {
      if (!(RUN_STATUSES as readonly string[]).includes(s)) throw invalid(`status must be one of ${RUN_STATUSES.join(", ")}`, "status");
    }
    sql += ` AND status IN (${statuses.map(() => "?").join(", ")})`;
    args.push(...statuses);
  }
  if (q.cursor) {
    const [at, attempt] = decodeSlotCursor(q.cursor);
    sql += " AND (scheduled_at, attempt) < (?, ?)";
    args.push(at, attempt);
  }
  // Newest slot first, its latest attempt first: the order of the (job, slot, attempt) key, so no sort.
  sql += " ORDER BY scheduled_at DESC, attempt DESC LIMIT ?";
  args.push(limit + 1);
  const rows = await read(deps.store, { sql, args });
  const last = rows[limit - 1];
  return {
    items: rows.slice(0, limit).map(runView),
    nextCursor: rows.length > limit ? encodeCursor(`${last.scheduled_at}.${last.attempt}`) : null,
  };
}

function decodeSlotCursor(cursor: string): [number, number] {
  const m = /^(\d{1,16})\.(\d{1,9})$/.exec(decodeCursor<string>(cursor, "string"));
  if (!m) throw invalid("cursor is not one this server issued", "cursor");
  return [Number(m[1]), Number(m[2])];
}

export async function getRun(deps: DomainDeps, id: number): Promise<RunView> {
  const row = await readOne(deps.store, { sql: "SELECT * FROM runs WHERE id = ?", args: [id] });
  if (!row || !sees(deps.access, String(row.namespace))) throw runMissing(id);
  return runView(row);
}

export const runMissing = (id: number) => notFound(`run ${id} not found`);

/**
 * Checks that the caller may change run `id` (404 when it may not see it, as for a run that does not exist;
 * 403 for a reader). A run's namespace never changes, so the check holds for the write that follows.
 */
export async function mayChangeRun(deps: DomainDeps, id: number): Promise<void> {
  if (deps.access.namespaces === null && deps.access.role !== "reader") return; // sees and may change every run
  const row = await readOne(deps.store, { sql: "SELECT namespace FROM runs WHERE id = ?", args: [id] });
  if (!row) throw runMissing(id);
  mayChange(deps.access, String(row.namespace), () => runMissing(id));
}

/** Deletes a finished run and its logs in one transaction; 409 while it is queued or running. */
export async function deleteRun(deps: DomainDeps, id: number): Promise<void> {
  await mayChangeRun(deps, id);
  // The guard is in the statements (no read-then-delete), so no race can delete a live run or its lines.
  const rs = await write(deps.store, [
    { sql: `DELETE FROM run_logs WHERE run_id IN (SELECT id FROM runs WHERE id = ? AND ${FINISHED_SQL})`, args: [id] },
    { sql: `DELETE FROM runs WHERE id = ? AND ${FINISHED_SQL} RETURNING id`, args: [id] },
  ]);
  if (rs[1].rows.length > 0) return audit(deps, "run.delete", { run: id });
  const row = await readOne(deps.store, { sql: "SELECT status FROM runs WHERE id = ?", args: [id] });
  if (!row) throw runMissing(id);
  throw conflict(`run ${id} is ${String(row.status)}; kill it first, then delete it`);
}

/** A job's runs, newest first, by offset. `limit` 10 with offset 0 is SchedulerX's "last 10 instances". */
export async function recentRuns(deps: DomainDeps, jobId: number, q: { offset: number; limit: number }): Promise<RunView[]> {
  const rows = await read(deps.store, { sql: "SELECT * FROM runs WHERE job_id = ? ORDER BY scheduled_at DESC, attempt DESC LIMIT ? OFFSET ?", args: [jobId, q.limit, q.offset] });
  return rows.map(runView);
}

/** recentRuns with the job's total count of runs: numbered pages for the foreign APIs that page that way (Alauda). */
export async function findRuns(deps: DomainDeps, jobId: number, q: { offset: number; limit: number }): Promise<{ count: number; items: RunView[] }> {
  const [total, items] = await Promise.all([
    readOne(deps.store, { sql: "SELECT count(*) AS n FROM runs WHERE job_id = ?", args: [jobId] }),
    recentRuns(deps, jobId, q),
  ]);
  return { count: Number(total?.n ?? 0), items };
}

/**
 * Scheduled slots of a job that have started: its fired count less the slots claimed ahead of their time
 * (up to the scheduler's lookahead) that are still waiting. Manual triggers are not counted.
 */
export async function startedSlots(deps: DomainDeps, jobId: number, firedCount: number): Promise<number> {
  const row = await readOne(deps.store, {
    sql: "SELECT count(*) AS n FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id = ? AND trigger = 'schedule' AND attempt = 1",
    args: [jobId],
  });
  return Math.max(0, firedCount - Number(row?.n ?? 0));
}
