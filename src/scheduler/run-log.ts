// One structured log line per finished run, so that an operator sees what failed without asking the API:
// failures and timeouts at warn, every other end at info ([log] runs = "all") or debug ("failures"), none
// at all with "none".
import type { Logger } from "../log.ts";
import type { Claimed, Final } from "./types.ts";

export type RunLogMode = "all" | "failures" | "none";

const FAILURES: ReadonlySet<Final> = new Set(["failed", "timed_out"]);

/** Logs the end of `run` as `mode` says; `startedAt` null: it ended without starting. */
export function logRunEnd(log: Logger, mode: RunLogMode, run: Claimed, status: Final, error: string | null, startedAt: number | null, endedAt: number): void {
  if (mode === "none") return;
  const failure = FAILURES.has(status);
  // The common case costs nothing: a success not logged at this level builds no line.
  if (!failure && mode === "failures" && log.enabled?.("debug") === false) return;
  const fields = {
    namespace: run.namespace,
    job: run.jobName,
    run: run.id,
    trigger: run.trigger,
    attempt: run.attempt,
    status,
    durationMs: startedAt === null ? null : endedAt - startedAt,
    latenessMs: startedAt === null ? null : startedAt - run.dueAt,
    error,
  };
  if (failure) log.warn(status === "timed_out" ? "run timed out" : "run failed", fields);
  else if (mode === "all") log.info("run finished", fields);
  else log.debug("run finished", fields);
}
