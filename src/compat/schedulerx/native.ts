// A SchedulerX job spec into the native job body (JobInput) and compat fields: what each vendor field
// becomes natively. An update changes only the native fields of the vendor fields it gives.
import type { Config } from "../../config.ts";
import { invalid } from "../../domain/errors.ts";
import type { Compat } from "../../domain/job-input.ts";
import type { JobView } from "../../domain/views.ts";
import { quartzToCroner } from "./cron.ts";
import { API, type Given, isBroadcast, JOB_PARAMETERS_ENV, MAX_TIMER_S, SCRIPT_TYPES, type Spec, TIME_TYPE } from "./spec.ts";

type Body = Record<string, unknown>;
type EnvTarget = { env?: Record<string, string> } & Record<string, unknown>;

/** The native schedule of a time type and expression (undefined: manual, fired only by execute). */
export function scheduleOf(s: Spec): string | undefined {
  const expr = s.timeExpression?.trim() ?? "";
  const need = (what: string) => {
    if (expr === "") throw invalid(`parameter timeExpression is required for timeType ${s.timeType}: ${what}`, "timeExpression");
  };
  const secondsIn = (min: number, max: number) => {
    if (!/^\d{1,12}$/.test(expr) || Number(expr) < min || Number(expr) > max) {
      throw invalid(`parameter timeExpression must be a whole number of seconds from ${min} to ${max} for timeType ${s.timeType}`, "timeExpression");
    }
    return `@every ${Number(expr)}s`;
  };
  switch (s.timeType) {
    case TIME_TYPE.cron: {
      need("a cron expression such as 0 0/10 * * * ?");
      const t = quartzToCroner(expr);
      if (!t.ok) throw invalid(`parameter timeExpression: ${t.message}`, "timeExpression");
      return t.pattern;
    }
    case TIME_TYPE.fixRate:
      need("the period in seconds, e.g. 30");
      return secondsIn(10, 100 * 365 * 86_400); // the vendor's minimum fixed rate is 10 s
    case TIME_TYPE.secondDelay:
      need("the delay in seconds, 1 to 60");
      return secondsIn(1, 60);
    case TIME_TYPE.api:
      return undefined;
    default:
      throw invalid("parameter timeType must be 1 (cron), 3 (fix_rate), 4 (second_delay) or 100 (api)", "timeType");
  }
}

/** The target a create makes for a job type: a script, or the configured Java runner as a process. */
function newTarget(s: Spec, config: Config): Body {
  if ((SCRIPT_TYPES as readonly string[]).includes(s.jobType)) {
    if (s.content === null || s.content === "") throw invalid(`parameter content is required for a ${s.jobType} job (the script to run)`, "content");
    if (!Object.hasOwn(config.executors.script.interpreters, s.jobType)) {
      throw invalid(`parameter jobType ${s.jobType} needs an interpreter on this server; an operator can add one under [executors.script.interpreters] (e.g. ${s.jobType} = [...])`, "jobType");
    }
    return { script: { language: s.jobType, content: s.content } };
  }
  if (s.jobType === "java") {
    const java = config.compat.schedulerxJavaCommand;
    if (java.length === 0) {
      throw invalid("parameter jobType java needs a Java runner on this server; an operator can set [compat] schedulerx_java_command (it gets the className, then the jarUrl)", "jobType");
    }
    if (!s.className) throw invalid("parameter className is required for a java job", "className");
    return { process: { command: [...java, s.className, ...(s.jarUrl ? [s.jarUrl] : [])] } };
  }
  throw invalid("parameter jobType must be one of java, shell, python, go", "jobType");
}

/** The job's target with the given content, class or parameters changed in place (other native fields kept). */
function patchTarget(target: Body, s: Spec, g: Given, config: Config): Body {
  const kind = Object.keys(target)[0]!;
  const body = { ...(target[kind] as EnvTarget) };
  const script = kind === "script";
  const java = kind === "process" && s.jobType === "java";
  if (g.content !== undefined) {
    if (!script) throw invalid(`parameter content applies to script jobs (shell, python, go), not to this ${s.jobType} job`, "content");
    if (g.content === "") throw invalid("parameter content must not be empty", "content");
    body.content = g.content;
  }
  if (g.className !== undefined || g.jarUrl !== undefined) {
    const field = g.className !== undefined ? "className" : "jarUrl";
    if (!java) throw invalid(`parameter ${field} applies to java jobs, not to this ${s.jobType} job`, field);
    if (!s.className) throw invalid("parameter className must not be empty", "className");
    const command = config.compat.schedulerxJavaCommand;
    if (command.length === 0) throw invalid("java jobs need [compat] schedulerx_java_command on this server", "className");
    body.command = [...command, s.className, ...(s.jarUrl ? [s.jarUrl] : [])];
  }
  if (g.parameters != null) {
    if (kind !== "script" && kind !== "process") throw invalid(`parameter parameters cannot reach a ${kind} job`, "parameters");
    body.env = { ...body.env, [JOB_PARAMETERS_ENV]: g.parameters };
  }
  return { [kind]: body };
}

/**
 * The native body for `s`. `base` is the job's current native body on an update (only the native fields
 * of the given vendor fields change), null on a create (every field is given).
 */
export function nativeBody(s: Spec, g: Given, base: Body | null, config: Config): Body {
  const body: Body = base ? { ...base } : {};
  const all = base === null;
  const has = (...keys: (keyof Given)[]) => all || keys.some((k) => g[k] !== undefined);
  body.target = all ? patchTarget(newTarget(s, config), s, { parameters: s.parameters ?? undefined }, config) : patchTarget(body.target as Body, s, g, config);
  if (has("timeType", "timeExpression")) {
    const schedule = scheduleOf(s);
    if (schedule === undefined) delete body.schedule;
    else body.schedule = schedule;
    delete body.dueTime;
    // second_delay waits for the previous instance: never two at once.
    if (s.timeType === TIME_TYPE.secondDelay) body.overlap = "forbid";
  }
  if (has("maxConcurrency")) {
    // SchedulerX does not fire while maxConcurrency instances run: native forbid (skip) with that limit.
    body.overlap = "forbid";
    if (s.maxConcurrency > 1) body.maxConcurrency = s.maxConcurrency;
    else delete body.maxConcurrency;
  }
  // Broadcast: each instance on every live node (worker) that can run it.
  if (has("executeMode")) {
    if (isBroadcast(s.executeMode)) body.broadcast = true;
    else delete body.broadcast;
  }
  if (has("maxAttempt", "attemptInterval")) body.retry = { times: s.maxAttempt, interval: `${s.attemptInterval}s`, backoff: "fixed" };
  // Without timeoutKillEnable the vendor only alarms at the threshold: natively the longest timeout.
  if (has("timeout", "timeoutKillEnable")) body.timeout = `${s.monitorConfig.timeoutKillEnable ? s.monitorConfig.timeout : MAX_TIMER_S}s`;
  if (has("description")) {
    if (s.description === "") delete body.memo;
    else body.memo = s.description;
  }
  if (has("failEnable", "timeoutEnable", "timeoutKillEnable", "sendChannel", "contactInfo")) {
    const alarm = alarmOf(s, config);
    if (alarm) body.notify = [alarm];
    else delete body.notify;
  }
  return body;
}

/**
 * A job's alarms as a notification to [compat] schedulerx_alarm_url: failEnable is a failure (and retries
 * exhausted), timeoutEnable a timeout where the run is stopped at the threshold (timeoutKillEnable; tock
 * has no event for a run still going past it). tock sends no SMS or e-mail: the contacts and the channel
 * travel in the document's data, for the receiver to reach them.
 */
function alarmOf(s: Spec, config: Config): Body | null {
  const url = config.compat.schedulerxAlarmUrl;
  const m = s.monitorConfig;
  const on = [...(m.failEnable ? ["failure", "retries_exhausted"] : []), ...(m.timeoutEnable && m.timeoutKillEnable ? ["timeout"] : [])];
  if (!url || on.length === 0) return null;
  return { on, http: { url }, data: { api: API, sendChannel: m.sendChannel, contacts: s.contactInfo } };
}

/** What compat keeps: the spec without what the native job holds itself (script content, parameters). */
export function compatOf(s: Spec): Compat {
  const { content: _c, parameters: _p, ...rest } = s;
  return { api: API, ...rest };
}

/** A job's native body as a create would take it (for an update that changes part of it). */
export function bodyOf(job: JobView): Body {
  const body: Body = { target: job.target, enabled: job.enabled, overlap: job.overlap, misfire: job.misfire, timezone: job.timezone };
  const keep = { schedule: job.schedule, dueTime: job.dueTime, repeats: job.repeats, ttl: job.ttl, startAt: job.startAt, endAt: job.endAt, timeout: job.timeout, retry: job.retry, maxConcurrency: job.maxConcurrency, memo: job.memo };
  for (const [k, v] of Object.entries(keep)) if (v !== null) body[k] = v;
  if (job.payload !== null) body.payload = job.payload;
  if (job.broadcast) body.broadcast = true;
  if (Object.keys(job.labels).length) body.labels = job.labels;
  if (job.notify.length) body.notify = job.notify;
  return body;
}
