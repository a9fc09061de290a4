// Killing a run. The request is stored first (durable before acknowledged), then carried out where the
// run is: a queued run ends `killed` at once; a running one is aborted by its node (this one at once,
// another at its next poll, a dead one's by recovery), which ends it `killed`.
import type { TimerHandle } from "../clock.ts";
import type { Notices } from "../store/notifications.ts";
import { killFacts, requestKill, runById } from "../store/runs.ts";
import { jobSubject, notices, rulesOf, runDocument } from "./notify.ts";
import type { NotifyRule } from "./schemas.ts";
import type { DomainDeps } from "./deps.ts";
import { conflict, notFound } from "./errors.ts";
import { audit } from "./access.ts";
import { FINISHED_STATUSES, mayChangeRun } from "./runs.ts";
import { type RunView, runView } from "./views.ts";

export interface KillResult {
  run: RunView;
  /** Whether the run had ended when the call returned (else its node is still stopping it). */
  ended: boolean;
}

/**
 * Kills a run and waits for it to end, up to a little longer than a process's kill grace (10 s at most).
 * Idempotent: a run already killed is returned as it is; one that ended otherwise is a conflict.
 */
export async function killRun(deps: DomainDeps, id: number): Promise<KillResult> {
  await mayChangeRun(deps, id);
  const waitMs = Math.min(deps.config.executors.process.killGrace + 1000, 10_000);
  const now = deps.clock.now();
  // A queued run ends here, by this write: its `killed` notifications go with it (a running one's, with its end).
  const notices = await queuedKillNotices(deps, id, now);
  const asked = await requestKill(deps.store, id, now, notices);
  if (notices && asked && "ended" in asked) deps.scheduler.notified?.();
  if (asked) audit(deps, "run.kill", { run: id });
  if (asked && "ended" in asked) {
    const r = asked.ended;
    deps.scheduler.kill(id);
    deps.scheduler.ended({ runId: id, jobId: r.jobId, namespace: r.namespace, jobName: r.jobName, scheduledAt: r.scheduledAt, attempt: r.attempt, trigger: r.trigger, status: "killed" });
    return { run: runView(r), ended: true };
  }
  if (!asked) {
    const row = await runById(deps.store, id);
    if (!row) throw notFound(`run ${id} not found`);
    if (row.status === "killed") return { run: runView(row), ended: true };
    throw conflict(`run ${id} already ended (${row.status}); only a queued or running run can be killed`);
  }
  const here = deps.scheduler.kill(id);
  if (here) {
    // Runs on this node: its end is awaited, not polled for.
    let timer: TimerHandle | undefined;
    await Promise.race([here, new Promise<void>((r) => (timer = deps.clock.setTimer(waitMs, r)))]);
    if (timer) deps.clock.clearTimer(timer);
  }
  // Runs on another node (which sees the request at its next poll): its end is read from the database.
  const deadline = Date.now() + waitMs;
  for (;;) {
    const row = await runById(deps.store, id);
    if (!row) throw notFound(`run ${id} not found`);
    if (FINISHED_STATUSES.has(row.status)) return { run: runView(row), ended: true };
    if (here || Date.now() >= deadline) return { run: runView(row), ended: false };
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The `killed` notifications of run `id` if it is queued and its job (or namespace) asks for them. */
async function queuedKillNotices(deps: DomainDeps, id: number, now: number): Promise<Notices | undefined> {
  const run = await killFacts(deps.store, id);
  if (!run || run.status !== "queued") return undefined;
  const rules = rulesOf(run.notify as NotifyRule[] | null, deps.config.notify.namespaces[run.namespace]);
  const document = (event: string) => runDocument(event, { namespace: run.namespace, jobName: run.jobName, id }, "killed", "killed by request before it started", now);
  const items = notices(rules, ["killed"], document, { namespace: run.namespace, subject: jobSubject(run.jobId), runId: null, fence: null, instanceId: null });
  return items.length ? { items, failed: [], succeeded: [] } : undefined;
}
