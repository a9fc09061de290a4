// A SchedulerX job as the vendor describes it (CreateJobRequest / JobConfigInfo), read from request
// parameters, checked, and recovered from a native job (its compat fields when SchedulerX made it, else
// its native fields).
import type { Config } from "../../config.ts";
import { invalid } from "../../domain/errors.ts";
import type { JobView } from "../../domain/views.ts";
import { parseDuration } from "../../schedule/duration.ts";
import type { Contact, Params } from "./params.ts";

export const API = "schedulerx";

/** Where a job's `parameters` and an execute's `instanceParameters` reach the run. */
export const JOB_PARAMETERS_ENV = "SCHEDULERX_JOB_PARAMETERS";
export const INSTANCE_PARAMETERS_ENV = "SCHEDULERX_INSTANCE_PARAMETERS";

export const TIME_TYPE = { cron: 1, fixRate: 3, secondDelay: 4, oneTime: 5, api: 100 } as const;
export const SCRIPT_TYPES = ["shell", "python", "go"] as const;

export interface MapTaskXAttrs {
  pageSize: number;
  consumerSize: number;
  queueSize: number;
  dispatcherSize: number;
  taskMaxAttempt: number;
  taskAttemptInterval: number;
}

export interface MonitorConfig {
  timeoutEnable: boolean;
  timeout: number;
  timeoutKillEnable: boolean;
  failEnable: boolean;
  sendChannel: string;
}

export interface Spec {
  jobType: string;
  className: string | null;
  jarUrl: string | null;
  content: string | null;
  name: string;
  description: string;
  executeMode: string;
  parameters: string | null;
  maxConcurrency: number;
  maxAttempt: number;
  attemptInterval: number;
  timeType: number;
  timeExpression: string | null;
  calendar: string | null;
  dataOffset: number;
  mapTaskXAttrs: MapTaskXAttrs;
  monitorConfig: MonitorConfig;
  contactInfo: Contact[];
  namespaceSource: string | null;
}

/** The parameters a request gave: a spec's fields, nested ones flattened as the request names them. */
export type Given = Partial<Omit<Spec, "mapTaskXAttrs" | "monitorConfig">> & Partial<MapTaskXAttrs> & Partial<MonitorConfig>;

const INT32 = 2_147_483_647;
const CENTURY_S = 100 * 365 * 86_400;
export const MAX_TIMER_S = 24 * 86_400; // the longest native timeout and retry interval

/** The documented defaults of CreateJobRequest for what a create leaves out. */
export const DEFAULTS = {
  className: null,
  jarUrl: null,
  content: null,
  description: "",
  parameters: null,
  maxConcurrency: 1,
  maxAttempt: 0,
  attemptInterval: 30,
  timeExpression: null,
  calendar: null,
  dataOffset: 0,
  mapTaskXAttrs: { pageSize: 100, consumerSize: 5, queueSize: 10_000, dispatcherSize: 5, taskMaxAttempt: 0, taskAttemptInterval: 0 },
  monitorConfig: { timeoutEnable: false, timeout: 7200, timeoutKillEnable: false, failEnable: false, sendChannel: "sms" },
  contactInfo: [],
  namespaceSource: null,
} satisfies Partial<Spec>;

/** Every job field the request carries, coerced and range-checked (no cross-field checks yet). */
export function readGiven(p: Params): Given {
  const g: Given = {
    jobType: p.str("jobType", { max: 32 }),
    className: p.str("className", { max: 1024 }),
    jarUrl: p.str("jarUrl", { max: 4096 }),
    content: p.str("content", { max: 1 << 20 }),
    name: p.str("name", { max: 200 }),
    description: p.str("description", { max: 4096 }),
    executeMode: p.str("executeMode", { max: 32 }),
    parameters: p.str("parameters", { max: 32_768 }) || undefined, // an empty form value is no parameters
    maxConcurrency: p.int("maxConcurrency", 1, 10_000),
    maxAttempt: p.int("maxAttempt", 0, 1000),
    attemptInterval: p.int("attemptInterval", 1, MAX_TIMER_S),
    timeType: p.int("timeType", 0, INT32),
    timeExpression: p.str("timeExpression", { max: 200 }),
    calendar: p.str("calendar", { max: 256 }),
    dataOffset: p.int("dataOffset", -CENTURY_S, CENTURY_S),
    pageSize: p.int("pageSize", 0, INT32),
    consumerSize: p.int("consumerSize", 0, INT32),
    queueSize: p.int("queueSize", 0, INT32),
    dispatcherSize: p.int("dispatcherSize", 0, INT32),
    taskMaxAttempt: p.int("taskMaxAttempt", 0, INT32),
    taskAttemptInterval: p.int("taskAttemptInterval", 0, INT32),
    timeoutEnable: p.bool("timeoutEnable"),
    timeout: p.int("timeout", 1, CENTURY_S),
    timeoutKillEnable: p.bool("timeoutKillEnable"),
    failEnable: p.bool("failEnable"),
    sendChannel: p.str("sendChannel", { max: 64 }),
    contactInfo: p.contacts(),
    namespaceSource: p.str("namespaceSource", { max: 64 }),
  };
  for (const k of Object.keys(g) as (keyof Given)[]) if (g[k] === undefined) delete g[k];
  return g;
}

/** `base` with the given fields over it. */
export function merge(base: Spec, g: Given): Spec {
  const pick = <T extends object>(from: T): Partial<T> => Object.fromEntries(Object.keys(from).filter((k) => k in g).map((k) => [k, (g as Record<string, unknown>)[k]])) as Partial<T>;
  return {
    ...base,
    ...(pick(base) as Partial<Spec>),
    mapTaskXAttrs: { ...base.mapTaskXAttrs, ...pick(base.mapTaskXAttrs) },
    monitorConfig: { ...base.monitorConfig, ...pick(base.monitorConfig) },
  };
}

/** A create's spec: the given fields over the defaults, with the required ones present. */
export function createSpec(g: Given): Spec {
  for (const name of ["jobType", "name", "executeMode"] as const) {
    if (!g[name]) throw invalid(`parameter ${name} is required`, name);
  }
  if (g.timeType === undefined) throw invalid("parameter timeType is required", "timeType");
  return merge({ ...DEFAULTS, jobType: g.jobType!, name: g.name!, executeMode: g.executeMode!, timeType: g.timeType } as Spec, g);
}

/** Cross-field checks of a whole spec (the time type only when given: a native job may have none of them). */
export function checkSpec(s: Spec, g: Given): void {
  if (s.name.trim() === "") throw invalid("parameter name must not be empty", "name");
  const mode = s.executeMode;
  if (mode === "broadcast" || mode === "broadcatst") {
    throw invalid(`parameter executeMode ${mode} runs a job on every worker of a group; tock runs each instance once, and broadcast comes with clustering support; use standalone`, "executeMode");
  }
  if (["parallel", "grid", "batch", "sharding"].includes(mode)) {
    throw invalid(`parameter executeMode ${mode} (distributed map/grid computing) is not supported by tock; use standalone`, "executeMode");
  }
  if (mode !== "standalone") throw invalid("parameter executeMode must be standalone, broadcast, parallel, grid or batch", "executeMode");
  if (g.timeType !== undefined && !([TIME_TYPE.cron, TIME_TYPE.fixRate, TIME_TYPE.secondDelay, TIME_TYPE.api] as number[]).includes(s.timeType)) {
    throw invalid("parameter timeType must be 1 (cron), 3 (fix_rate), 4 (second_delay) or 100 (api)", "timeType");
  }
  if (s.monitorConfig.timeoutKillEnable && s.monitorConfig.timeout > MAX_TIMER_S) {
    throw invalid(`parameter timeout must be at most ${MAX_TIMER_S} s (24 days) when timeoutKillEnable is true`, "timeout");
  }
}

const seconds = (duration: string | null | undefined): number | null => {
  const ms = duration ? parseDuration(duration) : null;
  return ms === null ? null : Math.ceil(ms / 1000);
};

/** The time type and expression closest to a native schedule (for jobs SchedulerX did not make). */
function timeOf(job: JobView): { timeType: number; timeExpression: string | null } {
  switch (job.scheduleKind) {
    case "manual":
      return { timeType: TIME_TYPE.api, timeExpression: null };
    case "every":
      return { timeType: TIME_TYPE.fixRate, timeExpression: String(seconds(job.schedule!.trim().replace(/^@every\s+/i, "")) ?? job.schedule) };
    case "once":
      return { timeType: TIME_TYPE.oneTime, timeExpression: job.dueTime };
    default:
      return { timeType: TIME_TYPE.cron, timeExpression: job.schedule };
  }
}

/** A job's SchedulerX description: its compat fields when SchedulerX made it, else from its native fields. */
export function specOf(job: JobView, config: Config): Spec {
  const target = job.target as { script?: { language: string; content: string; env?: Record<string, string> }; process?: { env?: Record<string, string> } };
  const env = target.script?.env ?? target.process?.env;
  const native = {
    content: target.script?.content ?? null,
    parameters: env?.[JOB_PARAMETERS_ENV] ?? null,
    description: job.memo ?? "",
  };
  const c = job.compat;
  if (c?.api === API) return { ...(c as unknown as Spec), ...native };
  const retry = job.retry ?? { times: config.scheduler.defaultRetry.times, interval: `${config.scheduler.defaultRetry.interval}ms` };
  const timeout = seconds(job.timeout) ?? Math.ceil(config.scheduler.defaultTimeout / 1000);
  return {
    ...DEFAULTS,
    ...native,
    jobType: target.script?.language ?? Object.keys(job.target)[0]!,
    name: job.name,
    executeMode: "standalone",
    maxConcurrency: job.maxConcurrency ?? 1,
    maxAttempt: retry.times,
    attemptInterval: seconds(retry.interval) ?? DEFAULTS.attemptInterval,
    ...timeOf(job),
    // Every native job is stopped at its timeout.
    monitorConfig: { ...DEFAULTS.monitorConfig, timeout, timeoutKillEnable: true },
  };
}
