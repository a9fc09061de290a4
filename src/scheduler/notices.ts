// The notifications a batch of run ends stores with them ([notify] and each job's `notify`), decided by the
// domain's rules (domain/notify.ts) and written by the store in the same transaction as the ends.
import { eventsOfEnd, failing, jobSubject, notices, type NotifySettings, rulesOf, runDocument } from "../domain/notify.ts";
import type { Notices } from "../store/notifications.ts";
import type { Claimed } from "./types.ts";

/** What a run's end is, for its notifications. */
export interface NoticeEnd {
  run: Claimed;
  status: string;
  error: string | null;
  endedAt: number;
  /** The retry queued for it, if any. */
  retry: unknown;
}

/** The notices of `ends` (empty when no job among them notifies), to be written with them. */
export function noticesOfEnds(ends: readonly NoticeEnd[], config: NotifySettings): Notices {
  const out: Notices = { items: [], failed: [], succeeded: [] };
  for (const e of ends) {
    const { run } = e;
    const namespaceRule = config.namespaces[run.namespace];
    if (!run.job.notify?.length && !namespaceRule) continue; // most runs: nothing to look at
    const rules = rulesOf(run.job.notify, namespaceRule);
    const refs = { namespace: run.namespace, subject: jobSubject(run.jobId), runId: run.id, fence: run.fence, instanceId: null };
    const events = eventsOfEnd({ status: e.status, retried: e.retry != null, retries: (run.job.retry?.times ?? 0) > 0 });
    const document = (event: string) => runDocument(event, { namespace: run.namespace, jobName: run.jobName, id: run.id }, e.status, e.error, e.endedAt);
    out.items.push(...notices(rules, events, document, refs));
    if (e.status === "succeeded") {
      out.succeeded.push(refs.subject);
      for (const n of notices(rules, ["recovered"], document, refs)) out.items.push({ ...n, recovery: true });
    } else if (failing(e.status)) out.failed.push(refs.subject);
  }
  return out;
}
