// Calling a run's executor: the request it gets, and the outcome of a run that cannot execute here (its
// secret values could not be opened, its kind is turned off, its target is refused by this node's config).
import type { Config } from "../config.ts";
import type { Target } from "../domain/schemas.ts";
import { checkTarget, withParams } from "../domain/targets.ts";
import { errorText, type ExecRequest, type Executors, type Outcome, type RunOutput } from "../executors/types.ts";
import { egressPolicy } from "../net/egress.ts";
import type { Claimed, OutputOptions, Recheck } from "./types.ts";

/**
 * What the scheduler takes from the [executors] config: process output kept per run, the kill grace, and
 * the check of process, script and container targets against the config when they run.
 */
export function processOptions(cfg: Pick<Config, "executors" | "egress">): { output: OutputOptions; killGrace: number; recheck: Recheck } {
  const p = cfg.executors.process;
  return { output: { maxLogBytes: p.maxLogBytes, tailLines: p.tailLines }, killGrace: p.killGrace, recheck: targetRecheck(cfg) };
}


/**
 * Checks a process, script or container target against this node's config again when it runs: a job
 * written before the config was tightened (an allowlist added, inheritEnv turned off) fails with the reason
 * instead of running.
 */
export function targetRecheck(cfg: Pick<Config, "executors" | "egress">): Recheck {
  const policy = egressPolicy(cfg.egress);
  return (kind, target, ns) => {
    try {
      checkTarget(cfg.executors, { [kind]: target } as Target, policy, ns);
      return null;
    } catch (e) {
      return `refused by this node's config: ${errorText(e)}`;
    }
  };
}

/** A run whose kind of executor this node does not have (process jobs turned off in its config). */
const disabled = (kind: string): Outcome => ({ status: "failed", error: `${kind} jobs are turned off on this node ([executors.process] enabled = false)` });

const failed = (error: string): Promise<Outcome> => Promise.resolve({ status: "failed", error });

/** Executes a run; never rejects (an executor's error is a failed outcome). */
export function execute(
  run: Claimed,
  executors: Executors,
  recheck: Recheck | undefined,
  output: RunOutput | null,
  signal: AbortSignal,
  spawned?: ExecRequest["spawned"],
): Promise<Outcome> {
  if (run.job.unopened) return failed(run.job.unopened);
  const kind = run.job.targetKind;
  const executor = executors[kind];
  if (!executor) return Promise.resolve(disabled(kind));
  const request = requestOf(run);
  if (output) request.output = output;
  if (spawned) request.spawned = spawned;
  if (recheck && kind !== "http" && kind !== "tcp") {
    const refused = recheck(kind, request.target, run.namespace);
    if (refused) return failed(refused);
  }
  return executor
    .execute(request, signal)
    .catch((e) => ({ status: "failed" as const, error: `executor error: ${errorText(e)}`, result: undefined, retryAfterMs: undefined }));
}

function requestOf(run: Claimed): ExecRequest {
  return {
    runId: run.id,
    key: run.key,
    namespace: run.namespace,
    jobName: run.jobName,
    scheduledAt: run.scheduledAt,
    attempt: run.attempt,
    target: withParams(run.job.targetKind, run.job.target, run.params),
    payload: payloadOf(run),
  };
}

/** The job's payload; for an HTTP step with no body or payload of its own, its parents' results. */
function payloadOf(run: Claimed): unknown {
  const upstream = run.params?.upstream;
  if (!upstream || run.job.payload != null || run.job.targetKind !== "http") return run.job.payload;
  return (run.job.target as { body?: string }).body === undefined ? { upstream } : run.job.payload;
}
