// Many jobs of one namespace created or replaced in one request: each validated as a PUT would be, every bad
// one named, and then all of them written in one transaction, or none.
import { type JobFields, namesStored } from "../store/jobs.ts";
import { type Saved, savedRow, upsertJobsAtomically } from "../store/job-writes.ts";
import { audit, mayChange } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { DomainError, forbidden, invalid, type ItemProblem, notFound } from "./errors.ts";
import { checkName, compileJob, fromJobView } from "./job-input.ts";
import { rowFields } from "./jobs.ts";
import { counted, maxJobsOf } from "./quota.ts";
import * as v from "valibot";
import { namespaceJobCount } from "../store/namespaces.ts";
import { JobInput, Name } from "./schemas.ts";

/** The most jobs one batch request may hold. */
export const MAX_BATCH = 10_000;

/** A batch's body, as the API documents it (each job is then checked as a PUT checks it, every bad one named). */
export const JobBatch = v.strictObject({
  jobs: v.pipe(v.array(v.strictObject({ name: Name, ...JobInput.entries })), v.minLength(1), v.maxLength(MAX_BATCH)),
});

export interface BatchResult {
  created: number;
  replaced: number;
  /** Each job as written, in the order given. */
  items: { name: string; id: number; version: number; created: boolean; nextFireAt: string | null }[];
}

/**
 * Creates or replaces the jobs of `body` ({"jobs": [{"name", …job}, …]}, each as a PUT takes it, what a GET
 * returned included) in namespace `ns`: all of them in one transaction, or, when any is refused, none, with
 * a 400 listing every refused item.
 */
export async function putJobs(deps: DomainDeps, ns: string, body: unknown): Promise<BatchResult> {
  checkName(ns, "namespace");
  mayChange(deps.access, ns, () => notFound(`namespace ${ns} not found`));
  const list = jobsOf(body);
  const now = deps.clock.now();
  const problems: ItemProblem[] = [];
  const seen = new Map<string, number>();
  const fields: JobFields[] = [];
  for (const [index, item] of list.entries()) {
    const name = item !== null && typeof item === "object" && !Array.isArray(item) ? (item as { name?: unknown }).name : undefined;
    try {
      if (typeof name !== "string") throw invalid("each job needs its name (a string)", "name");
      checkName(name, "name");
      const first = seen.get(name);
      if (first !== undefined) throw invalid(`${name} is job ${first} of this batch already`, "name");
      seen.set(name, index);
      fields.push(await compiled(deps, ns, name, item, now));
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      problems.push({ index, ...(typeof name === "string" ? { name } : {}), ...(e.field ? { field: e.field } : {}), message: e.message });
    }
  }
  if (problems.length > 0) {
    const first = problems[0];
    throw new DomainError("invalid", `${problems.length} of ${list.length} jobs refused, nothing written; the first, jobs[${first.index}]${first.name ? ` (${first.name})` : ""}: ${first.message}`, "jobs", problems);
  }
  const stored = await namesStored(deps.store, ns, fields.map((f) => f.name));
  await checkRoom(deps, ns, fields.length - stored.size);
  const saved = await upsertJobsAtomically(deps.store, fields);
  return finish(deps, ns, fields, saved);
}

/** The jobs of a batch body, or 400. */
function jobsOf(body: unknown): unknown[] {
  const jobs = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as { jobs?: unknown }).jobs : undefined;
  if (!Array.isArray(jobs)) throw invalid('body must be {"jobs": [ … ]}: an object whose jobs is an array of jobs, each with its name', "jobs");
  const other = Object.keys(body as object).find((k) => k !== "jobs");
  if (other !== undefined) throw invalid(`${other} is not a field of a batch: the body holds jobs only`, other);
  if (jobs.length === 0) throw invalid("jobs is empty: give 1 to 10,000 jobs", "jobs");
  if (jobs.length > MAX_BATCH) throw invalid(`jobs holds ${jobs.length} jobs; one batch takes at most ${MAX_BATCH}`, "jobs");
  return jobs;
}

/** One job checked as a PUT checks it, to the row it would write. */
function compiled(deps: DomainDeps, ns: string, name: string, item: unknown, now: number): Promise<JobFields> {
  const { name: _, ...rest } = item as Record<string, unknown>;
  return rowFields(deps, ns, name, compileJob(deps, fromJobView(rest, ns, name), ns), {}, now);
}

/** 403 when `adding` new jobs would take the namespace past its [limits] max_jobs (counted exactly). */
async function checkRoom(deps: DomainDeps, ns: string, adding: number): Promise<void> {
  if (adding <= 0) return;
  const max = maxJobsOf(deps.config.limits, ns);
  const has = await namespaceJobCount(deps.store, ns);
  if (has + adding > max) throw forbidden(`namespace ${ns} holds ${has} jobs and this batch adds ${adding}: past its limit of ${max} ([limits] max_jobs)`);
}

function finish(deps: DomainDeps, ns: string, fields: JobFields[], saved: Saved[]): BatchResult {
  const items = fields.map((f, i) => {
    const row = savedRow(f, saved[i]);
    const created = saved[i].version === 1;
    if (created) counted(deps.store, ns);
    deps.scheduler.jobChanged(row.id, row.nextFireAt);
    return { name: f.name, id: row.id, version: row.version, created, nextFireAt: row.nextFireAt === null ? null : new Date(row.nextFireAt).toISOString() };
  });
  const created = items.filter((i) => i.created).length;
  audit(deps, "job.batch", { namespace: ns, created, replaced: items.length - created, api: "native" });
  return { created, replaced: items.length - created, items };
}
