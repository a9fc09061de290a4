// Alauda jobs <-> native container jobs. An Alauda job is a container (`docker_image_repo`:`docker_image_tag`
// run with `command` and `runtime_vars`) on an ISO 8601 repeating `schedule_mode`, or manual when that is
// null. Its free-text `name` and the fields with no native home live in the job's compat fields; the
// native name is generated. Any native container job renders too, from its native fields alone.
import * as v from "valibot";
import type { RequestDeps, RouteDeps } from "../../api/deps.ts";
import { conflict, DomainError, invalid, notFound } from "../../domain/errors.ts";
import { checkName, type Compat, getJobById, putJob } from "../../domain/jobs.ts";
import { keepingKeys, parseInput } from "../../domain/schemas.ts";
import { type JobView } from "../../domain/views.ts";
import { REPEAT_PREFIX } from "../../schedule/iso8601.ts";
import { generatedName, parseId } from "../common/ids.ts";
import { isoMicros, rfc3339 } from "../common/time.ts";
import { joinCommand, splitCommand } from "./command.ts";

/**
 * Alauda's container sizes (XXS and XS are the two its jobs offered) as engine limits: the CPU share and
 * memory of its service sizes, doubling from XXS (0.125 CPU, 128 MiB).
 */
export const SIZES = {
  XXS: { cpus: 0.125, memory: "128m" },
  XS: { cpus: 0.25, memory: "256m" },
} as const;
export type Size = keyof typeof SIZES;

const text = (what = "must be a string") => v.string(what);
const noNul = v.check((s: string) => !s.includes("\0"), "must not contain NUL");

/** The Alauda job fields a request may carry; unknown and read-only keys are ignored, as Alauda's API did. */
const Fields = v.object({
  name: v.optional(v.pipe(text(), v.check((s) => s.trim() !== "", "must not be empty"), v.maxLength(200, "must be at most 200 characters"), noNul)),
  namespace: v.optional(text()),
  command: v.nullish(v.pipe(text(), v.maxLength(32_768, "must be at most 32 KiB"), noNul)),
  docker_image_repo: v.optional(text()),
  docker_image_tag: v.nullish(text()),
  resource_size: v.optional(v.picklist(["XXS", "XS"], "must be XXS or XS")),
  region_name: v.nullish(text()),
  is_schedule_active: v.optional(v.boolean("must be true or false")),
  schedule_mode: v.optional(v.nullable(v.pipe(text("must be an ISO 8601 repeating interval such as R1/2015-12-31T16:00:23.446Z/PT1H, or null"), v.maxLength(200)))),
  runtime_vars: v.nullish(
    v.pipe(
      v.unknown(),
      v.check((o) => !Array.isArray(o), "must be an object of variable names to string values"),
      keepingKeys(v.record(text(), text("must be a string"), "must be an object of variable names to string values")),
    ),
  ),
});
type Fields = v.InferOutput<typeof Fields>;

/** An Alauda job as its API shows it (the detail and create/update shape, in the document's key order). */
export interface AlaudaJob {
  id: number;
  created_by: string;
  command: string;
  docker_image_repo: string;
  docker_image_tag: string;
  name: string;
  region_name: string;
  namespace: string;
  created_at: string;
  updated_at: string;
  resource_size: Size | null;
  schedule_mode: string | null;
  is_schedule_active: boolean;
  runtime_vars: Record<string, string>;
}

type Container = {
  image: string;
  tag?: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  resources?: { cpus?: number; memory?: string };
};

const containerOf = (job: JobView) => (job.target as { container?: Container }).container;

/** The Alauda fields of a native job kept in its compat column (absent when another API or a native PUT wrote it last). */
function alaudaCompat(job: JobView): Record<string, unknown> | null {
  return job.compat?.api === "alauda" ? job.compat : null;
}

const str = (x: unknown, fallback: string): string => (typeof x === "string" ? x : fallback);

function sizeOf(resources: Container["resources"]): Size | null {
  for (const size of Object.keys(SIZES) as Size[]) {
    if (resources?.cpus === SIZES[size].cpus && resources?.memory === SIZES[size].memory) return size;
  }
  return null;
}

/** Renders a native container job as an Alauda job. */
export function renderJob(deps: RouteDeps, job: JobView): AlaudaJob {
  const t = containerOf(job)!;
  const c = alaudaCompat(job);
  const size = c?.resource_size;
  return {
    id: job.id,
    created_by: str(c?.created_by, job.namespace),
    command: str(c?.command, joinCommand([...(t.command ?? []), ...(t.args ?? [])])),
    docker_image_repo: t.image,
    docker_image_tag: t.tag ?? "latest",
    name: str(c?.name, job.name),
    region_name: str(c?.region_name, deps.config.compat.alaudaRegion),
    namespace: job.namespace,
    created_at: isoMicros(Date.parse(job.createdAt!)),
    updated_at: isoMicros(Date.parse(job.updatedAt!)),
    resource_size: size === "XXS" || size === "XS" ? size : sizeOf(t.resources),
    schedule_mode: job.schedule,
    is_schedule_active: job.enabled,
    runtime_vars: t.env ?? {},
  };
}

/** A list item: the document's list example writes times with milliseconds and `Z` (a quirk kept on purpose). */
export function renderListItem(deps: RouteDeps, job: JobView): AlaudaJob {
  return { ...renderJob(deps, job), created_at: rfc3339(Date.parse(job.createdAt!)), updated_at: rfc3339(Date.parse(job.updatedAt!)) };
}

/** The job an Alauda path names: a container job by its numeric id; anything else is not an Alauda job (404). */
export async function loadJob(deps: RequestDeps, raw: string): Promise<JobView> {
  const id = parseId(raw);
  if (id === null) throw notFound(`job ${raw} not found`);
  const job = await getJobById(deps, id);
  if (!containerOf(job)) throw notFound(`job ${raw} not found`);
  return job;
}

function parseFields(body: unknown): Fields {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("body must be a JSON object", "body");
  return parseInput(Fields, body);
}

export async function createJob(deps: RequestDeps, body: unknown): Promise<JobView> {
  const f = parseFields(body);
  for (const field of ["name", "namespace", "docker_image_repo"] as const) {
    if (f[field] === undefined) throw invalid(`${field} is required`, field);
  }
  const ns = checkName(f.namespace!, "namespace");
  const want: Wanted = {
    name: f.name!,
    command: f.command ?? "",
    repo: f.docker_image_repo!,
    tag: f.docker_image_tag ?? "latest",
    size: f.resource_size ?? "XS",
    region: checkRegion(deps, f.region_name),
    active: f.is_schedule_active ?? false,
    schedule: checkSchedule(f.schedule_mode ?? null, null),
    vars: f.runtime_vars ?? {},
    createdBy: ns,
  };
  const native = nativeBody(null, f, want);
  return (await put(deps, ns, generatedName("alauda"), native, { createOnly: true, compat: compatOf(want) })).job;
}

/** Updates the fields the request carries and keeps the rest (the document's example sends a subset). */
export async function updateJob(deps: RequestDeps, job: JobView, body: unknown): Promise<JobView> {
  const f = parseFields(body);
  if (f.namespace !== undefined && f.namespace !== job.namespace) throw invalid("namespace cannot be changed; create the job in the other namespace instead", "namespace");
  if (job.dueTime !== null || job.ttl !== null) {
    throw conflict(`job ${job.id} uses dueTime or ttl, which the Alauda API cannot express; update it through /api/v1`);
  }
  const now = renderJob(deps, job);
  const want: Wanted = {
    name: f.name ?? now.name,
    command: f.command === undefined ? now.command : (f.command ?? ""),
    repo: f.docker_image_repo ?? now.docker_image_repo,
    tag: f.docker_image_tag === undefined ? now.docker_image_tag : (f.docker_image_tag ?? "latest"),
    size: f.resource_size ?? now.resource_size,
    region: f.region_name === undefined ? now.region_name : checkRegion(deps, f.region_name),
    active: f.is_schedule_active ?? now.is_schedule_active,
    schedule: f.schedule_mode === undefined ? job.schedule : checkSchedule(f.schedule_mode, job.schedule),
    vars: f.runtime_vars === undefined ? now.runtime_vars : (f.runtime_vars ?? {}),
    createdBy: now.created_by,
  };
  const native = nativeBody(job, f, want);
  return (await put(deps, job.namespace, job.name, native, { ifVersion: job.version, compat: compatOf(want) })).job;
}

interface Wanted {
  name: string;
  command: string;
  repo: string;
  tag: string;
  size: Size | null;
  region: string;
  active: boolean;
  schedule: string | null;
  vars: Record<string, string>;
  createdBy: string;
}

function compatOf(w: Wanted): Compat {
  return { api: "alauda", name: w.name, command: w.command, resource_size: w.size, region_name: w.region, created_by: w.createdBy };
}

function checkRegion(deps: RouteDeps, region: string | null | undefined): string {
  const served = deps.config.compat.alaudaRegion;
  if (region == null || region === "") return served;
  if (region !== served) throw invalid(`region_name: only ${served} is served here`, "region_name");
  return region;
}

/** A new schedule must be an ISO 8601 repeating interval; the job's current schedule (cron, say, on a native job) may be sent back as it is. */
function checkSchedule(mode: string | null, current: string | null): string | null {
  if (mode === null || mode === current) return mode;
  if (!REPEAT_PREFIX.test(mode.trim())) {
    throw invalid("schedule_mode must be an ISO 8601 repeating interval such as R1/2015-12-31T16:00:23.446Z/PT1H, or null", "schedule_mode");
  }
  return mode;
}

/**
 * The native job body: the container and schedule from the Alauda fields, over what the current job has
 * that Alauda cannot express (policies, an entrypoint override, bounds of an unchanged schedule).
 */
function nativeBody(job: JobView | null, f: Fields, w: Wanted): Record<string, unknown> {
  const lastSegment = w.repo.slice(w.repo.lastIndexOf("/") + 1);
  if (lastSegment.includes(":") || w.repo.includes("@")) {
    throw invalid("docker_image_repo must not include a tag or digest; give the tag in docker_image_tag", "docker_image_repo");
  }
  const t: Container = { ...(job ? containerOf(job) : undefined), image: w.repo, tag: w.tag };
  if (!job || f.command !== undefined) {
    delete t.command; // Alauda's command is the container's command (docker run IMAGE COMMAND), not its entrypoint
    const argv = splitCommand(w.command);
    if (argv.length > 0) t.args = argv;
    else delete t.args;
  }
  if (!job || f.runtime_vars !== undefined) {
    if (Object.keys(w.vars).length > 0) t.env = w.vars;
    else delete t.env;
  }
  if (w.size !== null && (!job || f.resource_size !== undefined)) t.resources = { ...SIZES[w.size] };

  const body: Record<string, unknown> = { target: { container: t }, enabled: w.active };
  if (w.schedule !== null) body.schedule = w.schedule;
  if (job) {
    const keep = (key: keyof JobView) => {
      if (job[key] !== null) body[key] = job[key];
    };
    for (const key of ["timezone", "timeout", "retry", "overlap", "maxConcurrency", "misfire", "payload", "memo"] as const) keep(key);
    if (Object.keys(job.labels).length > 0) body.labels = job.labels;
    // Bounds belong to the schedule they were compiled with (an ISO `Rn` sets both repeats and endAt).
    if (w.schedule === job.schedule) for (const key of ["repeats", "startAt", "endAt"] as const) keep(key);
  }
  return body;
}

/** Native field paths of the body nativeBody builds, as the Alauda fields they came from. */
const FIELDS: [RegExp, string][] = [
  [/^target\.container\.image$/, "docker_image_repo"],
  [/^target\.container\.tag$/, "docker_image_tag"],
  [/^target\.container\.(?:args|command)(?:\.\d+)?$/, "command"],
  [/^target\.container\.env/, "runtime_vars"], // keeps the variable's name: runtime_vars.PATH
  [/^target\.container\.resources.*$/, "resource_size"],
  [/^(?:schedule|dueTime|repeats|ttl|startAt|endAt|timezone)$/, "schedule_mode"],
  [/^enabled$/, "is_schedule_active"],
];

function alaudaField(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  for (const [re, name] of FIELDS) if (re.test(field)) return field.replace(re, name);
  return field.startsWith("target") ? undefined : field; // target.container: the server's config, no request field
}

/** putJob, with its errors naming the Alauda fields. */
async function put(deps: RequestDeps, ns: string, name: string, body: unknown, opts: Parameters<typeof putJob>[4]) {
  try {
    return await putJob(deps, ns, name, body, opts);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    const field = alaudaField(e.field);
    const message = e.field && field !== e.field ? e.message.replace(e.field, field ?? "the container target") : e.message;
    throw new DomainError("invalid", message, field);
  }
}
