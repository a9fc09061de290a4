// DCS's execution history (GET /jobs/{ns}/{name}/his): a job's latest slots, each with its retries folded
// into one record.
import type { RequestDeps } from "../../api/deps.ts";
import { FINISHED_STATUSES, recentRuns } from "../../domain/runs.ts";
import type { RunView } from "../../domain/views.ts";
import { rfc3339 } from "../common/time.ts";

/** RFC 3339 as Go's time.Time writes it: the fraction only when not zero ("2024-01-01T00:00:00Z"). */
const goTime = (iso: string) => rfc3339(Date.parse(iso)).replace(/\.(\d*?)0*Z$/, (_, d: string) => (d ? `.${d}Z` : "Z"));

/**
 * The job's latest executions, newest first: one record per slot, its retries folded in (startAt of the
 * first attempt; endAt and msg of the last). Slots not started yet are left out; endAt is null while an
 * attempt runs or a retry waits.
 */
export async function history(deps: RequestDeps, jobId: number) {
  const PAGE = 100;
  const started = (slot: RunView[]) => slot.some((r) => r.status !== "queued");
  const slots: RunView[][] = [];
  let kept = 0; // slots that started
  pages: for (let offset = 0; ; offset += PAGE) {
    const items = await recentRuns(deps, jobId, { offset, limit: PAGE });
    for (const run of items) {
      const last = slots.at(-1);
      if (last && last[0].scheduledAt === run.scheduledAt) {
        last.push(run); // runs come slot by slot, newest attempt first
        continue;
      }
      if (last && started(last)) kept++;
      if (kept === deps.config.compat.dcsHistorySize) break pages; // every attempt of the last kept slot is in
      slots.push([run]);
    }
    if (items.length < PAGE) break;
  }
  return slots
    .filter(started)
    .map((attempts) => {
      const first = attempts[attempts.length - 1];
      const newest = attempts[0];
      const ended = attempts.find((r) => FINISHED_STATUSES.has(r.status));
      const startAt = first.startedAt ?? first.endedAt; // a skipped slot never started: it ended at once
      return {
        startAt: startAt === null ? null : goTime(startAt),
        endAt: FINISHED_STATUSES.has(newest.status) && newest.endedAt !== null ? goTime(newest.endedAt) : null,
        msg: ended?.error ?? "",
      };
    });
}

