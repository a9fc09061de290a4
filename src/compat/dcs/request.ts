// A DCS job body (DCS's "RESTful API" document) checked as the document defines it, then turned into the
// native job body: `expr` becomes the schedule (and time zone), `callback` the http or tcp target with its
// timeout and retry, `times` the repeat limit. A body that is not a DCS job is a 400.
import type { Context } from "hono";
import * as v from "valibot";
import { DomainError } from "../../domain/errors.ts";
import { Base64, HEADER_VALUE, HOST_PORT, keepingKeys } from "../../domain/schemas.ts";
import { parseCron } from "../../schedule/cron.ts";
import { normalizeTimeZone, parseDuration } from "../../schedule/index.ts";
import { isObject, readJson } from "../common/request.ts";
import { DcsError } from "./errors.ts";

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

/** The DCS job of a request body; a 400 naming the first field at fault when it is not one. */
export function parseBody(body: unknown): DcsJob {
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
export function nativeOf(job: DcsJob) {
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

/** The request body as JSON; what does not parse is no DCS job (400). */
export async function readBody(c: Context): Promise<unknown> {
  try {
    return await readJson(c);
  } catch (e) {
    throw e instanceof DomainError ? new DcsError(400, e.message) : e;
  }
}
