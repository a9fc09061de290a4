// SchedulerX's shapes: the {code, success, message, requestId, data} envelope, JobConfigInfo and
// JobInstanceDetail, with dates as "yyyy-MM-dd HH:mm:ss" (UTC).
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { JobView, RunView } from "../../domain/views.ts";
import type { Spec } from "./spec.ts";

/** "yyyy-MM-dd HH:mm:ss" in UTC (SchedulerX's date strings). */
function plainDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** The envelope; `code` repeats the HTTP status (200 on success), and `data` is left out where the document has none. */
export function answer(c: Context, status: ContentfulStatusCode, message: string, data?: unknown): Response {
  const body: Record<string, unknown> = { code: status, success: status === 200, message, requestId: crypto.randomUUID().toUpperCase() };
  if (data !== undefined) body.data = data;
  return c.json(body, status);
}

/** GetJobInfo's data: JobConfigInfo (plus jobId and jobType, as the vendor's current API returns them). */
export function jobConfigInfo(job: JobView, s: Spec) {
  return {
    jobId: job.id,
    jobType: s.jobType,
    className: s.className,
    jarUrl: s.jarUrl,
    content: s.content,
    name: s.name,
    description: s.description,
    status: job.enabled ? 1 : 0,
    executeMode: s.executeMode,
    parameters: s.parameters,
    maxConcurrency: s.maxConcurrency,
    maxAttempt: s.maxAttempt,
    attemptInterval: s.attemptInterval,
    mapTaskXAttrs: s.mapTaskXAttrs,
    timeConfig: { timeType: s.timeType, timeExpression: s.timeExpression, calendar: s.calendar, dataOffset: s.dataOffset },
    jobMonitorInfo: { monitorConfig: s.monitorConfig, contactInfo: s.contactInfo },
  };
}

/** InstanceStatus: 1 waiting, 3 running, 4 success, 5 failed, 9 rejected. */
const STATUS: Record<string, number> = { queued: 1, running: 3, succeeded: 4, failed: 5, timed_out: 5, killed: 5, lost: 5, skipped: 9 };

/** TriggerType: 1 schedule, 3 api, 4 a user's manual run, 5 system retry. */
const TRIGGER: Record<string, number> = { schedule: 1, api: 3, manual: 4, retry: 5, recovery: 5 };

/** Who ran it (the vendor's "executor" is a user): the API for execute, a user for a native trigger, else the system. */
const EXECUTOR: Record<string, string> = { api: "openapi", manual: "user" };

const date = (iso: string | null) => (iso === null ? null : plainDateTime(Date.parse(iso)));

/** What the run produced: its error when it did not succeed, else the tail of its output. */
function resultOf(run: RunView): string | null {
  if (run.status === "queued" || run.status === "running") return null;
  return run.status === "succeeded" ? (run.outputTail ?? "") : (run.error ?? run.outputTail ?? run.status);
}

export function jobInstanceDetail(run: RunView, jobId: number, s: Spec) {
  const scheduled = Date.parse(run.scheduledAt!);
  return {
    instanceId: run.id,
    jobId,
    status: STATUS[run.status] ?? 5,
    startDate: date(run.startedAt),
    endDate: date(run.endedAt),
    scheduleDate: plainDateTime(scheduled),
    dataDate: plainDateTime(scheduled - s.dataOffset * 1000),
    executor: EXECUTOR[run.trigger] ?? "system",
    workAddr: run.nodeId,
    result: resultOf(run),
    progress: run.status === "queued" ? "waiting" : run.status === "running" ? "running" : "complete",
    timeType: s.timeType,
    triggerType: TRIGGER[run.trigger] ?? 1,
  };
}
