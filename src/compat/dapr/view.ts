// Native jobs as Dapr's Job message, in the Dapr spelling a job keeps when this facade made it.
import type { JobView } from "../../domain/views.ts";
import { parseDuration } from "../../schedule/index.ts";
import { protoDuration } from "./durations.ts";
import type { DaprJob } from "./request.ts";

/**
 * A native job as Dapr's Job message (protojson field order, unset fields left out): from the Dapr
 * spelling kept when this facade made it, else from the native fields.
 */
export function daprView(job: JobView): Record<string, unknown> {
  const own = job.compat?.api === "dapr" ? (job.compat as DaprJob) : null;
  // A name native names cannot hold is kept with the job as Dapr spells it.
  const out: Record<string, unknown> = { name: typeof own?.name === "string" ? own.name : job.name };
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null) out[k] = v;
  };
  if (own) {
    put("schedule", own.schedule);
    put("repeats", own.repeats);
    put("dueTime", own.dueTime);
    put("ttl", own.ttl);
  } else {
    const zoned = job.scheduleKind === "cron" && job.timezone !== "UTC";
    put("schedule", zoned ? `CRON_TZ=${job.timezone} ${job.schedule}` : job.schedule);
    put("repeats", job.repeats);
    put("dueTime", job.dueTime);
    put("ttl", job.ttl ?? job.endAt);
  }
  put("data", job.payload);
  if (own) put("failurePolicy", own.failurePolicy);
  else if (job.retry) {
    const ms = parseDuration(job.retry.interval) ?? 1000;
    put("failurePolicy", job.retry.times === 0 ? { drop: {} } : { constant: { interval: protoDuration(ms), maxRetries: job.retry.times } });
  }
  return out;
}
