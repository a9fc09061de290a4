// The runs marked running on this node (ready, waiting for capacity, or executing), by id and by job, and
// those waiting for an earlier run of their job to end (overlap queue).
import type { Claimed } from "./types.ts";
import { Groups } from "./groups.ts";
import { JobQueues } from "./waiting.ts";

/** A run marked running on this node: ready (waiting for its due time or capacity) or executing. */
export interface Active {
  run: Claimed;
  /** Its per-host key: the job's, or for a host name the address it resolves to. */
  host: string;
  controller: AbortController;
  executing: boolean;
  /** A kill was requested: the run ends killed (and is not retried) whatever else stopped it. */
  killed?: boolean;
}

export class ActiveRuns {
  #byId = new Map<number, Active>();
  #byJob = new Groups<number, number>();
  /** Runs waiting for an earlier run of their job (not marked running yet). */
  readonly waiting = new JobQueues();

  get size(): number {
    return this.#byId.size;
  }

  get(runId: number): Active | undefined {
    return this.#byId.get(runId);
  }

  values(): IterableIterator<Active> {
    return this.#byId.values();
  }

  add(a: Active): void {
    this.#byId.set(a.run.id, a);
    this.#byJob.add(a.run.jobId, a.run.id);
  }

  /** Forgets a run; false when it was not here. */
  delete(a: Active): boolean {
    const { run } = a;
    if (!this.#byId.delete(run.id)) return false;
    this.#byJob.delete(run.jobId, run.id);
    return true;
  }

  /** Runs of the job marked running here. */
  countOf(jobId: number): number {
    return this.#byJob.count(jobId);
  }

  /** Runs of the job marked running here, oldest first. */
  ofJob(jobId: number): Active[] {
    return this.#byJob.of(jobId).map((id) => this.#byId.get(id)!);
  }

  /** Whether a run is held here, marked running or waiting for its job. */
  has(runId: number): boolean {
    return this.#byId.has(runId) || this.waiting.has(runId);
  }

  ids(): number[] {
    const ids = [...this.#byId.keys()];
    ids.push(...this.waiting.ids());
    return ids;
  }
}
