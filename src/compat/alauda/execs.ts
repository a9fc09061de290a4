// Alauda job executions ("execs") are native runs. An exec id is a UUID that carries the run id, so no
// mapping is stored; statuses, trigger modes and durations are read off the run.
import type { RequestDeps, RouteDeps } from "../../api/deps.ts";
import { DomainError, invalid, notFound } from "../../domain/errors.ts";
import { getRun } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { MAX_ID } from "../common/ids.ts";
import { isoMicros } from "../common/time.ts";
import { renderJob } from "./jobs.ts";

/**
 * `a1a0da00-0000-4000-8xxx-xxxxxxxxxxxx`: a version 4, RFC 4122 variant UUID whose last 15 hex digits are
 * the run id (any id up to 2^53 - 1 fits), so a client sees the UUID the document shows and tock reads the
 * run back without a lookup table.
 */
const EXEC_ID = /^a1a0da00-0000-4000-8([0-9a-f]{3})-([0-9a-f]{12})$/i;

export function execId(runId: number): string {
  const hex = runId.toString(16).padStart(15, "0");
  return `a1a0da00-0000-4000-8${hex.slice(0, 3)}-${hex.slice(3)}`;
}

/** The run of an exec id, or null when the text is not an exec id tock issues. */
export function runIdOf(raw: string): number | null {
  const m = EXEC_ID.exec(raw);
  if (!m) return null;
  const n = BigInt(`0x${m[1]}${m[2]}`);
  return n >= 1n && n <= BigInt(MAX_ID) ? Number(n) : null;
}

/** The run an exec id names, if it is a run of `job` (an exec of another job is not found). */
export async function loadExec(deps: RequestDeps, job: JobView, raw: string): Promise<RunView> {
  const id = runIdOf(raw);
  const missing = () => notFound(`exec ${raw} of job ${job.id} not found`);
  if (id === null) throw missing();
  let run: RunView;
  try {
    run = await getRun(deps, id);
  } catch (e) {
    throw e instanceof DomainError && e.code === "not_found" ? missing() : e;
  }
  if (run.namespace !== job.namespace || run.jobName !== job.name) throw missing();
  return run;
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
export function renderExec(deps: RouteDeps, job: JobView, run: RunView) {
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
export function renderExecDetail(deps: RouteDeps, job: JobView, run: RunView) {
  const j = renderJob(deps, job);
  const { runtime_vars, ...rest } = j;
  return { ...renderExec(deps, job, run), job: { ...rest, email_enabled: false, runtime_vars: pythonJson(runtime_vars) } };
}

/** json.dumps of a flat object with Python's defaults: ", " and ": " separators, non-ASCII escaped. */
function pythonJson(o: Record<string, string>): string {
  const ascii = (s: string) => JSON.stringify(s).replace(/[\u0080-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `{${Object.entries(o).map(([k, v]) => `${ascii(k)}: ${ascii(v)}`).join(", ")}}`;
}

/** A log time bound: Unix seconds (UTC), as the document's example; empty means no bound. */
export function unixSeconds(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,11}$/.test(raw)) throw invalid(`${field} must be a Unix time in seconds, such as 1451350945`, field);
  return Number(raw);
}
