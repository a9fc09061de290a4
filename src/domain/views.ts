// Database rows to the API's shapes: times as RFC 3339 UTC, durations as Go-style strings.
import { formatDuration } from "../schedule/duration.ts";
import type { JobRow } from "../store/jobs.ts";
import type { RunRow } from "../store/runs.ts";
import { iso } from "./ids.ts";
import type { NotifyRule, RetryPolicy } from "./schemas.ts";

export type JobStatus = "scheduled" | "paused" | "manual" | "finished";

export function jobView(r: JobRow) {
  const status: JobStatus = !r.enabled ? "paused" : r.nextFireAt != null ? "scheduled" : r.scheduleKind === "manual" ? "manual" : "finished";
  return {
    id: r.id,
    namespace: r.namespace,
    name: r.name,
    schedule: r.schedule,
    scheduleKind: r.scheduleKind as string,
    dueTime: r.dueTime,
    timezone: r.timezone,
    repeats: r.repeats,
    ttl: r.ttl,
    startAt: iso(r.startAt),
    endAt: iso(r.endAt),
    enabled: r.enabled,
    status,
    target: { [r.targetKind]: r.target as Record<string, unknown> },
    timeout: r.timeoutMs == null ? null : formatDuration(r.timeoutMs),
    retry: r.retry as RetryPolicy | null,
    overlap: r.overlap as string,
    maxConcurrency: r.maxConcurrency,
    broadcast: r.broadcast,
    misfire: r.misfire as string,
    payload: r.payload ?? null,
    memo: r.memo,
    labels: (r.labels as Record<string, string> | null) ?? {},
    notify: (r.notify as NotifyRule[] | null) ?? [],
    /** The fields a compat facade keeps for a job it made (which API, and the vendor's own fields). */
    compat: r.compat as Record<string, unknown> | null,
    nextFireAt: iso(r.nextFireAt),
    firedCount: r.firedCount,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}
export type JobView = ReturnType<typeof jobView>;

export function runView(r: RunRow) {
  return {
    id: r.id,
    namespace: r.namespace,
    jobName: r.jobName,
    scheduledAt: iso(r.scheduledAt),
    dueAt: iso(r.dueAt),
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
    status: r.status as string,
    attempt: r.attempt,
    trigger: r.trigger as string,
    webhookId: String(r.key ?? r.id),
    nodeId: r.nodeId,
    /** The node that started it (null while it has not started, or when it ended without starting). */
    node: r.startedAt !== null ? r.nodeId : null,
    result: r.result as Record<string, unknown> | null,
    error: r.error,
    outputTail: r.outputTail,
    killRequestedAt: iso(r.killRequestedAt),
    params: paramsView(r.params),
    /** A broadcast job's run: the node it is for (null for any other run). */
    forNode: r.forNode === "" ? null : r.forNode,
    /** Why it waits in the queue: no live node can run its target (set by the queries, not stored). */
    waiting: undefined as string | undefined,
  };
}
export type RunView = ReturnType<typeof runView>;

/** A run's params as shown: the variables' values are sealed (SECRET in their place). */
function paramsView(stored: unknown): { env?: Record<string, string>; args?: string[] } | null {
  const p = stored as { env?: Record<string, string>; args?: string[]; sealed?: string } | null;
  if (!p) return null;
  const { sealed: _, ...shown } = p;
  return shown;
}
