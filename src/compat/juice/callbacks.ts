// Juice's completion callbacks: when a Juice task's run ends, its result is POSTed to the task's
// callbackUrl. Sent by the node that finished the run, once, through the HTTP executor; not stored, so a
// failed or interrupted delivery is lost.
import type { Executors } from "../../executors/types.ts";
import type { RouteDeps } from "../../api/deps.ts";
import { FULL_ACCESS } from "../../domain/access.ts";
import { DomainError } from "../../domain/errors.ts";
import { getJobById, jobSecrets } from "../../domain/jobs.ts";
import type { RunEvent } from "../../domain/ports.ts";
import { getRun } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { CALLBACK_SECRET } from "./request.ts";
import { juiceFields, messageOf, statusOf } from "./view.ts";

/** Juice's own HTTP client gives a callback 20 s (connect, read and write each). */
const CALLBACK_TIMEOUT_MS = 20_000;

export type CallbackDeps = RouteDeps & { executors: Pick<Executors, "http"> };

/** A callback as an HTTP request. */
export interface CallbackRequest {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
}

/**
 * The callback of a task whose run ended, as Juice sends it: POST `{taskId, result, message}` (TaskResult,
 * `result` by name) with the tenant in X-Tenant-ID. `url` is the callbackUrl as the task shows it: a
 * password in it is the SECRET placeholder, and the sender puts in the sealed URL (CALLBACK_SECRET). Null
 * when the task has no callbackUrl.
 */
export function callbackRequest(job: JobView, run: RunView): CallbackRequest | null {
  const { callbackUrl } = juiceFields(job);
  if (!callbackUrl) return null;
  const body = JSON.stringify({ taskId: job.id, result: statusOf(run)[1], message: messageOf(job, run) });
  return { url: callbackUrl, method: "POST", headers: { "X-Tenant-ID": job.namespace, "content-type": "application/json; charset=utf-8" }, body };
}

/**
 * POSTs each finished Juice task's result to its callbackUrl, as Juice does: body `{taskId, result, message}`
 * (TaskResult, `result` by name), header X-Tenant-ID. Sent by the node that finished the run, once, by the
 * HTTP executor; a failure is logged, not retried. Returns the unsubscribe function.
 */
export function juiceHooks(deps: CallbackDeps): () => void {
  return deps.scheduler.events.on("run:finished", (ev) => {
    if (!ev.jobName.startsWith("juice-")) return; // every Juice task's native name; most runs stop here
    void sendCallback(deps, ev).catch((e) => deps.log.warn("juice callback failed", { run: ev.runId, error: e instanceof Error ? e.message : String(e) }));
  });
}

async function sendCallback(app: CallbackDeps, ev: RunEvent): Promise<void> {
  const deps = { ...app, access: FULL_ACCESS }; // tock's own work, not a request's
  let job: JobView;
  try {
    job = await getJobById(deps, ev.jobId);
  } catch (e) {
    if (e instanceof DomainError && e.code === "not_found") return; // removed meanwhile
    throw e;
  }
  const { callbackUrl: shown } = juiceFields(job);
  if (!shown) return;
  const callbackUrl = (await jobSecrets(deps, job.id))[CALLBACK_SECRET] ?? shown;
  // The event's status is the run's end even if recording it failed.
  const run = { ...(await getRun(deps, ev.runId)), status: ev.status };
  const target = { ...callbackRequest(job, run)!, url: callbackUrl };
  const request = { runId: run.id, key: run.webhookId, namespace: job.namespace, jobName: job.name, scheduledAt: ev.scheduledAt, attempt: ev.attempt, target, payload: null };
  const outcome = await deps.executors.http.execute(request, AbortSignal.timeout(CALLBACK_TIMEOUT_MS));
  if (outcome.status === "failed") deps.log.warn("juice callback failed", { run: run.id, taskId: job.id, url: shown, error: outcome.error });
}
