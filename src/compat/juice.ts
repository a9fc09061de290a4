// Juice (HujiangTechnology's Mesos framework) task API: run a container or a shell command now, query tasks
// in batches, kill one, and POST the result to the task's callbackUrl when it ends. A task is a native manual
// job in the tenant's namespace (X-Tenant-Id), triggered once at submission; taskId is the job's id.
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import { guard, scoped } from "../api/auth.ts";
import type { RequestDeps, RouteDeps } from "../api/deps.ts";
import type { Executors } from "../executors/types.ts";
import { FULL_ACCESS } from "../domain/access.ts";
import { DomainError, type ErrorCode } from "../domain/errors.ts";
import { getJobById, jobSecrets, putJob, removeJob, triggerJob } from "../domain/jobs.ts";
import { SECRET } from "../domain/secrets.ts";
import { killRun } from "../domain/kill.ts";
import { getRun, recentRuns, type RUN_STATUSES } from "../domain/runs.ts";
import { HttpTarget, Name, UNKEPT_KEYS } from "../domain/schemas.ts";
import { type JobView, type RunView } from "../domain/views.ts";
import { egressPolicy } from "../net/egress.ts";
import type { RunEvent } from "../domain/ports.ts";
import { logFailure, renameField } from "./common/errors.ts";
import { generatedName, parseId } from "./common/ids.ts";
import { isObject, readJson } from "./common/request.ts";
import { javaMediumDate } from "./common/time.ts";

// Juice's own codes (juice-common ErrorCode and CommonStatusCode, Java ints).
const NOT_NULL = -2127552257; // OBJECT_NOT_NULL_ERROR: a required value is missing
const NOT_EQUAL = -2127552256; // OBJECT_NOT_EQUAL_ERROR: a value outside its allowed set
const INIT = -2127552007; // OBJECT_INIT_ERROR: the body or a field has the wrong form
const DATA_FORMAT = -2127552019; // DATA_FORMAT_ERROR: ids (and the tenant) in the wrong form
const NO_RECORD = 0x81300060 | 0; // QUERY_RECORD_EMPTY: no such task (for this tenant)

/** A refusal in Juice's terms: HTTP 400 with `{status: code, message}`. */
class JuiceError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Juice's TaskResult.Result: the integer of the API and the name its callbacks carry. */
type TaskStatus = readonly [number, string];
const STATUS: Record<(typeof RUN_STATUSES)[number], TaskStatus> = {
  queued: [-1, "NOT_START"],
  running: [1, "RUNNING"],
  succeeded: [2, "FINISHED"],
  failed: [3, "FAILED"],
  timed_out: [3, "FAILED"],
  lost: [4, "LOST"],
  killed: [6, "KILLED"],
  skipped: [8, "DROPPED"],
};
const statusOf = (run: RunView | null): TaskStatus => (run ? (STATUS[run.status as keyof typeof STATUS] ?? [11, "UNKNOWN"]) : STATUS.queued);

/** Juice tasks have no run time limit (a native timer caps at 24 days) and are not retried. */
const TASK_POLICY = { timeout: "24d", retry: { times: 0 } };
/** Juice's own HTTP client gives a callback 20 s (connect, read and write each). */
const CALLBACK_TIMEOUT_MS = 20_000;
const MAX_IDS = 1000;

const ok = (data: unknown) => ({ status: 0, message: "OK", data });

export function juiceRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  app.use("/v1/tasks", guard(deps));
  app.use("/v1/tasks/*", guard(deps));

  app.post("/v1/tasks", async (c) => {
    const d = scoped(c, deps);
    const tenant = tenantOf(c);
    const task = parseTask(await readJson(c), tenant);
    // The callback goes where the tenant's jobs may go: refused now if that is already known (an address).
    const callbackUrl = task.compat.callbackUrl as string | undefined;
    const refused = callbackUrl === undefined ? null : egressPolicy(deps.config.egress).check(tenant, new URL(callbackUrl).hostname);
    if (refused) throw new JuiceError(INIT, `callbackUrl: ${refused}`);
    const name = generatedName("juice");
    const { job } = await putJob(d, tenant, name, task.job, { createOnly: true, compat: task.compat, secrets: task.secrets });
    try {
      await triggerJob(d, tenant, name, "api");
    } catch (e) {
      // The client gets no taskId: no task may be left behind, waiting forever at NOT_START.
      await removeJob(d, tenant, name).catch(() => {});
      throw e;
    }
    return c.json(ok({ taskId: job.id }));
  });

  app.get("/v1/tasks", async (c) => {
    const tenant = tenantOf(c);
    const d = scoped(c, deps);
    const tasks = await Promise.all(taskIds(c.req.query("taskIds")).map((id) => findTask(d, tenant, id)));
    // Like Juice's `WHERE task_id IN (…) AND tenant_id = ?`: unknown ids and other tenants' are left out.
    return c.json(ok(tasks.flatMap((t) => (t ? [taskItem(t.job, t.run)] : []))));
  });

  app.post("/v1/tasks/kill", async (c) => {
    const tenant = tenantOf(c);
    const raw = c.req.query("taskId");
    if (raw === undefined || raw.trim() === "") throw new JuiceError(NOT_NULL, "taskId is not null");
    const id = parseId(raw);
    if (id === null) throw new JuiceError(DATA_FORMAT, `taskId must be a task id (a positive integer up to 2^53-1), got ${JSON.stringify(raw)}`);
    const d = scoped(c, deps);
    const task = await findTask(d, tenant, id);
    if (!task) throw new JuiceError(NO_RECORD, "task not exist to kill!");
    return c.json(ok(await killTask(d, task)));
  });

  // Anything else under /v1/tasks answers in Juice's shape too (its status code as `status`), never the native one.
  const notAllowed = (allow: string) => (c: Context) => {
    c.header("Allow", allow);
    return c.json({ status: 405, message: `method ${c.req.method} is not supported here; use ${allow}` }, 405);
  };
  app.all("/v1/tasks", notAllowed("GET, POST"));
  app.all("/v1/tasks/kill", notAllowed("POST"));
  app.all("/v1/tasks/*", (c) => c.json({ status: 404, message: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.onError((err, c) => {
    if (err instanceof JuiceError) return c.json({ status: err.code, message: err.message }, 400);
    if (err instanceof DomainError) {
      const [http, code] = domainStatus(err.code);
      return c.json({ status: code, message: juiceMessage(err) }, http);
    }
    if (err instanceof HTTPException && err.status < 500) return c.json({ status: DATA_FORMAT, message: err.message || "bad request" }, 400);
    logFailure(deps.log, "juice", err, c.req.path);
    // Juice's handler of unexpected exceptions answers its HTTP status as the code.
    return c.json({ status: 500, message: "internal error; the request may not have been applied" }, 500);
  });

  return app;
}

/** HTTP status and Juice code for a domain error: 400 for what the client sent, 500 for the rest. */
function domainStatus(code: ErrorCode): [400 | 401 | 403 | 429 | 500, number] {
  switch (code) {
    case "invalid":
      return [400, INIT];
    case "unauthorized":
      return [401, 401];
    case "forbidden":
      return [403, 403];
    case "rate_limited":
      return [429, 429];
    case "not_found":
      return [400, NO_RECORD];
    case "too_large":
    case "unsupported_media_type":
      return [400, DATA_FORMAT];
    case "conflict":
    case "unavailable":
      return [500, 500];
  }
}

/** Native target fields named as the Juice body names them, so a refusal points at what the client sent. */
const FIELDS: [string, string][] = [
  ["target.container.image", "container.docker.image"],
  ["target.container.args", "args"],
  ["target.container.env", "env"],
  ["target.container.resources", "resources"],
  ["target.container", "container"],
  ["target.process.env", "env"],
  ["target.process.shell", "commands"],
  ["target.process", "commands"],
];

function juiceMessage(e: DomainError): string {
  const field = e.field;
  const named = field && renameField(field, FIELDS);
  return field && named ? e.message.split(field).join(named) : e.message;
}

/** The tenant: X-Tenant-Id, which is the native namespace. */
function tenantOf(c: Context): string {
  const tenant = c.req.header("x-tenant-id");
  if (tenant === undefined || tenant.trim() === "") throw new JuiceError(NOT_NULL, "X-Tenant-Id header is required (the tenant's id)");
  const r = v.safeParse(Name, tenant);
  if (!r.success) throw new JuiceError(DATA_FORMAT, `X-Tenant-Id ${r.issues[0].message}`);
  return tenant;
}

/** `taskIds`: ids split by commas, each trimmed (Juice's split), duplicates once. */
function taskIds(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === "") throw new JuiceError(NOT_NULL, "taskIds is not null");
  const parts = raw.split(",").map((s) => s.trim());
  if (parts.length > MAX_IDS) throw new JuiceError(DATA_FORMAT, `taskIds: at most ${MAX_IDS} ids per query`);
  const ids = parts.map(parseId);
  const bad = ids.indexOf(null);
  if (bad >= 0) {
    throw new JuiceError(DATA_FORMAT, `data format error, taskIds error: ${JSON.stringify(parts[bad])} is not a task id; correct taskIds are Long ids (at most 2^53-1) split by ','`);
  }
  return [...new Set(ids as number[])];
}

interface Task {
  job: JobView;
  run: RunView | null;
}

/** A job of this tenant by id with its latest run, or null (another tenant's task is not found either). */
async function findTask(deps: RequestDeps, tenant: string, id: number): Promise<Task | null> {
  let job: JobView;
  try {
    job = await getJobById(deps, id);
  } catch (e) {
    if (e instanceof DomainError && e.code === "not_found") return null;
    throw e;
  }
  if (job.namespace !== tenant) return null;
  const items = await recentRuns(deps, job.id, { offset: 0, limit: 1 });
  return { job, run: items[0] ?? null };
}

/** The Juice fields a job keeps, when Juice made it (a native PUT clears them). */
function juiceFields(job: JobView): { taskName?: string; callbackUrl?: string } {
  return job.compat?.api === "juice" ? (job.compat as { taskName?: string; callbackUrl?: string }) : {};
}

/** What ran, as Juice reports it: a container's image, or the command line. */
function runnable(job: JobView): { dockerImage: string } | { commands: string } | Record<string, never> {
  const t = job.target as Record<string, Record<string, unknown> | undefined>;
  if (t.container) return { dockerImage: t.container.tag ? `${t.container.image}:${t.container.tag}` : String(t.container.image) };
  if (t.process) return { commands: typeof t.process.shell === "string" ? t.process.shell : (t.process.command as string[]).join(" ") };
  if (t.script) return { commands: String(t.script.content) };
  return {};
}

/** The task's message, in Mesos's words where it has them ("Container exited with status 0"). */
function messageOf(job: JobView, run: RunView | null): string {
  if (!run || run.status === "queued") return "task is submit";
  if (run.status === "running") return "task is running";
  const exit = run.result?.exitCode;
  if ((run.status === "succeeded" || run.status === "failed") && typeof exit === "number") {
    return `${"container" in job.target ? "Container" : "Command"} exited with status ${exit}`;
  }
  if (run.status === "killed") return `task is killed${run.error ? ` (${run.error})` : ""}`;
  return run.error ?? `task ${run.status}`;
}

/** One item of the batch query (Juice's JuiceTask row), in the document's field order. */
function taskItem(job: JobView, run: RunView | null) {
  const { taskName, callbackUrl } = juiceFields(job);
  const ended = run?.endedAt && run.status !== "queued" && run.status !== "running" ? Date.parse(run.endedAt) : null;
  return {
    taskId: job.id,
    taskName: taskName ?? job.name,
    tenantId: job.namespace,
    ...runnable(job),
    taskStatus: statusOf(run)[0],
    message: messageOf(job, run),
    // Juice stamps callback_at when it records the final status of a task with a callbackUrl, before it sends.
    callbackAt: callbackUrl && ended !== null ? javaMediumDate(ended) : null,
    callbackUrl: callbackUrl ?? null,
    submitAt: javaMediumDate(Date.parse(job.createdAt!)),
  };
}

/** Kills the task's run if it is queued or running; like Juice, a task past RUNNING is left as it is. */
async function killTask(deps: RequestDeps, { job, run }: Task) {
  if (!run || (run.status !== "queued" && run.status !== "running")) return killView(false, job, run);
  try {
    const { run: now, ended } = await killRun(deps, run.id);
    if (!ended) return { submitKill: true, resultMessage: "juice accept kill task command", currentStatus: statusOf(now)[0] };
    return killView(true, job, now);
  } catch (e) {
    // It ended on its own between the read and the kill.
    if (e instanceof DomainError && e.code === "conflict") return killView(false, job, await getRun(deps, run.id));
    throw e;
  }
}

function killView(submitKill: boolean, job: JobView, run: RunView | null) {
  const currentStatus = statusOf(run)[0];
  const resultMessage = submitKill && run?.status === "killed" ? "task is killed" : run ? messageOf(job, run) : "task has not run; nothing to kill";
  return { submitKill, resultMessage, currentStatus };
}

// ---- the submitted body, checked in Juice's order (TaskUtils.checkRunMode) ----

type Json = Record<string, unknown>;

/** Gson reads null as absent. */
const given = (x: unknown) => x !== undefined && x !== null;
const blank = (s: string | undefined) => s === undefined || s.trim() === "";

function object(x: unknown, field: string): Json | undefined {
  if (!given(x)) return undefined;
  if (!isObject(x)) throw new JuiceError(INIT, `${field} must be a JSON object`);
  return x;
}

function string(x: unknown, field: string, max = 1 << 20): string | undefined {
  if (!given(x)) return undefined;
  if (typeof x !== "string") throw new JuiceError(INIT, `${field} must be a string`);
  if (x.length > max) throw new JuiceError(INIT, `${field} must be at most ${max} characters`);
  return x;
}

function number(x: unknown, field: string): number | undefined {
  if (!given(x)) return undefined;
  if (typeof x !== "number" || !Number.isFinite(x)) throw new JuiceError(INIT, `${field} must be a number`);
  return x;
}

function list(x: unknown, field: string): unknown[] | undefined {
  if (!given(x)) return undefined;
  if (!Array.isArray(x)) throw new JuiceError(INIT, `${field} must be a JSON array`);
  return x;
}

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `env`: the document's single {name, value}, or an array of them (Mesos takes several). Both non-blank, as Juice checks. */
function parseEnv(raw: unknown): Record<string, string> | undefined {
  if (!given(raw)) return undefined;
  const items = Array.isArray(raw) ? raw : [raw];
  const env: Record<string, string> = {};
  items.forEach((e, i) => {
    const at = Array.isArray(raw) ? `env[${i}]` : "env";
    const name = isObject(e) ? e.name : undefined;
    const value = isObject(e) ? e.value : undefined;
    if (typeof name !== "string" || typeof value !== "string" || blank(name) || blank(value)) {
      throw new JuiceError(INIT, `env format error, please check env format in requestBody! (${at} must be {"name": "…", "value": "…"} with non-blank strings)`);
    }
    if (!ENV_NAME.test(name)) throw new JuiceError(INIT, `${at}.name ${JSON.stringify(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`);
    if (UNKEPT_KEYS.includes(name)) throw new JuiceError(INIT, `${at}.name ${JSON.stringify(name)} is a name tock cannot keep`);
    env[name] = value;
  });
  return items.length ? env : undefined;
}

function parseArgs(raw: unknown): string[] | undefined {
  const args = list(raw, "args");
  if (!args?.length) return undefined;
  if (!args.every((a) => typeof a === "string" && !blank(a))) throw new JuiceError(INIT, "args format error, please check args format in requestBody! (args must be non-blank strings)");
  return args as string[];
}

function parseConstraints(raw: unknown): { field: string; values: string[] } | undefined {
  const c = object(raw, "constraints");
  if (!c) return undefined;
  const field = string(c.field, "constraints.field", 64);
  if (blank(field)) throw new JuiceError(NOT_NULL, "constraints.field should not null!");
  const lower = field!.toLowerCase();
  if (lower !== "rack_id" && lower !== "hostname") throw new JuiceError(NOT_EQUAL, "constraints.field should be one of (rack_id, hostname)!");
  const values = list(c.values, "constraints.values");
  if (!values?.length) throw new JuiceError(NOT_NULL, "constraints.values should not null!");
  if (!values.every((x) => typeof x === "string" && !blank(x) && x.length <= 255)) {
    throw new JuiceError(NOT_EQUAL, "constraints.values should not have null value when use constrains mode! (each must be a non-blank string)");
  }
  return { field: lower, values: [...new Set(values as string[])] };
}

/** The parts of Juice's Docker object tock has no use for: accepted at the values Juice's SDK sends by default. */
function checkDocker(container: Json, docker: Json): void {
  const type = string(container.type, "container.type", 16);
  if (type !== undefined && type !== "DOCKER" && type !== "MESOS") throw new JuiceError(NOT_EQUAL, `container.type must be DOCKER or MESOS, got ${JSON.stringify(type)}`);
  if (given(docker.forcePullImage) && typeof docker.forcePullImage !== "boolean") throw new JuiceError(INIT, "container.docker.forcePullImage must be true or false");
  if (given(docker.privileged) && typeof docker.privileged !== "boolean") throw new JuiceError(INIT, "container.docker.privileged must be true or false");
  if (docker.privileged === true) throw new JuiceError(NOT_EQUAL, "container.docker.privileged: tock does not run privileged containers");
  const net = string(docker.net, "container.docker.net", 16);
  if (net !== undefined && !["BRIDGE", "HOST", "NONE", "USER"].includes(net)) throw new JuiceError(NOT_EQUAL, "container.docker.net must be one of BRIDGE, HOST, NONE, USER");
  for (const [field, x] of [["container.volumes", container.volumes], ["container.docker.parameters", docker.parameters], ["container.docker.portMappings", docker.portMappings]] as const) {
    if (list(x, field)?.length) throw new JuiceError(NOT_EQUAL, `${field} is not supported by tock (the operator's executors.container run_args decide mounts, ports and engine options)`);
  }
}

/** The native job (and the Juice fields it keeps) for a submitted task; throws JuiceError naming the field. */
const CALLBACK_SECRET = "compat.callbackUrl";

/** A URL with its password (if any) as SECRET: what a task shows of its callbackUrl. */
function withoutPassword(url: string): string {
  const u = new URL(url);
  if (u.password === "") return url;
  u.password = SECRET;
  return u.href;
}

function parseTask(body: unknown, tenant: string): { job: Json; compat: { api: string } & Json; secrets?: Record<string, string> } {
  if (body === undefined) throw new JuiceError(NOT_NULL, "requestBody is not null");
  if (!isObject(body)) throw new JuiceError(INIT, "requestBody must be a JSON object (a task)");
  const taskName = string(body.taskName, "taskName", 255);
  if (blank(taskName)) throw new JuiceError(NOT_NULL, "task name not null!");

  const r = object(body.resources, "resources");
  // Juice clamps what it is given (cpu 0.1-16, mem 256-16384 MB; a missing one is 0, so the minimum).
  const resources = r && { cpu: clamp(number(r.cpu, "resources.cpu") ?? 0, 0.1, 16), mem: clamp(number(r.mem, "resources.mem") ?? 0, 256, 16384) };
  const env = parseEnv(body.env);
  const args = parseArgs(body.args);
  const constraints = parseConstraints(body.constraints);
  const callbackUrl = string(body.callbackUrl, "callbackUrl", 2048);
  if (!blank(callbackUrl) && !v.safeParse(HttpTarget, { url: callbackUrl }).success) throw new JuiceError(INIT, "callbackUrl must be an absolute http:// or https:// URL");

  // A callbackUrl's credentials are secret: kept sealed with the job, the URL shown without them.
  const url = blank(callbackUrl) ? undefined : callbackUrl!;
  const shown = url && withoutPassword(url);
  const secrets = url && shown !== url ? { [CALLBACK_SECRET]: url } : undefined;
  const compat = { api: "juice", tenant, taskName: taskName!, callbackUrl: shown, constraints, resources };
  const container = object(body.container, "container");
  const docker = container && object(container.docker, "container.docker");
  // As Juice: a container with a docker object wins over commands.
  if (container && docker) {
    const image = string(docker.image, "container.docker.image", 4096);
    if (blank(image)) throw new JuiceError(NOT_NULL, "docker image not set with use container run mode");
    checkDocker(container, docker);
    const limits = resources && { cpus: resources.cpu, memory: `${Math.round(resources.mem)}m` };
    return { job: { target: { container: { image, args, env, resources: limits } }, ...TASK_POLICY }, compat: { ...compat, runMode: "CONTAINER" }, secrets };
  }
  const commands = string(body.commands, "commands");
  if (blank(commands)) throw new JuiceError(NOT_NULL, "must set docker or command!");
  // Mesos runs a command task's value with `sh -c`; its args apply to containers only (Juice drops them).
  return { job: { target: { process: { shell: commands, env } }, ...TASK_POLICY }, compat: { ...compat, runMode: "COMMAND" }, secrets };
}

// ---- completion callbacks ----

export type CallbackDeps = RouteDeps & { executors: Pick<Executors, "http"> };

/**
 * POSTs each finished Juice task's result to its callbackUrl, as Juice does: body `{taskId, result, message}`
 * (TaskResult, `result` by name), header X-Tenant-ID. Sent by the node that finished the run, once, by the
 * HTTP executor; a failure is logged, not retried. Returns the unsubscribe function.
 */
export function juiceHooks(deps: CallbackDeps): () => void {
  return deps.scheduler.events.on("run:finished", (ev) => {
    if (!ev.jobName.startsWith("juice-")) return; // every Juice task's native name; most runs stop here
    void sendCallback(deps, ev).catch((e) => deps.log.warn("juice callback failed", { run: ev.runId, error: e instanceof Error ? e.message : String(e) }));
  });
}

async function sendCallback(app: CallbackDeps, ev: RunEvent): Promise<void> {
  const deps = { ...app, access: FULL_ACCESS }; // tock's own work, not a request's
  let job: JobView;
  try {
    job = await getJobById(deps, ev.jobId);
  } catch (e) {
    if (e instanceof DomainError && e.code === "not_found") return; // removed meanwhile
    throw e;
  }
  const { callbackUrl: shown } = juiceFields(job);
  if (!shown) return;
  const callbackUrl = (await jobSecrets(deps, job.id))[CALLBACK_SECRET] ?? shown;
  // The event's status is the run's end even if recording it failed.
  const run = { ...(await getRun(deps, ev.runId)), status: ev.status };
  const body = JSON.stringify({ taskId: job.id, result: statusOf(run)[1], message: messageOf(job, run) });
  const target = { url: callbackUrl, method: "POST", headers: { "X-Tenant-ID": job.namespace, "content-type": "application/json; charset=utf-8" }, body };
  const request = { runId: run.id, key: run.webhookId, namespace: job.namespace, jobName: job.name, scheduledAt: ev.scheduledAt, attempt: ev.attempt, target, payload: null };
  const outcome = await deps.executors.http.execute(request, AbortSignal.timeout(CALLBACK_TIMEOUT_MS));
  if (outcome.status === "failed") deps.log.warn("juice callback failed", { run: run.id, taskId: job.id, url: shown, error: outcome.error });
}
