// Overlap "queue" (and "allow" past maxConcurrency): runs waiting for their job's earlier run, in order,
// at most MAX_WAITING per job.
import type { Claimed } from "./claim.ts";

export const MAX_WAITING = 100;

export class JobQueues {
  #queues = new Map<number, Claimed[]>();

  /** Queues a run behind its job's earlier ones; false when MAX_WAITING already wait (unless `always`). */
  push(run: Claimed, always = false): boolean {
    const q = this.#queues.get(run.jobId);
    if (!q) this.#queues.set(run.jobId, [run]);
    else if (q.length >= MAX_WAITING && !always) return false;
    else q.push(run);
    return true;
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
