// Why a run waits in the queue, or a job's due slot is not taken: no live node can run its target (mixed
// nodes each claim only what they can run, so a target none of them can run waits for one that can).
import { liveOffers } from "../store/nodes.ts";
import type { DomainDeps } from "./deps.ts";

/** A job's target as the store keeps it: its kind and body. */
export interface TargetOf {
  targetKind: string;
  target: unknown;
}

/** What a target needs of a node, as executors offer it: its kind, or "script:<language>". */
export function needOf(job: TargetOf): string {
  return job.targetKind === "script" ? `script:${(job.target as { language?: string } | null)?.language}` : job.targetKind;
}

function reason(need: string, nodes: number): string {
  if (nodes === 0) return "no node is running (none has a heartbeat within [scheduler] node_timeout)";
  if (need.startsWith("script:")) {
    const language = need.slice("script:".length);
    return `no live node can run script jobs in "${language}": each needs [executors.process] enabled, "${language}" in [executors.script.interpreters] and that program present`;
  }
  if (need === "container") return "no live node can run container jobs: each needs [executors.process] enabled and [executors.container] cli present";
  return `no live node can run ${need} jobs: each needs [executors.process] enabled`;
}

/** Why no live node can run `job`'s target now, or null when one can. */
export async function waitingReason(deps: Pick<DomainDeps, "store" | "clock" | "config">, job: TargetOf): Promise<string | null> {
  const offers = await liveOffers(deps.store, deps.config.scheduler.nodeTimeout);
  const need = needOf(job);
  return offers.some((o) => o.includes(need)) ? null : reason(need, offers.length);
}
