// Juice's completion callbacks: when a Juice task's run ends, its result is POSTed to the task's
// callbackUrl. A task with a callbackUrl asks for a delivery at each run's end (jobs.on_end): it is stored
// with the end, in the same transaction, and sent by the scheduler's outbox with retries, so neither a
// receiver that is down nor a node that dies loses it.
import type { RouteDeps } from "../../api/deps.ts";
import { FULL_ACCESS } from "../../domain/access.ts";
import { DomainError } from "../../domain/errors.ts";
import { jobSecrets } from "../../domain/jobs.ts";
import type { RenderDelivery } from "../../domain/deliveries.ts";
import { getRunWithJob } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { CALLBACK_SECRET } from "./request.ts";
import { juiceFields, messageOf, statusOf } from "./view.ts";

/** Juice's own HTTP client gives a callback 20 s (connect, read and write each). */
const CALLBACK_TIMEOUT_MS = 20_000;

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

/** The kind of delivery (jobs.on_end, table deliveries) that is a Juice task's completion callback. */
export const JUICE_CALLBACK = "juice.callback";

/**
 * Renders a stored Juice callback delivery when it is sent: the run and its task as they are now, the sealed
 * callbackUrl put in. Null (nothing to send) when the task was removed or no longer has a callbackUrl.
 */
export function juiceCallbacks(app: Pick<RouteDeps, "store" | "clock" | "log" | "config" | "scheduler" | "secrets">): RenderDelivery {
  const deps = { ...app, access: FULL_ACCESS }; // tock's own work, not a request's
  return async (delivery) => {
    let job: JobView;
    let run: RunView;
    try {
      ({ run, job } = await getRunWithJob(deps, delivery.runId));
    } catch (e) {
      if (e instanceof DomainError && e.code === "not_found") return null; // removed meanwhile
      throw e;
    }
    const request = callbackRequest(job, run);
    if (!request) return null;
    const url = (await jobSecrets(deps, job.id))[CALLBACK_SECRET] ?? request.url;
    return {
      url,
      headers: request.headers,
      body: request.body,
      label: "juice callback",
      shownUrl: request.url,
      run: { id: run.id, webhookId: run.webhookId, jobName: job.name, scheduledAt: Date.parse(run.scheduledAt!), attempt: run.attempt },
      timeoutMs: CALLBACK_TIMEOUT_MS,
    };
  };
}
