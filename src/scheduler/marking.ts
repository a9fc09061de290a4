// Preparing a batch of due runs: the overlap policy applied to it (overlap.ts decides, run by run), then one
// fenced write marking the runs that may start running, which on a shared database also bounds overlap
// forbid across nodes. Runs another node blocks end skipped, as on one node.
import type { Clock } from "../clock.ts";
import { errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { GroupWriter } from "../store/group-writer.ts";
import { markRunning, skipBlocked } from "../store/marks.ts";
import { clusterLimit, clusterRooms, decideOverlap, skipReason } from "./overlap.ts";
import type { Claimed, SchedulerConfig } from "./types.ts";

/** What applying the overlap policy needs of the runner. */
export interface Admission {
  /** Runs of the job marked running on this node. */
  running(jobId: number): number;
  /** Runs of the job waiting for an earlier one. */
  waiting(jobId: number): number;
  /** Queues a run behind its job's earlier ones. */
  wait(run: Claimed): void;
  /** Ends a run that will not start. */
  unstarted(run: Claimed, status: "skipped" | "killed", error: string): void;
  /** Stops the job's oldest run on this node, replaced by run `by`. */
  replaceOldest(jobId: number, by: number): void;
}

/** Applies the overlap policy to a batch: returns the runs to mark; the others wait, or end without starting. */
export function admitBatch(batch: Claimed[], s: Admission): Claimed[] {
  const mark: Claimed[] = [];
  const adding = new Map<number, Claimed[]>(); // job id -> runs of this batch to mark
  const add = (run: Claimed) => {
    mark.push(run);
    const list = adding.get(run.jobId);
    if (list) list.push(run);
    else adding.set(run.jobId, [run]);
  };
  for (const run of batch) {
    const batchmates = adding.get(run.jobId);
    const { overlap, maxConcurrency } = run.job;
    const running = s.running(run.jobId) + (batchmates?.length ?? 0);
    switch (decideOverlap(overlap, maxConcurrency, run.catchUp === true, running, s.waiting(run.jobId))) {
      case "start":
        add(run);
        break;
      case "skip":
        s.unstarted(run, "skipped", skipReason(overlap));
        break;
      case "wait":
        s.wait(run);
        break;
      case "replace":
        if (batchmates?.length) {
          // The run it replaces is in this same batch: that one never starts.
          const first = batchmates.shift()!;
          mark.splice(mark.indexOf(first), 1);
          s.unstarted(first, "killed", `replaced by run ${run.id} (overlap replace)`);
        } else s.replaceOldest(run.jobId, run.id);
        add(run);
        break;
    }
  }
  return mark;
}

export interface MarkDeps {
  writer: GroupWriter;
  clock: Clock;
  config: SchedulerConfig;
  log: Logger;
}

/**
 * Marks `runs` running; resolves with the ids marked, or null when the write failed. `activeOf`: the job's
 * runs marked running on this node, which count against its limit. `track` is handed the write that ends
 * blocked runs skipped.
 */
export async function markBatch(
  d: MarkDeps,
  runs: Claimed[],
  shared: boolean,
  activeOf: (jobId: number) => number,
  track: (p: Promise<void>) => void,
): Promise<Set<number> | null> {
  let marked: Set<number>;
  try {
    marked = await d.writer.submit(markRunning(runs, d.clock.now(), d.config.nodeId, clusterRooms(runs, shared, activeOf)));
  } catch (e) {
    // Not marked and no longer held: this node stops renewing their leases, so once those lapse the runs
    // are claimed again (by any node, this one included).
    d.log.error("could not mark runs running", { error: errorText(e), count: runs.length });
    return null;
  }
  // Not marked because another node runs the job (overlap forbid): skipped. (One not marked because it was
  // deleted or taken over is untouched by this: gone, or its fence moved.)
  const blocked = shared ? runs.filter((r) => !marked.has(r.id) && clusterLimit(r) !== null) : [];
  if (blocked.length) {
    const recorded = d.writer.submit(skipBlocked(blocked, d.clock.now(), d.config.nodeId));
    track(recorded.catch((e) => d.log.error("could not record skipped runs", { error: errorText(e) })));
  }
  return marked;
}
