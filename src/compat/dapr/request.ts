// A Dapr schedule request into the native job: read the way daprd's HTTP API reads it (protojson: camelCase
// or proto field names, unknown fields ignored), checked as Dapr's scheduler checks it, then built into the
// native JobInput and the compat fields that keep Dapr's spelling.
import type { Context } from "hono";
import { DomainError } from "../../domain/errors.ts";
import type { Compat } from "../../domain/job-input.ts";
import { formatDuration, isValidTimeZone, parseRfc3339 } from "../../schedule/index.ts";
import { parseWhen } from "../../schedule/spec.ts";
import { isObject, readJson } from "../common/request.ts";
import { rfc3339 } from "../common/time.ts";
import { goDuration, protoDuration } from "./durations.ts";
import { DaprError, malformed, refused } from "./errors.ts";

/** The request body as JSON; what does not parse is daprd's ERR_MALFORMED_REQUEST. */
export async function readBody(c: Context): Promise<unknown> {
  try {
    return await readJson(c);
  } catch (e) {
    throw e instanceof DomainError ? malformed(e.message) : e;
  }
}

export type FailurePolicy = { drop: Record<string, never> } | { constant: { interval?: string; maxRetries?: number } };

/** A Dapr Job as its HTTP API reads and writes it (runtime.v1.Job, `data` as a JSON value). */
export interface DaprJob {
  schedule?: string;
  repeats?: number;
  dueTime?: string;
  ttl?: string;
  data?: unknown;
  failurePolicy?: FailurePolicy;
  /** The name as Dapr spells it, where native names cannot hold it (names.ts). */
  name?: string;
}

const JOB_FIELDS = ["name", "schedule", "repeats", "dueTime", "due_time", "ttl", "data", "failurePolicy", "failure_policy"];

type Obj = Record<string, unknown>;

/** A field under its JSON name or its proto name (protojson reads both); null means unset, as protojson has it. */
function field(o: Obj, json: string, proto: string, at: string): unknown {
  if (json !== proto && o[json] != null && o[proto] != null) throw malformed(`${at}${json}: given twice (as ${json} and ${proto})`);
  return o[json] ?? o[proto] ?? undefined;
}

function str(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw malformed(`${name}: must be a string`);
  return v;
}

/** A protojson uint32: an integer, or a string of digits. */
function uint32(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "string" && /^\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 4_294_967_295) throw malformed(`${name}: must be an integer from 0 to 4294967295`);
  return n;
}

/**
 * The job and `overwrite` of a schedule request: the flat body of current Dapr, or the `{"job": {...}}`
 * body of the reference document (and of Dapr 1.14). Throws `malformed` for wrong types.
 */
export function readScheduleRequest(body: unknown): { job: DaprJob; overwrite: boolean } {
  if (body === undefined) return { job: {}, overwrite: false }; // daprd skips an empty body
  if (!isObject(body)) throw malformed("the body must be a JSON object");
  let src = body;
  let at = "";
  if (body.job != null) {
    if (!isObject(body.job)) throw malformed("job: must be an object");
    const flat = JOB_FIELDS.find((f) => f !== "name" && body[f] !== undefined);
    if (flat) throw malformed(`${flat}: give the job's fields either inside "job" or at the top level, not both`);
    src = body.job;
    at = "job.";
  }
  const overwrite = body.overwrite ?? undefined;
  if (overwrite !== undefined && typeof overwrite !== "boolean") throw malformed("overwrite: must be true or false");
  const name = str(src.name ?? undefined, `${at}name`);
  if (name) throw new DaprError(400, "DAPR_SCHEDULER_JOB_NAME", "Set the job name in the url only");
  const job: DaprJob = {
    schedule: str(src.schedule ?? undefined, `${at}schedule`),
    repeats: uint32(src.repeats ?? undefined, `${at}repeats`),
    dueTime: str(field(src, "dueTime", "due_time", at), `${at}dueTime`),
    ttl: str(src.ttl ?? undefined, `${at}ttl`),
    failurePolicy: readFailurePolicy(field(src, "failurePolicy", "failure_policy", at), `${at}failurePolicy`),
  };
  // data is a google.protobuf.Value: any JSON, null included.
  if (src.data !== undefined) job.data = src.data;
  return { job, overwrite: overwrite === true };
}

function readFailurePolicy(v: unknown, at: string): FailurePolicy | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw malformed(`${at}: must be an object`);
  const drop = v.drop ?? undefined;
  const constant = v.constant ?? undefined;
  if (drop !== undefined && constant !== undefined) throw malformed(`${at}: give one of constant or drop, not both`);
  if (drop !== undefined) {
    if (!isObject(drop)) throw malformed(`${at}.drop: must be an object ({})`);
    return { drop: {} };
  }
  if (constant === undefined) return undefined; // {}: no policy, as in Dapr
  if (!isObject(constant)) throw malformed(`${at}.constant: must be an object`);
  const interval = str(constant.interval ?? undefined, `${at}.constant.interval`);
  const maxRetries = uint32(field(constant, "maxRetries", "max_retries", `${at}.constant.`), `${at}.constant.maxRetries`);
  if (interval !== undefined && goDuration(interval) === null) throw malformed(`${at}.constant.interval: must be a duration such as 500ms, 10s or 1m`);
  const out: { interval?: string; maxRetries?: number } = {};
  if (interval !== undefined) out.interval = protoDuration(goDuration(interval)!);
  if (maxRetries !== undefined) out.maxRetries = maxRetries;
  return { constant: out };
}

const DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/**
 * Dapr's schedule (dapr/kit cron, a robfig/cron fork) as a native schedule and zone: an optional `TZ=` or
 * `CRON_TZ=` zone prefix, then 6 cron fields with seconds first, a lower-case descriptor, or `@every <Go
 * duration>` at the period given (daprd keeps sub-second periods since Dapr 1.16; [compat] dapr_min_every is
 * the floor here). A zone before `@every` is refused, as Dapr 1.18.3 refuses it: an interval has no zone.
 */
function nativeSchedule(schedule: string): { schedule: string; timezone?: string } {
  let spec = schedule;
  let timezone: string | undefined;
  const tz = /^(?:CRON_)?TZ=(\S*)\s+(.*)$/s.exec(spec);
  if (tz) {
    if (!isValidTimeZone(tz[1])) throw refused(`schedule: provided bad location ${tz[1]}`);
    timezone = tz[1];
    spec = tz[2].trim();
  }
  if (spec === "") throw refused("schedule: empty spec string");
  if (spec.startsWith("@")) {
    if (DESCRIPTORS.includes(spec)) return { schedule: spec, timezone };
    const every = /^@every (.*)$/s.exec(spec);
    const ms = every ? goDuration(every[1]) : null;
    if (every && ms === null) throw refused(`schedule: failed to parse duration ${spec}`);
    if (ms === null) throw refused(`schedule: unrecognized descriptor: ${spec}`);
    if (tz) throw refused(`schedule: a time zone (${tz[0].split(/\s/)[0]}) cannot be given with @every: an interval has no time zone`);
    if (ms <= 0) throw refused(`schedule: @every needs a positive duration: ${spec}`);
    return { schedule: `@every ${formatDuration(ms)}` };
  }
  const fields = spec.trim().split(/\s+/); // Go's strings.Fields: blanks around are no fields
  if (fields.length !== 6) throw refused(`schedule: expected exactly 6 fields, found ${fields.length}: [${fields.join(" ")}]`);
  return { schedule: fields.join(" "), timezone };
}

/** Dapr's default failure policy: constant, 3 retries, 1 second apart (jobs API reference). */
const DEFAULT_RETRY = { times: 3, interval: "1s", backoff: "fixed" } as const;
/** An unlimited `constant` policy retries this many times: the native ceiling. */
const MAX_RETRIES = 1000;

function nativeRetry(policy: FailurePolicy | undefined) {
  if (policy === undefined) return DEFAULT_RETRY;
  if ("drop" in policy) return { times: 0 };
  const { interval, maxRetries } = policy.constant;
  if (maxRetries !== undefined && maxRetries > MAX_RETRIES) {
    throw refused(`failurePolicy.constant.maxRetries: at most ${MAX_RETRIES} retries here (omit it to retry up to ${MAX_RETRIES} times)`);
  }
  const ms = interval === undefined ? 0 : goDuration(interval)!;
  if (ms > 24 * 86_400_000) throw refused("failurePolicy.constant.interval: must be at most 24 days");
  // "Defaults to retrying immediately": the shortest native interval.
  return { times: maxRetries ?? MAX_RETRIES, interval: ms > 0 ? formatDuration(ms) : "1ms", backoff: "fixed" };
}

/**
 * The native JobInput for a Dapr job, checking what Dapr's Scheduler checks (go-etcd-cron's builder), and
 * the compat fields that keep the Dapr spelling for GET. `url` is where the app receives it.
 */
export function nativeJob(job: DaprJob, url: string, now: number): { input: Record<string, unknown>; compat: Compat } {
  if (job.schedule === undefined && job.dueTime === undefined) throw new DaprError(400, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty");
  for (const [k, max] of [["schedule", 200], ["dueTime", 64], ["ttl", 64]] as const) {
    if ((job[k]?.length ?? 0) > max) throw refused(`${k}: at most ${max} characters`);
  }
  if (job.repeats !== undefined && job.repeats < 1) throw refused("repeats: defined repeats must be greater than 0");
  if (job.schedule === undefined && (job.repeats ?? 1) > 1) throw refused("repeats: job must have a schedule to repeat");
  if (job.schedule === undefined && job.ttl !== undefined) throw refused("ttl: job must have a schedule to have a ttl");
  const input: Record<string, unknown> = {
    target: { http: { url, method: "POST", headers: { "content-type": "application/json" } } },
    retry: nativeRetry(job.failurePolicy),
  };
  if (job.schedule !== undefined) Object.assign(input, nativeSchedule(job.schedule));
  if (input.timezone === undefined) delete input.timezone;
  if (job.repeats !== undefined) input.repeats = job.repeats;
  if (job.dueTime !== undefined) input.dueTime = job.dueTime;
  if (job.ttl !== undefined) {
    // Dapr counts a ttl duration from the dueTime when there is one (native: from now), so give the end.
    const due = job.dueTime === undefined ? null : parseWhen(job.dueTime, now, "UTC");
    if (due?.ok && parseRfc3339(job.ttl) === null) {
      const end = parseWhen(job.ttl, due.value, "UTC");
      if (!end.ok) throw refused(`ttl: ${end.message}`);
      if (end.value < due.value) throw refused("ttl: ttl must be greater than due time");
      input.endAt = rfc3339(end.value);
    } else input.ttl = job.ttl;
  }
  if (job.data !== undefined && job.data !== null) input.payload = job.data;
  const { data: _, ...spelled } = job;
  return { input, compat: { api: "dapr", ...spelled } };
}
