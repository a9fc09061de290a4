// The runs this node has claimed and holds until they are handed to the runner: a min-heap by due time,
// indexed by id (lease renewal, one copy per run) and by job (a changed job's runs are dropped).
import type { Claimed } from "./types.ts";
import { Groups } from "./groups.ts";
import { MinHeap } from "./heap.ts";

export class HeldRuns {
  #heap = new MinHeap<Claimed>((a, b) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.id < b.id));
  #byId = new Map<number, Claimed>();
  #byJob = new Groups<number, Claimed>();

  /** Entries in the heap (dropped ones included until they reach the top). */
  get size(): number {
    return this.#heap.size;
  }

  /** The earliest entry; it may have been dropped (`cancelled`). */
  peek(): Claimed | undefined {
    return this.#heap.peek();
  }

  /** Runs held (dropped ones not counted). */
  get count(): number {
    return this.#byId.size;
  }

  ids(): number[] {
    return [...this.#byId.keys()];
  }

  /**
   * Holds claimed runs. A run claimed again while still held (its lease lapsed during an outage) keeps one
   * copy, with the new fence; one held `elsewhere` (the runner) is left there. Returns how many were added.
   */
  add(runs: Claimed[], elsewhere: (id: number) => boolean): number {
    let added = 0;
    for (const run of runs) {
      const held = this.#byId.get(run.id);
      if (held) held.fence = run.fence;
      if (held || elsewhere(run.id)) continue;
      this.#heap.push(run);
      this.#byId.set(run.id, run);
      this.#byJob.add(run.jobId, run);
      added++;
    }
    return added;
  }

  /** Takes the earliest entry out; undefined for one that was dropped. */
  take(): Claimed | undefined {
    const run = this.#heap.pop();
    if (!run || run.cancelled) return undefined;
    this.#byId.delete(run.id);
    this.#byJob.delete(run.jobId, run);
    return run;
  }

  /** Drops a job's runs (the verb deleted their rows); they leave the heap when they reach its top. */
  dropJob(jobId: number): void {
    for (const run of this.#byJob.take(jobId)) {
      run.cancelled = true;
      this.#byId.delete(run.id);
    }
  }

  /** Drops one run (killed before it started); false when it is not held. */
  drop(runId: number): boolean {
    const run = this.#byId.get(runId);
    if (!run) return false;
    run.cancelled = true;
    this.#byId.delete(runId);
    this.#byJob.delete(run.jobId, run);
    return true;
  }

  clear(): void {
    this.#heap.drain();
    this.#byId.clear();
    this.#byJob.clear();
  }
}
