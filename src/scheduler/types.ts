// The shapes the scheduler's parts share: its config, a claimed run and what executing it needs.
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { SecretBox } from "../domain/secrets.ts";
import type { Executors as RunExecutors } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { Egress } from "../net/egress.ts";
import type { Store } from "../store/client.ts";
import type { NotifyRule, RetryPolicy, StoredRunParams, Target as JobTarget, TargetKind } from "../domain/schemas.ts";
import type { NotifySettings } from "../domain/notify.ts";
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
  /** Runs on every node, each its own run: overlap holds per node. */
  broadcast?: boolean;
  /** Deliveries to store with the run's end (a facade's completion callback), by kind. */
  onEnd: string[] | null;
  /** Why the job's secret values could not be opened (its runs fail with it rather than run without them). */
  unopened?: string;
  /** The job's own notifications (its namespace's are added when a run ends). */
  notify?: NotifyRule[] | null;
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
  /** Extra input given by the trigger that queued this run, or by its workflow (kept by its retries). */
  params?: StoredRunParams | null;
  /** A workflow step's run: its instance and step (0 and '' otherwise). */
  instanceId?: number;
  stepId?: string;
  cancelled?: boolean;
  /** One of several missed slots run by misfire `all`: waits for the job's earlier run, never skipped. */
  catchUp?: boolean;
  /** It waited for an earlier run of its job, as the job's policy says (its start is late on purpose). */
  waitedForTurn?: boolean;
}

/**
 * A job's validated target is what its executor reads, kind by kind: the executors declare their own target
 * types, and this fails to compile when the job schemas stop satisfying them.
 */
export type TargetsFit = Fits<JobTarget, ExecutorTarget>;
type Fits<A extends B, B> = A;

/** Why this node's config refuses a target now, or null. */
export type Recheck = (kind: TargetKind, target: unknown, namespace: string) => string | null;

/** Process output kept per run. */
export interface OutputOptions {
  /** Bytes of lines stored per run; past it, lines are dropped (and the cap noted), the process goes on. */
  maxLogBytes: number;
  /** Last lines kept on the run record. */
  tailLines: number;
}

/** What the scheduler is built from. */
export interface SchedulerDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  executors: RunExecutors;
  config: SchedulerConfig;
  version: string;
  /** Process output kept per run (executors.process max_log_bytes, tail_lines). */
  output?: OutputOptions;
  /** How long an aborted process gets to exit before SIGKILL (executors.process kill_grace). */
  killGrace?: number;
  /** Checks process, script and container targets against this node's config before each run. */
  recheck?: Recheck;
  /** Opens jobs' and runs' sealed secret values for their executors ([secrets] key). */
  secrets: SecretBox;
  /** Resolves host names for the per-host limit: the executors' own Egress, so they share its cache. */
  egress?: Egress;
  /** [limits]: max_in_flight per namespace (none: no limit per namespace). */
  limits?: Pick<Config["limits"], "maxInFlight" | "namespaces">;
  /** Told when run ends stored deliveries to send (the outbox's deliverer). */
  deliveries?: { wake(): void };
  /** Told when ends stored notifications to send (the node's notifier). */
  notifications?: { wake(): void };
  /** Which run ends get a log line ([log] runs). */
  runLog?: "all" | "failures" | "none";
  /** [notify]: the namespaces' notifications and how often one job's failures may send one. */
  notify?: NotifySettings;
  /** The node's metrics: run ends and claim cycles are counted there. */
  metrics?: Pick<Metrics, "runEnded" | "claimCycle" | "runsLost">;
}

