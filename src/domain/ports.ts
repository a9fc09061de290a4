// What the domain needs of the scheduler, declared here and implemented there, so that the domain imports
// no scheduler code. Nothing a verb does depends on these for correctness (the database is the truth):
// they make changes take effect without waiting for the next poll, and let readers wake at once.

/** One run's change of state, as the local scheduler reports it. */
export interface RunEvent {
  runId: number;
  jobId: number;
  namespace: string;
  jobName: string;
  scheduledAt: number;
  attempt: number;
  trigger: string;
  status: string;
}

/** The run events a verb may wait on: a line of output committed (up to `seq`), a run finished. */
export interface RunEvents {
  on(name: "run:log", fn: (event: { runId: number; seq: number }) => void): () => void;
  on(name: "run:finished", fn: (event: RunEvent) => void): () => void;
}

export interface SchedulerControl {
  /**
   * A job was changed: claim now if it is due soon. `dropped` (default): the verb deleted its queued runs
   * (replace, pause, remove), so this node drops those it holds and does not start its marked ones.
   */
  jobChanged(jobId: number, nextFireAt: number | null, dropped?: boolean): void;
  /** New due work may exist (a trigger, a job due soon): claim now rather than at the next poll. */
  wake(): void;
  /**
   * A kill was requested (and stored): aborts the run if it runs on this node, forgets it if held here.
   * Other nodes see the stored request at their next poll. When the run runs here, the answer resolves once
   * its end is recorded; null when it does not run here.
   */
  kill(runId: number): Promise<void> | null;
  /**
   * A run ended outside any node's runner (a queued run killed by request): tells this node's listeners,
   * as `run:finished`, so they see every end.
   */
  ended(event: RunEvent): void;
  /** Notifications were stored (a verb ended an instance): send them now rather than at the next poll. */
  notified?(): void;
}

export const noScheduler: SchedulerControl = { jobChanged() {}, wake() {}, kill: () => null, ended() {} };
