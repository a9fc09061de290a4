// Job verbs: plain functions over deps. Validation happens before any write (bad input changes nothing)
// and every change is one write transaction.
import { firstFire, nextFire } from "../schedule/index.ts";
import { egressPolicy } from "../net/egress.ts";
import { type JobFields, type JobRow, jobById, jobByName, jobExists, type JobFilter, jobsByName, jobsPage, sealedSecretsOf } from "../store/jobs.ts";
import { deleteJob, disableJob, enableJob, insertJob, replaceJobAt, type Saved, savedRow, upsertJob } from "../store/job-writes.ts";
import { insertTriggered, insertTriggeredBroadcast } from "../store/runs.ts";
import { audit, mayChange, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { waitingReason } from "./waiting.ts";
import { checkName, compileJob, jobFields, planOf, type PutOptions } from "./job-input.ts";
import { conflict, forbidden, notFound } from "./errors.ts";
import { decodeCursor, encodeCursor } from "./ids.ts";
import { parseInput, RunParams, type Target, type TargetKind } from "./schemas.ts";
import { counted, maxJobsOf, roomFor } from "./quota.ts";
import { keepsSecrets, sealParams, type SecretValues, splitSecrets } from "./secrets.ts";
import { checkTarget, targetOf, withParams } from "./targets.ts";
import { type JobView, jobView, runView } from "./views.ts";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Creates or replaces a job. A replaced job starts afresh: its fired count resets and its pending runs are dropped. */
export async function putJob(deps: DomainDeps, ns: string, name: string, body: unknown, opts: PutOptions = {}): Promise<{ created: boolean; job: JobView }> {
  checkName(ns, "namespace");
  checkName(name, "name");
  mayChange(deps.access, ns, () => notFound(`namespace ${ns} not found`));
  const compiled = compileJob(deps, body, ns, opts.minEveryMs);
  await checkQuota(deps, ns, name);
  const fields = await rowFields(deps, ns, name, compiled, opts, deps.clock.now());
  const saved = await writeJob(deps, fields, opts);
  const job = jobView(savedRow(fields, saved));
  const created = saved.version === 1;
  if (created) counted(deps.store, ns);
  deps.scheduler.jobChanged(job.id, job.nextFireAt === null ? null : Date.parse(job.nextFireAt));
  audit(deps, created ? "job.create" : "job.replace", { namespace: ns, name, api: opts.compat?.api ?? "native" });
  return { created, job };
}

/**
 * A compiled job as the row it writes, its secret values taken out of its target and sealed. A value sent
 * back as "<secret>" (a GET-then-PUT round trip) keeps the stored one: only then is that one read.
 */
export async function rowFields(deps: DomainDeps, ns: string, name: string, { input, plan }: ReturnType<typeof compileJob>, opts: PutOptions, now: number): Promise<JobFields> {
  const { kind, body: given } = targetOf(input.target);
  const previous = keepsSecrets(kind, given) ? await storedSecrets(deps, ns, name) : null;
  const split = splitSecrets(kind, given, previous);
  const secrets = { ...split.secrets, ...opts.secrets };
  const sealed = Object.keys(secrets).length > 0 ? deps.secrets.seal(secrets) : null;
  return jobFields(ns, name, input, plan, now, opts, split.target, sealed);
}

const jobMissing = (ns: string, name: string) => notFound(`job ${ns}/${name} not found`);

/** Writes a job as `opts` asks: created only, replaced only at a version, or either. */
async function writeJob(deps: DomainDeps, fields: JobFields, opts: PutOptions): Promise<Saved> {
  const { namespace: ns, name } = fields;
  if (opts.createOnly && opts.ifVersion === undefined) {
    const saved = await insertJob(deps.store, fields);
    if (!saved) throw conflict(`job ${ns}/${name} already exists`);
    return saved;
  }
  if (opts.ifVersion === undefined) return await upsertJob(deps.store, fields);
  const r = await replaceJobAt(deps.store, fields, opts.ifVersion);
  if ("saved" in r) return r.saved;
  if (r.version === null) throw jobMissing(ns, name);
  throw conflict(`job ${ns}/${name} is at version ${r.version}, not ${opts.ifVersion}`);
}

/**
 * 403 when namespace `ns` already holds its [limits] max_jobs and `name` would be a new job (replacing one
 * is always allowed). See quota.ts for how close to exact the count is.
 */
async function checkQuota(deps: DomainDeps, ns: string, name: string): Promise<void> {
  const max = maxJobsOf(deps.config.limits, ns);
  if (await roomFor(deps.store, ns, max)) return;
  if (await jobExists(deps.store, ns, name)) return;
  throw forbidden(`namespace ${ns} holds ${max} jobs, its limit ([limits] max_jobs); delete some first`);
}

/** The secret values stored with a job (null when there is none, or it has none). */
async function secretsOf(deps: DomainDeps, job: { namespace: string; name: string } | { id: number }): Promise<SecretValues | null> {
  const sealed = await sealedSecretsOf(deps.store, job);
  return sealed === null ? null : deps.secrets.open(sealed);
}

const storedSecrets = (deps: DomainDeps, ns: string, name: string) => secretsOf(deps, { namespace: ns, name });

/** A job's secret values, for tock's own use of them (a facade's callback): never for an API answer. */
export async function jobSecrets(deps: DomainDeps, jobId: number): Promise<SecretValues> {
  return (await secretsOf(deps, { id: jobId })) ?? {};
}

/** A job's row, if the caller may see its namespace. */
export async function getJobRow(deps: DomainDeps, ns: string, name: string): Promise<JobRow> {
  if (!sees(deps.access, ns)) throw jobMissing(ns, name);
  const row = await jobByName(deps.store, ns, name);
  if (!row) throw jobMissing(ns, name);
  return row;
}

/** The job's row for a change: 404 unless the caller sees its namespace, 403 unless it may change it. */
async function changeableJobRow(deps: DomainDeps, ns: string, name: string): Promise<JobRow> {
  mayChange(deps.access, ns, () => jobMissing(ns, name));
  return await getJobRow(deps, ns, name);
}

/** A job by its numeric id (the id foreign APIs name jobs by). */
export async function getJobById(deps: DomainDeps, id: number): Promise<JobView> {
  const row = Number.isSafeInteger(id) && id > 0 ? await jobById(deps.store, id) : null;
  if (!row || !sees(deps.access, row.namespace)) throw notFound(`job ${id} not found`);
  return jobView(row);
}

export async function getJob(deps: DomainDeps, ns: string, name: string): Promise<JobView & { waiting?: string }> {
  const row = await getJobRow(deps, ns, name);
  const view = jobView(row);
  // A slot due and not taken: say so when no live node can run the job's target.
  if (row.enabled && row.nextFireAt !== null && row.nextFireAt <= deps.clock.now()) {
    const why = await waitingReason(deps, row);
    if (why) return { ...view, waiting: why };
  }
  return view;
}

export async function listJobs(deps: DomainDeps, ns: string, q: { prefix?: string; limit?: number; cursor?: string }): Promise<Page<JobView>> {
  if (!sees(deps.access, ns)) return { items: [], nextCursor: null }; // as an empty namespace
  const limit = q.limit ?? 100;
  const after = q.cursor ? decodeCursor<string>(q.cursor, "string") : undefined;
  const rows = await jobsByName(deps.store, ns, { prefix: q.prefix, after, limit: limit + 1 });
  const items = rows.slice(0, limit).map(jobView);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].name) : null };
}

/** Removes a job and its history; a run already in flight finishes and keeps its record. */
export async function removeJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  const row = await changeableJobRow(deps, ns, name);
  await deleteJob(deps.store, row.id, ns);
  deps.scheduler.jobChanged(row.id, null);
  audit(deps, "job.delete", { namespace: ns, name });
  return jobView(row);
}

export async function pauseJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  const row = await changeableJobRow(deps, ns, name);
  const paused = await disableJob(deps.store, row.id, deps.clock.now());
  if (!paused) throw jobMissing(ns, name); // removed meanwhile
  deps.scheduler.jobChanged(row.id, null);
  audit(deps, "job.pause", { namespace: ns, name });
  return jobView(paused);
}

/** Resumes a paused job from now: slots missed while paused are not fired (a one-shot not yet fired still fires). */
export async function resumeJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  const row = await changeableJobRow(deps, ns, name);
  if (row.enabled) return jobView(row);
  const now = deps.clock.now();
  const plan = planOf(row);
  const fired = row.firedCount;
  const next = fired === 0 ? firstFire(plan, now) : nextFire(plan, now, fired);
  const resumed = await enableJob(deps.store, row.id, row.version, next);
  if (!resumed) throw conflict(`job ${ns}/${name} changed concurrently; retry`);
  deps.scheduler.jobChanged(row.id, next, false); // resuming drops nothing
  audit(deps, "job.resume", { namespace: ns, name });
  return jobView(resumed);
}

/**
 * Queues a run now (trigger `manual`) whatever the schedule says; paused jobs may be triggered too.
 * `params` is extra input for that run only (and its retries): environment and trailing arguments.
 */
export async function triggerJob(deps: DomainDeps, ns: string, name: string, trigger: "manual" | "api" = "manual", params?: RunParams) {
  mayChange(deps.access, ns, () => jobMissing(ns, name));
  const p = params === undefined ? null : parseInput(RunParams, params);
  const row = await getJobRow(deps, ns, name);
  if (p) {
    // The run's variables must pass the same rules as the job's own (refused now, not when it fires).
    const kind = row.targetKind as TargetKind;
    checkTarget(deps.config.executors, { [kind]: withParams(kind, row.target, p) } as Target, egressPolicy(deps.config.egress), ns);
  }
  // A trigger's variables are secret: sealed like a job's secret values, shown as SECRET.
  const stored = p && (p.env || p.args) ? sealParams(deps.secrets, p) : null;
  const now = deps.clock.now();
  // Two triggers in the same millisecond would share a slot: take the next free one (both due now). The
  // job's own next slot is not free either, though no run holds it yet.
  // A broadcast job's slot gets a run for every live node that can run it, as its scheduled slots do; with
  // none that can now, one run waits (saying why) for the first node that can.
  const fanOut = row.broadcast && (await waitingReason(deps, row)) === null;
  let at = now;
  for (let i = 0; i < 1000; i++, at++) {
    if (row.nextFireAt === at) continue;
    const slot = { jobId: row.id, namespace: ns, jobName: name, scheduledAt: at, dueAt: now, trigger, params: stored };
    // Nothing inserted: the slot was taken, the next one is tried.
    const runs = fanOut ? await insertTriggeredBroadcast(deps.store, slot, deps.config.scheduler.nodeTimeout) : [await insertTriggered(deps.store, slot)];
    const queued = runs[0];
    if (queued) {
      deps.scheduler.wake();
      const run = runView(queued);
      audit(deps, "job.trigger", { namespace: ns, name, run: run.id });
      return row.broadcast ? { ...run, broadcastRuns: fanOut ? runs.map((r) => ({ id: r!.id, forNode: r!.forNode })) : [] } : run;
    }
  }
  throw conflict(`job ${ns}/${name} is being triggered too often`);
}

/** Which jobs, and which page of them. */
export type JobQuery = JobFilter;

/**
 * Jobs by id (oldest first) with their total count: numbered pages, for the foreign APIs that page by
 * offset and report a count (Alauda). The native API pages by name with cursors instead.
 */
export async function findJobs(deps: DomainDeps, q: JobQuery): Promise<{ count: number; items: JobView[] }> {
  const visible = q.namespace === undefined ? deps.access.namespaces === null : sees(deps.access, q.namespace);
  if (!visible) return { count: 0, items: [] }; // as an empty namespace
  const { count, rows } = await jobsPage(deps.store, q);
  return { count, items: rows.map(jobView) };
}
