// The DCS RESTful API (DCS's "RESTful API" documentation): PUT/GET/DELETE /jobs/{ns}/{name} and
// GET /jobs/{ns}/{name}/his. DCS's ns/name are the native namespace/name; `expr` becomes the schedule (and
// time zone), `callback` the http or tcp target with its timeout and retry, `times` the repeat limit.
// 400 means the body is not a DCS job; 422 means it is one, but tock cannot take it (README "DCS").
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as v from "valibot";
import { guard, scoped } from "../api/auth.ts";
import type { RequestDeps, RouteDeps } from "../api/deps.ts";
import { DomainError } from "../domain/errors.ts";
import { checkName, getJob, putJob, removeJob } from "../domain/jobs.ts";
import { FINISHED_STATUSES, recentRuns, startedSlots } from "../domain/runs.ts";
import { Base64, HEADER_VALUE, HOST_PORT, keepingKeys } from "../domain/schemas.ts";
import type { JobView, RunView } from "../domain/views.ts";
import { parseCron } from "../schedule/cron.ts";
import { normalizeTimeZone, parseDuration } from "../schedule/index.ts";
import { inFlightCap } from "../api/requests.ts";
import { logFailure, renameField } from "./common/errors.ts";
import { isObject, readJson } from "./common/request.ts";
import { rfc3339 } from "./common/time.ts";

/** An answer in DCS's own terms: the status and the `msg` of its `{"msg": …}` body. */
class DcsError extends Error {
  constructor(
    readonly status: 400 | 422,
    message: string,
  ) {
    super(message);
  }
}

// ---- The request body, as the document defines it (a violation is a 400) ----

/** A JSON object: valibot's object and record alone would take an array. (`any`: the check narrows first.) */
const object = <S extends v.GenericSchema<any, any>>(schema: S) => v.pipe(v.custom<Record<string, unknown>>(isObject, "must be an object"), schema);
const text = v.string("must be a string");
const GoDuration = v.pipe(text, v.check((s) => parseDuration(s) !== null, "must be a Go duration such as 500ms, 3s or 1m30s"));
const Count = v.pipe(
  v.number("must be a number"),
  v.check((n) => Number.isSafeInteger(n) && n >= 0, "must be a whole number from 0 to 2^53-1"),
);
// Go decodes a JSON null into a field as "absent": so does this facade.
const optional = <S extends v.GenericSchema>(schema: S) => v.nullish(schema);

const HttpCallback = object(
  v.object({
    url: v.pipe(text, v.check((u) => /^https?:\/\/[^\s/?#]+[^\s]*$/i.test(u) && URL.canParse(u), "must be an absolute http:// or https:// URL")),
    header: optional(
      object(
        keepingKeys(
          v.record(
            v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "is not a valid header name")),
            v.pipe(text, v.regex(HEADER_VALUE, "must be Latin-1 text with no control characters (CR, LF, …)")),
          ),
        ),
      ),
    ),
    body: optional(text),
  }),
);

const TcpCallback = object(
  v.object({
    addr: v.pipe(text, v.regex(HOST_PORT, "must be <host>:<port>")),
    body: Base64,
    ack: Base64,
  }),
);

const Callback = v.pipe(
  object(
    v.object({
      http: optional(HttpCallback),
      tcp: optional(TcpCallback),
      timeout: optional(GoDuration),
      retryTimes: optional(Count),
      retryInterval: optional(GoDuration),
    }),
  ),
  v.check((cb) => (cb.http != null) !== (cb.tcp != null), "must have exactly one of http or tcp"),
);

const DcsJob = object(
  v.object({
    expr: v.pipe(text, v.check((s) => s.trim() !== "", "must not be empty")),
    callback: Callback,
    times: optional(Count),
    memo: optional(text),
  }),
);
type DcsJob = v.InferOutput<typeof DcsJob>;

function parseBody(body: unknown): DcsJob {
  if (body === undefined) throw new DcsError(400, "body must be a JSON object with expr and callback");
  const r = v.safeParse(DcsJob, body);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const path = v.getDotPath(issue);
  if (path === null) throw new DcsError(400, `body ${issue.message}`);
  const missing = issue.received === "undefined" && issue.expected?.startsWith('"');
  throw new DcsError(400, missing ? `${path} is required` : `${path} ${issue.message}`);
}

/**
 * `expr`: [CRON_TZ=<zone> | TZ=<zone>] then a cron expression (5 fields, or 6 with seconds first), a
 * nickname (@hourly …) or `@every <Go duration>`, as DCS's Features page describes.
 */
function parseExpr(expr: string): { schedule: string; timezone?: string } {
  let s = expr.trim();
  let timezone: string | undefined;
  const tz = /^(?:CRON_TZ|TZ)=(\S*)\s*(.*)$/s.exec(s);
  if (tz) {
    timezone = normalizeTimeZone(tz[1]) ?? undefined;
    if (timezone === undefined) throw new DcsError(400, `expr: "${tz[1]}" is not an IANA time zone name such as America/New_York`);
    s = tz[2].trim();
  }
  if (/^@every(\s|$)/i.test(s)) {
    if (parseDuration(s.slice(6).trim()) === null) throw new DcsError(400, `expr: "${s}" needs a Go duration, e.g. @every 5m`);
    return { schedule: s, timezone };
  }
  const cron = parseCron(s, timezone ?? "UTC");
  if (!cron.ok) throw new DcsError(400, `expr: ${cron.message}`);
  return { schedule: s, timezone };
}

/** The native job body of a DCS job. */
function nativeOf(job: DcsJob) {
  const cb = job.callback;
  const target = cb.http
    ? {
        http: {
          url: cb.http.url,
          method: "POST",
          ...(cb.http.header && Object.keys(cb.http.header).length > 0 ? { headers: cb.http.header } : {}),
          ...(cb.http.body != null ? { body: cb.http.body } : {}),
        },
      }
    : { tcp: { addr: cb.tcp!.addr, body: cb.tcp!.body, ack: cb.tcp!.ack } };
  return {
    ...parseExpr(job.expr),
    ...(job.times ? { repeats: job.times } : {}), // 0 = no limit, as Go's zero value
    target,
    ...(cb.timeout != null ? { timeout: cb.timeout } : {}),
    // Explicit, so the server's default_retry does not apply: no retryTimes means no retries in DCS.
    retry: { times: cb.retryTimes ?? 0, backoff: "fixed", ...(cb.retryInterval != null ? { interval: cb.retryInterval } : {}) },
    // "Regularly called on the specified schedule": every slot calls back, even while an earlier call runs.
    overlap: "allow",
    ...(job.memo != null ? { memo: job.memo } : {}),
  };
}

// ---- Native jobs in DCS's shape (422 where DCS cannot express them) ----

/** Absent and zero-valued optional fields are left out, as Go's `omitempty` writes them. */
function dcsView(job: JobView) {
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

/** RFC 3339 as Go's time.Time writes it: the fraction only when not zero ("2024-01-01T00:00:00Z"). */
const goTime = (iso: string) => rfc3339(Date.parse(iso)).replace(/\.(\d*?)0*Z$/, (_, d: string) => (d ? `.${d}Z` : "Z"));

/**
 * The job's latest executions, newest first: one record per slot, its retries folded in (startAt of the
 * first attempt; endAt and msg of the last). Slots not started yet are left out; endAt is null while an
 * attempt runs or a retry waits.
 */
async function history(deps: RequestDeps, jobId: number) {
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

// ---- Errors ----

/** Native field paths in messages, in DCS's words (longest first). */
const FIELDS: [string, string][] = [
  ["target.http.headers", "callback.http.header"],
  ["target.http", "callback.http"],
  ["target.tcp", "callback.tcp"],
  ["target", "callback"],
  ["retry.times", "callback.retryTimes"],
  ["retry.interval", "callback.retryInterval"],
  ["retry", "callback"],
  ["timeout", "callback.timeout"],
  ["schedule", "expr"],
  ["timezone", "expr"],
  ["repeats", "times"],
  ["namespace", "ns"],
];

function dcsMessage(err: DomainError): string {
  const field = err.field;
  if (!field) return err.message;
  const named = renameField(field, FIELDS) ?? field;
  return err.message.startsWith(field) ? named + err.message.slice(field.length) : `${named}: ${err.message}`;
}

function onError(deps: RouteDeps, err: unknown, c: Context): Response {
  const msg = (message: string, status: ContentfulStatusCode) => c.json({ msg: message }, status);
  if (err instanceof DcsError) return msg(err.message, err.status);
  if (err instanceof DomainError) {
    switch (err.code) {
      case "invalid": // the body was a valid DCS job (checked first): what tock refuses is unprocessable
        return msg(dcsMessage(err), 422);
      case "unauthorized":
        return msg(err.message, 401);
      case "forbidden":
        return msg(err.message, 403);
      case "rate_limited":
        return msg(err.message, 429);
      case "not_found":
        return msg("not found", 404);
      case "conflict":
        return msg(err.message, 422);
      case "too_large":
        return msg(err.message, 413);
      case "unsupported_media_type":
        return msg(err.message, 400);
      case "unavailable":
        return msg(err.message, 503);
    }
  }
  if (err instanceof HTTPException && err.status < 500) return msg(err.message || "bad request", err.status as ContentfulStatusCode);
  logFailure(deps.log, "dcs", err, c.req.path);
  return msg("internal error; the request may not have been applied", 500);
}

// ---- Routes ----

export function dcsRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  /** ns/name as native names; others are unprocessable (422), as the job could never exist. */
  const names = (c: Context) => {
    const { ns, name } = c.req.param() as { ns: string; name: string };
    checkName(ns, "namespace");
    checkName(name, "name");
    return { ns, name };
  };

  app.use("/jobs/*", guard(deps));
  // The document's defence against floods: past the cap, 429 before any work.
  app.use(
    "/jobs/*",
    inFlightCap(
      () => deps.config.compat.dcsMaxRequests,
      (c) => c.json({ msg: `too many concurrent requests (more than ${deps.config.compat.dcsMaxRequests}); retry later` }, 429),
    ),
  );

  app.put("/jobs/:ns/:name", async (c) => {
    const { ns, name } = names(c);
    let body: unknown;
    try {
      body = await readJson(c);
    } catch (e) {
      throw e instanceof DomainError ? new DcsError(400, e.message) : e;
    }
    await putJob(scoped(c, deps), ns, name, nativeOf(parseBody(body)), { compat: { api: "dcs" } });
    return c.json({ msg: "OK" });
  });

  app.get("/jobs/:ns/:name", async (c) => {
    const { ns, name } = names(c);
    return c.json(dcsView(await getJob(scoped(c, deps), ns, name)));
  });

  app.delete("/jobs/:ns/:name", async (c) => {
    const { ns, name } = names(c);
    try {
      await removeJob(scoped(c, deps), ns, name);
    } catch (e) {
      if (!(e instanceof DomainError && e.code === "not_found")) throw e; // the document: "Not Found: Same as OK"
    }
    return c.json({ msg: "OK" });
  });

  app.get("/jobs/:ns/:name/his", async (c) => {
    const { ns, name } = names(c);
    const d = scoped(c, deps);
    const job = await getJob(d, ns, name);
    return c.json({ ns, name, times: await startedSlots(d, job.id, job.firedCount), records: await history(d, job.id) });
  });

  const notAllowed = (allow: string) => (c: Context) => {
    c.header("Allow", allow);
    return c.json({ msg: "method not allowed" }, 405);
  };
  app.all("/jobs/:ns/:name", notAllowed("GET, PUT, DELETE"));
  app.all("/jobs/:ns/:name/his", notAllowed("GET"));
  app.all("/jobs/*", (c) => c.json({ msg: "not found" }, 404));

  app.onError((err, c) => onError(deps, err, c));
  return app;
}
