// Notifications, as rules: which events a run's or an instance's end is, which notifications that sends
// (the job's or workflow's own, and its namespace's from [notify.namespaces]), and the document each one is.
// Pure: the scheduler writes what these decide with the end, and sends it (scheduler/notifier.ts).
import type { NotifyEvent } from "../config/notify.ts";
import type { NewNotification } from "../store/notifications.ts";
import type { NotifyRule } from "./schemas.ts";

/** What the scheduler and the domain take of [notify]: each namespace's notification, besides a job's or workflow's own. */
export interface NotifySettings {
  namespaces: Readonly<Record<string, NotifyRule>>;
}

/** Events held to [notify] min_interval per job or workflow (a recovery is always sent). */
export const RATE_LIMITED: ReadonlySet<string> = new Set<NotifyEvent>(["failure", "timeout", "retries_exhausted", "misfire", "killed"]);

/** How a run ended, as far as notifications care. */
export interface EndFacts {
  status: string;
  /** A retry of it is queued. */
  retried: boolean;
  /** Its job retries failed runs (retry.times > 0). */
  retries: boolean;
}

/**
 * The events a run's end is (`recovered` is decided with the stored state: the job's last end failed):
 * failed: failure; timed out: timeout; either with no retry to come, from a job that retries: also
 * retries_exhausted; killed: killed.
 */
export function eventsOfEnd(end: EndFacts): NotifyEvent[] {
  const events: NotifyEvent[] = [];
  if (end.status === "failed") events.push("failure");
  if (end.status === "timed_out") events.push("timeout");
  if ((end.status === "failed" || end.status === "timed_out") && !end.retried && end.retries) events.push("retries_exhausted");
  if (end.status === "killed") events.push("killed");
  return events;
}

/** Whether an end counts as a failure for `recovered` (the next success after it is a recovery). */
export const failing = (status: string) => status === "failed" || status === "timed_out" || status === "lost";

/** The notifications that apply: the job's or workflow's own, then its namespace's. */
export function rulesOf(own: readonly NotifyRule[] | null | undefined, namespace: NotifyRule | undefined): NotifyRule[] {
  return [...(own ?? []), ...(namespace ? [namespace] : [])];
}


/** Whose notifications they are (one min_interval each): a job's, or a workflow's. */
export const jobSubject = (id: number) => `job:${id}`;
export const workflowSubject = (id: number) => `workflow:${id}`;

/** What a notification tells of, besides its document: its namespace and subject, the run or instance. */
export type NoticeRefs = Pick<NewNotification, "namespace" | "subject" | "runId" | "fence" | "instanceId">;

/** The notifications of `events` under `rules`: one per rule that wants the event, its `data` in the document. */
export function notices(rules: readonly NotifyRule[], events: readonly string[], document: (event: string) => Record<string, unknown>, refs: NoticeRefs): NewNotification[] {
  const out: NewNotification[] = [];
  for (const event of events) {
    for (const rule of rules) {
      if (!(rule.on as readonly string[]).includes(event)) continue;
      const doc = rule.data ? { ...document(event), data: rule.data } : document(event);
      out.push({ ...refs, event, url: rule.http.url, headers: rule.http.headers ?? null, document: doc });
    }
  }
  return out;
}

/** The document of a run's notification (`suppressed` is added when it is sent). */
export function runDocument(event: string, run: { namespace: string; jobName: string; id: number }, status: string, error: string | null, at: number): Record<string, unknown> {
  return { event, namespace: run.namespace, job: run.jobName, run: run.id, status, error, at: new Date(at).toISOString() };
}

/** The document of a workflow instance's notification. */
export function instanceDocument(event: string, inst: { namespace: string; workflow: string; id: number }, status: string, error: string | null, at: number): Record<string, unknown> {
  return { event, namespace: inst.namespace, workflow: inst.workflow, instance: inst.id, status, error, at: new Date(at).toISOString() };
}
