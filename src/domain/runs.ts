// Run queries and deletion: history of a job and single runs.
import { jobById } from "../store/jobs.ts";
import { countRunsOfJob, countWaitingSlots, deleteFinishedRun, runById, runsOfJob, runState } from "../store/runs.ts";
import { audit, mayChange, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { conflict, invalid, notFound } from "./errors.ts";
import { decodeCursor, encodeCursor } from "./ids.ts";
import { getJobRow, type Page } from "./jobs.ts";
import { type JobView, jobView, type RunView, runView } from "./views.ts";
import { waitingReason } from "./waiting.ts";

/** A run in the queue that no node holds: it may be waiting for a node that can run it. */
const unheld = (v: RunView) => v.status === "queued" && v.nodeId === null;

export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "killed", "skipped", "lost"] as const;

/** Statuses a run never leaves; every line of such a run is committed. */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES.filter((s) => s !== "queued" && s !== "running"));

export async function listRuns(
  deps: DomainDeps,
  ns: string,
  name: string,
  q: { limit?: number; cursor?: string; status?: string },
): Promise<Page<RunView>> {
  const job = await getJobRow(deps, ns, name);
  const limit = q.limit ?? 100;
  const statuses = q.status ? q.status.split(",") : undefined;
  for (const s of statuses ?? []) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) throw invalid(`status must be one of ${RUN_STATUSES.join(", ")}`, "status");
  }
  const rows = await runsOfJob(deps.store, job.id, { statuses, before: q.cursor ? decodeSlotCursor(q.cursor) : undefined, limit: limit + 1 });
  const last = rows[limit - 1];
  const items = rows.slice(0, limit).map(runView);
  if (items.some(unheld)) {
    const why = await waitingReason(deps, job);
    for (const v of items) if (why && unheld(v)) v.waiting = why;
  }
  return {
    items,
    nextCursor: rows.length > limit ? encodeCursor(`${last.scheduledAt}.${last.attempt}${last.forNode ? `.${last.forNode}` : ""}`) : null,
  };
}

function decodeSlotCursor(cursor: string): [number, number, string] {
  const m = /^(\d{1,16})\.(\d{1,9})(?:\.([^]+))?$/.exec(decodeCursor<string>(cursor, "string"));
  if (!m) throw invalid("cursor is not one this server issued", "cursor");
  return [Number(m[1]), Number(m[2]), m[3] ?? ""];
}

export async function getRun(deps: DomainDeps, id: number): Promise<RunView> {
  const row = await runById(deps.store, id);
  if (!row || !sees(deps.access, row.namespace)) throw runMissing(id);
  const view = runView(row);
  const job = unheld(view) ? await jobById(deps.store, row.jobId) : undefined;
  if (job) view.waiting = (await waitingReason(deps, job)) ?? undefined;
  return view;
}

export const runMissing = (id: number) => notFound(`run ${id} not found`);

/** A run and the job it belongs to, by the job's id (a job made again under the run's job name is another job). */
export async function getRunWithJob(deps: DomainDeps, id: number): Promise<{ run: RunView; job: JobView }> {
  const row = await runById(deps.store, id);
  if (!row || !sees(deps.access, row.namespace)) throw runMissing(id);
  const job = await jobById(deps.store, row.jobId);
  if (!job) throw notFound(`job ${row.jobId} of run ${id} not found`);
  return { run: runView(row), job: jobView(job) };
}

/**
 * Checks that the caller may change run `id` (404 when it may not see it, as for a run that does not exist;
 * 403 for a reader). A run's namespace never changes, so the check holds for the write that follows.
 */
export async function mayChangeRun(deps: DomainDeps, id: number): Promise<void> {
  if (deps.access.namespaces === null && deps.access.role !== "reader") return; // sees and may change every run
  const run = await runState(deps.store, id);
  if (!run) throw runMissing(id);
  mayChange(deps.access, run.namespace, () => runMissing(id));
}

/** Deletes a finished run and its logs in one transaction; 409 while it is queued or running. */
export async function deleteRun(deps: DomainDeps, id: number): Promise<void> {
  await mayChangeRun(deps, id);
  if (await deleteFinishedRun(deps.store, id)) return audit(deps, "run.delete", { run: id });
  const run = await runState(deps.store, id);
  if (!run) throw runMissing(id);
  throw conflict(`run ${id} is ${run.status}; kill it first, then delete it`);
}

/** A job's runs, newest first, by offset. `limit` 10 with offset 0 is SchedulerX's "last 10 instances". */
export async function recentRuns(deps: DomainDeps, jobId: number, q: { offset: number; limit: number }): Promise<RunView[]> {
  return (await runsOfJob(deps.store, jobId, q)).map(runView);
}

/** recentRuns with the job's total count of runs: numbered pages for the foreign APIs that page that way (Alauda). */
export async function findRuns(deps: DomainDeps, jobId: number, q: { offset: number; limit: number }): Promise<{ count: number; items: RunView[] }> {
  const [count, items] = await Promise.all([countRunsOfJob(deps.store, jobId), recentRuns(deps, jobId, q)]);
  return { count, items };
}

/**
 * Scheduled slots of a job that have started: its fired count less the slots claimed ahead of their time
 * (up to the scheduler's lookahead) that are still waiting. Manual triggers are not counted.
 */
export async function startedSlots(deps: DomainDeps, jobId: number, firedCount: number): Promise<number> {
  return Math.max(0, firedCount - (await countWaitingSlots(deps.store, jobId)));
}
