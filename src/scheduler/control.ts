// What the domain verbs may ask of the local scheduler: nothing they do depends on it for correctness
// (the database is the truth); these only make changes take effect without waiting for the next poll.
import type { RunEvent } from "./events.ts";

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
   * Other nodes see the stored request at their next poll. True when the run was here.
   */
  kill(runId: number): boolean;
  /**
   * A run ended outside any node's runner (a queued run killed by request): tells this node's listeners,
   * as `run:finished`, so they see every end (the Juice facade's completion callbacks).
   */
  ended(event: RunEvent): void;
}

export const noScheduler: SchedulerControl = { jobChanged() {}, wake() {}, kill: () => false, ended() {} };
