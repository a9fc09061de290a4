// The shapes the scheduler's parts share: its config, a claimed run and what executing it needs.
import type { Config } from "../config.ts";
import type { RetryPolicy, RunParams, Target as JobTarget, TargetKind } from "../domain/schemas.ts";
import type { Target as ExecutorTarget } from "../executors/types.ts";

export type SchedulerConfig = Config["scheduler"];

export type Overlap = "allow" | "forbid" | "replace" | "queue";

/** How a run ended. */
export type Final = "succeeded" | "failed" | "timed_out" | "killed" | "skipped";

/** What executing a run needs to know of its job, captured at claim time. */
export interface JobExec {
  targetKind: TargetKind;
  /** The job's target body (its kind's), secret values in place. */
  target: unknown;
  timeoutMs: number | null;
  retry: RetryPolicy | null;
  overlap: Overlap;
  maxConcurrency: number | null;
  payload: unknown;
  recurring: boolean;
  /**
   * Where the run goes, for the per-host concurrency limit: an address in its canonical form and the port,
   * so that every spelling of one address shares the limit ("local" for processes).
   */
  host: string;
  /** A host name and port: the runner keys the run on the address the name resolves to instead. */
  resolve?: { name: string; port: number };
  /** The job definition's updated_at: a retry is queued only while the job is still this definition. */
  updatedAt: number;
  /** Deliveries to store with the run's end (a facade's completion callback), by kind. */
  onEnd: string[] | null;
  /** Why the job's secret values could not be opened (its runs fail with it rather than run without them). */
  unopened?: string;
}

/** A run this node holds: queued in the timer heap until due, then running. */
export interface Claimed {
  id: number;
  jobId: number;
  namespace: string;
  jobName: string;
  scheduledAt: number;
  dueAt: number;
  trigger: string;
  attempt: number;
  key: string;
  fence: number;
  job: JobExec;
  /** Extra input given by the trigger that queued this run (kept by its retries). */
  params?: RunParams | null;
  cancelled?: boolean;
  /** One of several missed slots run by misfire `all`: waits for the job's earlier run, never skipped. */
  catchUp?: boolean;
}

/**
 * A job's validated target is what its executor reads, kind by kind: the executors declare their own target
 * types, and this fails to compile when the job schemas stop satisfying them.
 */
export type TargetsFit = Fits<JobTarget, ExecutorTarget>;
type Fits<A extends B, B> = A;
