// A SchedulerX job as the vendor describes it (CreateJobRequest / JobConfigInfo): its defaults, the given
// fields over them, the checks across fields, and the spec of a native job (its compat fields when
// SchedulerX made it, else its native fields).
import type { Config } from "../../config.ts";
import { invalid } from "../../domain/errors.ts";
import type { JobView } from "../../domain/views.ts";
import { parseDuration } from "../../schedule/duration.ts";

export const API = "schedulerx";

/** Where a job's `parameters` and an execute's `instanceParameters` reach the run. */
export const JOB_PARAMETERS_ENV = "SCHEDULERX_JOB_PARAMETERS";
export const INSTANCE_PARAMETERS_ENV = "SCHEDULERX_INSTANCE_PARAMETERS";

export const TIME_TYPE = { cron: 1, fixRate: 3, secondDelay: 4, oneTime: 5, api: 100 } as const;
export const SCRIPT_TYPES = ["shell", "python", "go"] as const;

/** An alert contact (ContactInfo). */
export interface Contact {
  userPhone: string | null;
  userName: string | null;
}

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

/** Broadcast: every worker runs each instance (the document also spells it "broadcatst"). */
export const isBroadcast = (mode: string): boolean => mode === "broadcast" || mode === "broadcatst";

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
  if (["parallel", "grid", "batch", "sharding"].includes(mode)) {
    throw invalid(`parameter executeMode ${mode} (distributed map/grid computing) is not supported by tock; use standalone`, "executeMode");
  }
  if (mode !== "standalone" && !isBroadcast(mode)) throw invalid("parameter executeMode must be standalone, broadcast, parallel, grid or batch", "executeMode");
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
    executeMode: job.broadcast ? "broadcast" : "standalone",
    maxConcurrency: job.maxConcurrency ?? 1,
    maxAttempt: retry.times,
    attemptInterval: seconds(retry.interval) ?? DEFAULTS.attemptInterval,
    ...timeOf(job),
    // Every native job is stopped at its timeout.
    monitorConfig: { ...DEFAULTS.monitorConfig, timeout, timeoutKillEnable: true },
  };
}
