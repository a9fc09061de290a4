// The overlap policy: what becomes of a run due to start while runs of its job are still in flight. Pure
// functions of the policy and the counts, so the decision can be tested without a scheduler.
import type { Claimed, Overlap } from "./types.ts";

/** Runs of one job that may wait for their turn (policy queue, or allow past maxConcurrency). */
export const MAX_WAITING = 100;

/**
 * start: it starts. replace: it starts, and the job's oldest run stops. wait: it waits for an earlier run
 * of its job to end. skip: it ends skipped, without starting (`skipReason` says why).
 */
export type OverlapAction = "start" | "replace" | "wait" | "skip";

/**
 * What to do with a run of a job that has `running` runs in flight on this node (those being started with
 * it included) and `waiting` runs waiting for them. Below the job's limit (maxConcurrency; without it, one
 * run, or no limit for allow) it starts. At the limit, forbid skips it, replace starts it in place of the
 * oldest, and queue or allow make it wait, up to MAX_WAITING. A catch-up run (one of several missed slots
 * run by misfire all) always waits, whatever the policy: missed slots run one after another, none skipped.
 */
export function decideOverlap(overlap: Overlap, maxConcurrency: number | null, catchUp: boolean, running: number, waiting: number): OverlapAction {
  const limit = maxConcurrency ?? (overlap === "allow" ? Number.POSITIVE_INFINITY : 1);
  if (running < limit) return "start";
  if (catchUp) return "wait";
  if (overlap === "forbid") return "skip";
  if (overlap === "replace") return "replace";
  return waiting < MAX_WAITING ? "wait" : "skip";
}

/** Why a run the policy skipped did not start. */
export function skipReason(overlap: Overlap): string {
  return overlap === "forbid"
    ? "overlap: the job's previous run was still running (policy forbid)"
    : `overlap: ${MAX_WAITING} runs of the job already wait for their turn (policy ${overlap})`;
}

/**
 * The most runs of the job that may run at once across all nodes, checked in SQL when marking; null: no
 * check (only forbid bounds the job across nodes; catch-up runs wait on this node instead; a broadcast
 * job runs on every node at once by design, its overlap holds per node).
 */
export function clusterLimit(run: Claimed): number | null {
  return run.job.overlap === "forbid" && !run.catchUp && !run.job.broadcast ? (run.job.maxConcurrency ?? 1) : null;
}

/**
 * For each run about to be marked, how many more runs of its job may run on other nodes: its cluster limit
 * less the job's runs on this node (`activeOf`) and those ahead of it in this batch. Null where nothing is
 * checked; null altogether when no other node shares the database.
 */
export function clusterRooms(runs: Claimed[], shared: boolean, activeOf: (jobId: number) => number): (number | null)[] | null {
  if (!shared) return null;
  const ahead = new Map<number, number>();
  return runs.map((run) => {
    const limit = clusterLimit(run);
    if (limit === null) return null;
    const earlier = ahead.get(run.jobId) ?? 0;
    ahead.set(run.jobId, earlier + 1);
    return limit - (activeOf(run.jobId) + earlier);
  });
}
