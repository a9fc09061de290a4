// The notifications a batch of run ends stores with them ([notify] and each job's `notify`), decided by the
// domain's rules (domain/notify.ts) and written by the store in the same transaction as the ends.
import { eventsOfEnd, failing, notices, rulesOf, runDocument, wants } from "../domain/notify.ts";
import { type NewNotification, notificationStatements, type Stmt } from "../store/notifications.ts";
import type { Claimed, NotifyConfig } from "./types.ts";

/** What a run's end is, for its notifications. */
export interface NoticeEnd {
  run: Claimed;
  status: string;
  error: string | null;
  endedAt: number;
  /** The retry queued for it, if any. */
  retry: unknown;
}

/** The statements that store the notifications of `ends` (none when no job among them notifies). */
export function notificationsOfEnds(ends: readonly NoticeEnd[], config: NotifyConfig, now: number): Stmt[] {
  const items: NewNotification[] = [];
  const failed: string[] = [];
  const succeeded: string[] = [];
  for (const e of ends) {
    const { run } = e;
    const namespaceRule = config.namespaces[run.namespace];
    if (!run.job.notify?.length && !namespaceRule) continue; // most runs: nothing to look at
    const rules = rulesOf(run.job.notify, namespaceRule);
    if (rules.length === 0) continue;
    const subject = `job:${run.jobId}`;
    const base = { namespace: run.namespace, subject, runId: run.id, fence: run.fence, instanceId: null };
    const events = eventsOfEnd({ status: e.status, retried: e.retry != null, retries: (run.job.retry?.times ?? 0) > 0 });
    const document = (event: string) => runDocument(event, { namespace: run.namespace, jobName: run.jobName, id: run.id }, e.status, e.error, e.endedAt);
    for (const n of notices(rules, events, document)) items.push({ ...base, ...n });
    if (e.status === "succeeded") {
      succeeded.push(subject);
      if (wants(rules, "recovered")) for (const n of notices(rules, ["recovered"], document)) items.push({ ...base, ...n, recovery: true });
    } else if (failing(e.status)) failed.push(subject);
  }
  return items.length || failed.length || succeeded.length ? notificationStatements(items, failed, succeeded, now) : [];
}
