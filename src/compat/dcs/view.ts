// Native jobs in DCS's shape; a job DCS cannot express (another schedule kind, method or target) is a 422.
import type { JobView } from "../../domain/views.ts";
import { DcsError } from "./errors.ts";

/** Absent and zero-valued optional fields are left out, as Go's `omitempty` writes them. */
export function dcsView(job: JobView) {
  const where = `job ${job.namespace}/${job.name}`;
  let expr: string;
  if (job.scheduleKind === "cron") expr = `${job.timezone === "UTC" ? "" : `CRON_TZ=${job.timezone} `}${job.schedule}`;
  else if (job.scheduleKind === "every") expr = job.schedule!;
  else throw new DcsError(422, `${where} has a ${job.scheduleKind} schedule; DCS expr can only be a cron or @every expression`);

  const kind = Object.keys(job.target)[0];
  let callback: Record<string, unknown>;
  if (kind === "http") {
    const t = job.target.http as { url: string; method?: string; headers?: Record<string, string>; body?: string };
    if ((t.method ?? "POST") !== "POST") throw new DcsError(422, `${where} calls its URL with ${t.method}; DCS HTTP callbacks are always POST`);
    const header = { ...t.headers };
    let body = t.body;
    // A native job without a body sends its payload as JSON: show what is sent.
    if (body === undefined && job.payload !== null) {
      body = JSON.stringify(job.payload);
      if (!Object.keys(header).some((k) => k.toLowerCase() === "content-type")) header["Content-Type"] = "application/json";
    }
    callback = { http: { url: t.url, ...(Object.keys(header).length ? { header } : {}), ...(body ? { body } : {}) } };
  } else if (kind === "tcp") {
    const t = job.target.tcp as { addr: string; body: string; ack?: string };
    callback = { tcp: { addr: t.addr, body: t.body, ...(t.ack !== undefined ? { ack: t.ack } : {}) } };
  } else {
    throw new DcsError(422, `${where} runs a ${kind} target; DCS callbacks can only be http or tcp`);
  }
  if (job.timeout) callback.timeout = job.timeout;
  if (job.retry && job.retry.times > 0) {
    callback.retryTimes = job.retry.times;
    callback.retryInterval = job.retry.interval;
  }
  return {
    ns: job.namespace,
    name: job.name,
    expr,
    callback,
    ...(job.repeats ? { times: job.repeats } : {}),
    ...(job.memo ? { memo: job.memo } : {}),
  };
}
