// An Alauda job body into the native container job. An Alauda job is a container (`docker_image_repo`:
// `docker_image_tag` run with `command` and `runtime_vars`) on an ISO 8601 repeating `schedule_mode`, or
// manual when that is null. Its free-text `name` and the fields with no native home live in the job's
// compat fields; the native name is generated.
import * as v from "valibot";
import type { RouteDeps } from "../../api/deps.ts";
import { conflict, invalid } from "../../domain/errors.ts";
import { checkName, type Compat } from "../../domain/job-input.ts";
import { keepingKeys, parseInput } from "../../domain/schemas.ts";
import { type JobView } from "../../domain/views.ts";
import { REPEAT_PREFIX } from "../../schedule/iso8601.ts";
import { type Container, containerOf, type Size, SIZES, splitCommand } from "./container.ts";
import { renderJob } from "./view.ts";

type Deps = Pick<RouteDeps, "config">;

/** A native job to put: its body and the Alauda fields it keeps. */
export interface NativeJob {
  body: Record<string, unknown>;
  compat: Compat;
}

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

function parseFields(body: unknown): Fields {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("body must be a JSON object", "body");
  return parseInput(Fields, body);
}

/** A create's native job and the namespace it goes to. */
export function createInput(deps: Deps, body: unknown): NativeJob & { namespace: string } {
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
  return { namespace: ns, body: withNotify(nativeBody(null, f, want), deps), compat: compatOf(want) };
}

/** An update's native job: the fields the request carries change, the rest stay (the document's example sends a subset). */
export function updateInput(deps: Deps, job: JobView, body: unknown): NativeJob {
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
  return { body: withNotify(nativeBody(job, f, want), deps), compat: compatOf(want) };
}

/**
 * Alauda's jobs notify [compat] alauda_notify_url of their failures, timeouts, exhausted retries and
 * recoveries (the API has no field of its own for it); with none configured, a job keeps what it has.
 */
function withNotify(body: Record<string, unknown>, deps: Deps): Record<string, unknown> {
  const url = deps.config.compat.alaudaNotifyUrl;
  if (url) body.notify = [{ on: ["failure", "timeout", "retries_exhausted", "recovered"], http: { url }, data: { api: "alauda" } }];
  return body;
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

function checkRegion(deps: Deps, region: string | null | undefined): string {
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
    if (job.notify.length > 0) body.notify = job.notify;
    if (Object.keys(job.labels).length > 0) body.labels = job.labels;
    // Bounds belong to the schedule they were compiled with (an ISO `Rn` sets both repeats and endAt).
    if (w.schedule === job.schedule) for (const key of ["repeats", "startAt", "endAt"] as const) keep(key);
  }
  return body;
}

/** A log time bound: Unix seconds (UTC), as the document's example; empty means no bound. */
export function unixSeconds(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,11}$/.test(raw)) throw invalid(`${field} must be a Unix time in seconds, such as 1451350945`, field);
  return Number(raw);
}
