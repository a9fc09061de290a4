// Native container jobs and their runs in Alauda's shapes: a job as the detail, create and update examples
// show it, a list item, an exec and an exec's detail. A native container job renders from its native fields
// where it has no Alauda ones.
import type { RouteDeps } from "../../api/deps.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { rfc3339 } from "../common/time.ts";
import { containerOf, joinCommand, type Size, sizeOf } from "./container.ts";
import { execId } from "./execs.ts";

type ViewDeps = Pick<RouteDeps, "config">;

/** ISO 8601 with microseconds and an explicit +00:00 offset, as Alauda writes: 2015-12-28T14:31:07.639255+00:00. */
function isoMicros(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000+00:00`;
}

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

/** The Alauda fields of a native job kept in its compat column (absent when another API or a native PUT wrote it last). */
function alaudaCompat(job: JobView): Record<string, unknown> | null {
  return job.compat?.api === "alauda" ? job.compat : null;
}

const str = (x: unknown, fallback: string): string => (typeof x === "string" ? x : fallback);

/** Renders a native container job as an Alauda job. */
export function renderJob(deps: ViewDeps, job: JobView): AlaudaJob {
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
export function renderListItem(deps: ViewDeps, job: JobView): AlaudaJob {
  return { ...renderJob(deps, job), created_at: rfc3339(Date.parse(job.createdAt!)), updated_at: rfc3339(Date.parse(job.updatedAt!)) };
}

/**
 * Exec status letters: W waiting and F finished are the document's; R running, E error (failed, timed out,
 * or lost with its node) and S stopped (killed, or skipped by the overlap policy) complete the set.
 */
const STATUS: Record<string, string> = {
  queued: "W",
  running: "R",
  succeeded: "F",
  failed: "E",
  timed_out: "E",
  lost: "E",
  killed: "S",
  skipped: "S",
};

/** M: started by a request (the document's); S: started by the schedule, or by tock for it (retries, recovery). */
const triggerMode = (trigger: string) => (trigger === "manual" || trigger === "api" ? "M" : "S");

const micros = (iso: string | null) => (iso === null ? null : isoMicros(Date.parse(iso)));

function duration(run: RunView) {
  if (run.startedAt === null || run.endedAt === null) return null;
  const s = Math.max(0, Math.floor((Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000));
  return { hours: Math.floor(s / 3600), minutes: Math.floor((s % 3600) / 60), seconds: s % 60 };
}

/**
 * An exec as the trigger and list examples show it. Image, command, size and variables are the job's
 * current ones (runs keep no copy), with any variables the run's own trigger added.
 */
export function renderExec(deps: ViewDeps, job: JobView, run: RunView) {
  const j = renderJob(deps, job);
  return {
    id: execId(run.id),
    job: job.id,
    docker_image_repo: j.docker_image_repo,
    status: STATUS[run.status] ?? "E",
    created_at: isoMicros(Date.parse(run.dueAt!)),
    started_at: micros(run.startedAt),
    ended_at: micros(run.endedAt),
    runtime_vars: { ...j.runtime_vars, ...run.params?.env },
    resource_size: j.resource_size,
    created_by: j.created_by,
    docker_image_tag: j.docker_image_tag,
    command: j.command,
    trigger_mode: triggerMode(run.trigger),
    duration: duration(run),
    region_name: j.region_name,
  };
}

/**
 * The detail shape: the job embedded as an object with `email_enabled` (tock sends no mail: false) and
 * `runtime_vars` as a JSON string written the way Python's json.dumps writes it, as the document shows.
 */
export function renderExecDetail(deps: ViewDeps, job: JobView, run: RunView) {
  const j = renderJob(deps, job);
  const { runtime_vars, ...rest } = j;
  return { ...renderExec(deps, job, run), job: { ...rest, email_enabled: false, runtime_vars: pythonJson(runtime_vars) } };
}

/** json.dumps of a flat object with Python's defaults: ", " and ": " separators, non-ASCII escaped. */
function pythonJson(o: Record<string, string>): string {
  const ascii = (s: string) => JSON.stringify(s).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `{${Object.entries(o).map(([k, v]) => `${ascii(k)}: ${ascii(v)}`).join(", ")}}`;
}
