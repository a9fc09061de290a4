// Runs waiting for their job's earlier run (overlap queue, allow past maxConcurrency, catch-up runs), in
// order; how many may wait is the overlap policy's decision (overlap.ts).
import type { Claimed } from "./types.ts";

export class JobQueues {
  #queues = new Map<number, Claimed[]>();

  /** Runs waiting, of every job (counted when asked: only stats and metrics ask). */
  get size(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Queues a run behind its job's earlier ones. */
  push(run: Claimed): void {
    const q = this.#queues.get(run.jobId);
    if (q) q.push(run);
    else this.#queues.set(run.jobId, [run]);
  }

  /** The job's next waiting run, if any. */
  shift(jobId: number): Claimed | undefined {
    const q = this.#queues.get(jobId);
    const next = q?.shift();
    if (q && q.length === 0) this.#queues.delete(jobId);
    return next;
  }

  waiting(jobId: number): number {
    return this.#queues.get(jobId)?.length ?? 0;
  }

  /** Drops a job's waiting runs (their rows were deleted). */
  drop(jobId: number): void {
    this.#queues.delete(jobId);
  }

  ids(): number[] {
    const ids: number[] = [];
    for (const q of this.#queues.values()) for (const r of q) ids.push(r.id);
    return ids;
  }

  has(runId: number): boolean {
    for (const q of this.#queues.values()) if (q.some((r) => r.id === runId)) return true;
    return false;
  }

  clear(): void {
    this.#queues.clear();
  }
}
