// A Juice request into native terms: the tenant (X-Tenant-Id, the native namespace), task ids, and a
// submitted task as a native manual job, checked in Juice's order with Juice's codes.
import type { Context } from "hono";
import * as v from "valibot";
import { SECRET } from "../../domain/secrets.ts";
import { HttpTarget, Name, UNKEPT_KEYS } from "../../domain/schemas.ts";
import { parseId } from "../common/ids.ts";
import { isObject } from "../common/request.ts";
import { DATA_FORMAT, INIT, JuiceError, NOT_EQUAL, NOT_NULL } from "./errors.ts";

/** Juice tasks have no run time limit (a native timer caps at 24 days) and are not retried. */
const TASK_POLICY = { timeout: "24d", retry: { times: 0 } };

const MAX_IDS = 1000;

/** The tenant: X-Tenant-Id, which is the native namespace. */
export function tenantOf(c: Context): string {
  const tenant = c.req.header("x-tenant-id");
  if (tenant === undefined || tenant.trim() === "") throw new JuiceError(NOT_NULL, "X-Tenant-Id header is required (the tenant's id)");
  const r = v.safeParse(Name, tenant);
  if (!r.success) throw new JuiceError(DATA_FORMAT, `X-Tenant-Id ${r.issues[0].message}`);
  return tenant;
}

/** `taskIds`: ids split by commas, each trimmed (Juice's split), duplicates once. */
export function taskIds(raw: string | undefined): number[] {
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

/** `taskId` of a kill: one task id. */
export function taskId(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") throw new JuiceError(NOT_NULL, "taskId is not null");
  const id = parseId(raw);
  if (id === null) throw new JuiceError(DATA_FORMAT, `taskId must be a task id (a positive integer up to 2^53-1), got ${JSON.stringify(raw)}`);
  return id;
}

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

/** The name under which a task's callbackUrl is sealed when it carries a password. */
export const CALLBACK_SECRET = "compat.callbackUrl";

/** A URL with its password (if any) as SECRET: what a task shows of its callbackUrl. */
function withoutPassword(url: string): string {
  const u = new URL(url);
  if (u.password === "") return url;
  u.password = SECRET;
  return u.href;
}

/**
 * The native job (and the Juice fields it keeps, and the sealed callbackUrl) for a submitted task, checked
 * in Juice's order (TaskUtils.checkRunMode); throws JuiceError naming the field.
 */
export function parseTask(body: unknown, tenant: string): { job: Json; compat: { api: string } & Json; secrets?: Record<string, string> } {
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
