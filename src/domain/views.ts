// Database rows to the API's shapes: times as RFC 3339 UTC, durations as Go-style strings.
import type { Row } from "@libsql/client";
import { formatDuration } from "../schedule/duration.ts";
import { json, num } from "../store/sql.ts";
import { iso } from "./ids.ts";
import type { RetryPolicy } from "./schemas.ts";

export type JobStatus = "scheduled" | "paused" | "manual" | "finished";

export function jobView(r: Row) {
  const enabled = Boolean(r.enabled);
  const kind = String(r.schedule_kind);
  const nextFireAt = num(r.next_fire_at);
  const status: JobStatus = !enabled ? "paused" : nextFireAt != null ? "scheduled" : kind === "manual" ? "manual" : "finished";
  const target = json<Record<string, unknown>>(r.target);
  return {
    id: Number(r.id),
    namespace: String(r.namespace),
    name: String(r.name),
    schedule: (r.schedule as string | null) ?? null,
    scheduleKind: kind,
    dueTime: (r.due_time as string | null) ?? null,
    timezone: String(r.timezone),
    repeats: num(r.repeats),
    ttl: (r.ttl as string | null) ?? null,
    startAt: iso(num(r.start_at)),
    endAt: iso(num(r.end_at)),
    enabled,
    status,
    target: { [String(r.target_kind)]: target },
    timeout: r.timeout_ms == null ? null : formatDuration(Number(r.timeout_ms)),
    retry: json<RetryPolicy>(r.retry),
    overlap: String(r.overlap),
    maxConcurrency: num(r.max_concurrency),
    misfire: String(r.misfire),
    payload: r.payload == null ? null : json<unknown>(r.payload),
    memo: (r.memo as string | null) ?? null,
    labels: json<Record<string, string>>(r.labels) ?? {},
    /** The fields a compat facade keeps for a job it made (which API, and the vendor's own fields). */
    compat: json<Record<string, unknown>>(r.compat),
    nextFireAt: iso(nextFireAt),
    firedCount: Number(r.fired_count),
    version: Number(r.version),
    createdAt: iso(num(r.created_at)),
    updatedAt: iso(num(r.updated_at)),
  };
}
export type JobView = ReturnType<typeof jobView>;

export function runView(r: Row) {
  return {
    id: Number(r.id),
    namespace: String(r.namespace),
    jobName: String(r.job_name),
    scheduledAt: iso(num(r.scheduled_at)),
    dueAt: iso(num(r.due_at)),
    startedAt: iso(num(r.started_at)),
    endedAt: iso(num(r.ended_at)),
    status: String(r.status),
    attempt: Number(r.attempt),
    trigger: String(r.trigger),
    webhookId: String(r.key ?? r.id),
    nodeId: (r.node_id as string | null) ?? null,
    result: json<Record<string, unknown>>(r.result),
    error: (r.error as string | null) ?? null,
    outputTail: (r.output_tail as string | null) ?? null,
    killRequestedAt: iso(num(r.kill_requested_at)),
    params: paramsView(r.params),
  };
}
export type RunView = ReturnType<typeof runView>;

/** A run's params as shown: the variables' values are sealed (SECRET in their place). */
function paramsView(stored: unknown): { env?: Record<string, string>; args?: string[] } | null {
  const p = json<{ env?: Record<string, string>; args?: string[]; sealed?: string }>(stored);
  if (!p) return null;
  const { sealed: _, ...shown } = p;
  return shown;
}
