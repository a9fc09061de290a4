// Job verbs: plain functions over deps (STYLE rules 1-2). Validation happens before any write
// (invariant 7) and every change is one write transaction.
import type { InStatement, Row } from "@libsql/client";
import { countDeleted, createJobOnly, type JobValues, replaceJobVersion, rowOf, upsertJob } from "./job-writes.ts";
import { compilePlan, firstFire, nextFire, type Plan } from "../schedule/index.ts";
import { formatDuration, parseDuration } from "../schedule/duration.ts";
import { egressPolicy } from "../net/egress.ts";
import { json, read, readOne, write } from "../store/sql.ts";
import { audit, mayChange, sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { conflict, forbidden, invalid, notFound } from "./errors.ts";
import { decodeCursor, encodeCursor } from "./ids.ts";
import { JobInput, Name, parseInput, RunParams, type Target, type TargetKind } from "./schemas.ts";
import { counted, roomFor } from "./quota.ts";
import { keepsSecrets, sealParams, type SecretValues, splitSecrets } from "./secrets.ts";
import { checkTarget, targetOf, withParams } from "./targets.ts";
import { type JobView, jobView, runView } from "./views.ts";
import * as v from "valibot";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function checkName(value: string, field: "namespace" | "name"): string {
  const r = v.safeParse(Name, value);
  if (!r.success) throw invalid(`${field} ${r.issues[0].message}`, field);
  return value;
}

/** Validates a job body of namespace `ns` and compiles its schedule; throws `invalid` naming the field. */
export function compileJob(deps: DomainDeps, body: unknown, ns: string): { input: JobInput; plan: Plan } {
  const input = parseInput(JobInput, body);
  checkTarget(deps.config.executors, input.target, egressPolicy(deps.config.egress), ns);
  const compiled = compilePlan(
    {
      schedule: input.schedule,
      dueTime: input.dueTime,
      timezone: input.timezone,
      repeats: input.repeats,
      ttl: input.ttl,
      startAt: input.startAt,
      endAt: input.endAt,
    },
    deps.clock.now(),
    { minEveryMs: deps.config.scheduler.minEvery },
  );
  if (!compiled.ok) throw invalid(`${compiled.error.field}: ${compiled.error.message}`, compiled.error.field);
  // A retry may not come sooner than a schedule may fire: no job makes tock retry in a tight loop.
  const min = deps.config.scheduler.minEvery;
  for (const field of ["interval", "maxInterval"] as const) {
    const text = input.retry && input.retry.times > 0 ? input.retry[field] : undefined;
    if (text !== undefined && parseDuration(text)! < min) throw invalid(`retry.${field}: must be at least ${formatDuration(min)} (scheduler.min_every), got ${text}`, `retry.${field}`);
  }
  return { input, plan: compiled.plan };
}

function jobValues(ns: string, name: string, input: JobInput, plan: Plan, now: number, compat: Compat | null, target: unknown, secrets: string | null): JobValues {
  const { kind } = targetOf(input.target);
  const next = input.enabled ? firstFire(plan, now) : null;
  return [
    ns, name, plan.schedule, plan.kind, plan.timezone, input.dueTime ?? null, input.ttl ?? null, plan.dueAt, plan.anchorAt,
    plan.startAt, plan.endAt, plan.repeats, 0, input.enabled ? 1 : 0, kind, JSON.stringify(target),
    input.timeout ? parseDuration(input.timeout) : null, input.retry ? JSON.stringify(input.retry) : null, input.overlap,
    input.maxConcurrency ?? null, input.misfire, input.payload === undefined ? null : JSON.stringify(input.payload),
    input.memo ?? null, input.labels ? JSON.stringify(input.labels) : null, compat ? JSON.stringify(compat) : null, secrets, now, now, next, 1,
  ];
}

/** Drops the runs of a job that have not started: a paused or removed job must not fire them. */
const dropQueued = (jobId: number): InStatement => ({ sql: "DELETE FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id = ?", args: [jobId] });

export interface PutOptions {
  /** Only create: 409 if the job exists (HTTP If-None-Match: *). */
  createOnly?: boolean;
  /** Only replace this version: 409 if the stored version differs (HTTP If-Match). */
  ifVersion?: number;
  /** Kept with the job for the compat facade that made it (src/compat); a native put clears it. */
  compat?: Compat;
  /** A facade's own secret values (keys "compat.…"), sealed with the target's. */
  secrets?: SecretValues;
}

/** A compat facade's own fields of a job: which API made it, and what it keeps that has no native field. */
export type Compat = { api: string } & Record<string, unknown>;

/** Creates or replaces a job. A replaced job starts afresh: its fired count resets and its pending runs are dropped. */
export async function putJob(deps: DomainDeps, ns: string, name: string, body: unknown, opts: PutOptions = {}): Promise<{ created: boolean; job: JobView }> {
  checkName(ns, "namespace");
  checkName(name, "name");
  mayChange(deps.access, ns, () => notFound(`namespace ${ns} not found`));
  const { input, plan } = compileJob(deps, body, ns);
  await checkQuota(deps, ns, name);
  const { kind, body: given } = targetOf(input.target);
  // SECRET sent back for a value keeps the stored one (a GET-then-PUT round trip): only then read it.
  const previous = keepsSecrets(kind, given) ? await storedSecrets(deps, ns, name) : null;
  const split = splitSecrets(kind, given, previous);
  const secrets = { ...split.secrets, ...opts.secrets };
  const sealed = Object.keys(secrets).length > 0 ? deps.secrets.seal(secrets) : null;
  const now = deps.clock.now();
  const values = jobValues(ns, name, input, plan, now, opts.compat ?? null, split.target, sealed);
  const saved =
    opts.ifVersion !== undefined
      ? await replaceJobVersion(deps.store, values, opts.ifVersion)
      : opts.createOnly
        ? await createJobOnly(deps.store, values)
        : await upsertJob(deps.store, values);
  const job = jobView(rowOf(values, saved) as Row);
  const created = saved.version === 1;
  if (created) counted(deps.store, ns);
  deps.scheduler.jobChanged(job.id, job.nextFireAt === null ? null : Date.parse(job.nextFireAt));
  audit(deps, created ? "job.create" : "job.replace", { namespace: ns, name, api: opts.compat?.api ?? "native" });
  return { created, job };
}

const jobMissing = (ns: string, name: string) => notFound(`job ${ns}/${name} not found`);

/**
 * 403 when namespace `ns` already holds its [limits] max_jobs and `name` would be a new job (replacing one
 * is always allowed). See quota.ts for how close to exact the count is.
 */
async function checkQuota(deps: DomainDeps, ns: string, name: string): Promise<void> {
  const limits = deps.config.limits;
  const max = limits.namespaces[ns]?.maxJobs ?? limits.maxJobs;
  if (await roomFor(deps.store, ns, max)) return;
  if (await readOne(deps.store, { sql: "SELECT 1 FROM jobs WHERE namespace = ? AND name = ?", args: [ns, name] })) return;
  throw forbidden(`namespace ${ns} holds ${max} jobs, its limit ([limits] max_jobs); delete some first`);
}

/** The secret values stored with the job the statement selects (null when there is none, or it has none). */
async function secretsWhere(deps: DomainDeps, where: string, args: (string | number)[]): Promise<SecretValues | null> {
  const row = await readOne(deps.store, { sql: `SELECT secrets FROM jobs WHERE ${where}`, args });
  return row?.secrets == null ? null : deps.secrets.open(String(row.secrets));
}

const storedSecrets = (deps: DomainDeps, ns: string, name: string) => secretsWhere(deps, "namespace = ? AND name = ?", [ns, name]);

/** A job's secret values, for tock's own use of them (a facade's callback): never for an API answer. */
export async function jobSecrets(deps: DomainDeps, jobId: number): Promise<SecretValues> {
  return (await secretsWhere(deps, "id = ?", [jobId])) ?? {};
}

/** A job's row, if the caller may see its namespace. */
export async function getJobRow(deps: DomainDeps, ns: string, name: string) {
  if (!sees(deps.access, ns)) throw jobMissing(ns, name);
  const row = await readOne(deps.store, { sql: "SELECT * FROM jobs WHERE namespace = ? AND name = ?", args: [ns, name] });
  if (!row) throw jobMissing(ns, name);
  return row;
}

/** The job's row for a change: 404 unless the caller sees its namespace, 403 unless it may change it. */
async function changeableJobRow(deps: DomainDeps, ns: string, name: string) {
  mayChange(deps.access, ns, () => jobMissing(ns, name));
  return await getJobRow(deps, ns, name);
}

/** A job by its numeric id (the id foreign APIs name jobs by). */
export async function getJobById(deps: DomainDeps, id: number): Promise<JobView> {
  const row = Number.isSafeInteger(id) && id > 0 ? await readOne(deps.store, { sql: "SELECT * FROM jobs WHERE id = ?", args: [id] }) : undefined;
  if (!row || !sees(deps.access, String(row.namespace))) throw notFound(`job ${id} not found`);
  return jobView(row);
}

export async function getJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  return jobView(await getJobRow(deps, ns, name));
}

export async function listJobs(deps: DomainDeps, ns: string, q: { prefix?: string; limit?: number; cursor?: string }): Promise<Page<JobView>> {
  if (!sees(deps.access, ns)) return { items: [], nextCursor: null }; // as an empty namespace
  const limit = q.limit ?? 100;
  const args: (string | number)[] = [ns];
  let sql = "SELECT * FROM jobs WHERE namespace = ?";
  if (q.prefix) {
    sql += " AND name >= ? AND name < ?";
    args.push(q.prefix, `${q.prefix}\u{10FFFF}`);
  }
  if (q.cursor) {
    sql += " AND name > ?";
    args.push(decodeCursor<string>(q.cursor, "string"));
  }
  sql += " ORDER BY name LIMIT ?";
  args.push(limit + 1);
  const rows = await read(deps.store, { sql, args });
  const items = rows.slice(0, limit).map(jobView);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].name) : null };
}

/** Removes a job and its history; a run already in flight finishes and keeps its record. */
export async function removeJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  const row = await changeableJobRow(deps, ns, name);
  const id = Number(row.id);
  await write(deps.store, [
    { sql: "DELETE FROM run_logs WHERE run_id IN (SELECT id FROM runs WHERE job_id = ? AND status != 'running')", args: [id] },
    { sql: "DELETE FROM runs WHERE job_id = ? AND status != 'running'", args: [id] },
    { sql: "DELETE FROM jobs WHERE id = ?", args: [id] },
    countDeleted(ns),
  ]);
  deps.scheduler.jobChanged(id, null);
  audit(deps, "job.delete", { namespace: ns, name });
  return jobView(row);
}

export async function pauseJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  const row = await changeableJobRow(deps, ns, name);
  const rs = await write(deps.store, [
    dropQueued(Number(row.id)),
    { sql: "UPDATE jobs SET enabled = 0, next_fire_at = NULL, updated_at = ?, version = version + 1 WHERE id = ? RETURNING *", args: [deps.clock.now(), row.id] },
  ]);
  if (rs[1].rows.length === 0) throw jobMissing(ns, name); // removed meanwhile
  deps.scheduler.jobChanged(Number(row.id), null);
  audit(deps, "job.pause", { namespace: ns, name });
  return jobView(rs[1].rows[0]);
}

/** Resumes a paused job from now: slots missed while paused are not fired (a one-shot not yet fired still fires). */
export async function resumeJob(deps: DomainDeps, ns: string, name: string): Promise<JobView> {
  const row = await changeableJobRow(deps, ns, name);
  if (row.enabled) return jobView(row);
  const now = deps.clock.now();
  const plan = planOf(row);
  const fired = Number(row.fired_count);
  const next = fired === 0 ? firstFire(plan, now) : nextFire(plan, now, fired);
  const rs = await write(deps.store, [
    {
      // updated_at stamps the definition (a retry is queued only while it is unchanged): resuming keeps it.
      sql: "UPDATE jobs SET enabled = 1, next_fire_at = ?, version = version + 1 WHERE id = ? AND version = ? RETURNING *",
      args: [next, row.id, row.version],
    },
  ]);
  if (rs[0].rows.length === 0) throw conflict(`job ${ns}/${name} changed concurrently; retry`);
  deps.scheduler.jobChanged(Number(row.id), next, false); // resuming drops nothing
  audit(deps, "job.resume", { namespace: ns, name });
  return jobView(rs[0].rows[0]);
}

/** The plan a job row was compiled to. */
export function planOf(r: Record<string, unknown>): Plan {
  const n = (x: unknown) => (x == null ? null : Number(x));
  return {
    kind: r.schedule_kind as Plan["kind"],
    schedule: (r.schedule as string | null) ?? null,
    timezone: String(r.timezone),
    dueAt: n(r.due_at),
    anchorAt: n(r.anchor_at),
    startAt: n(r.start_at),
    endAt: n(r.end_at),
    repeats: n(r.repeats),
  };
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
    const kind = String(row.target_kind) as TargetKind;
    checkTarget(deps.config.executors, { [kind]: withParams(kind, json(row.target), p) } as Target, egressPolicy(deps.config.egress), ns);
  }
  // A trigger's variables are secret: sealed like a job's secret values, shown as SECRET.
  const stored = p && (p.env || p.args) ? sealParams(deps.secrets, p) : null;
  const now = deps.clock.now();
  // Two triggers in the same millisecond would share a slot: take the next free one (both due now). The
  // job's own next slot is not free either, though no run holds it yet.
  let at = now;
  for (let i = 0; i < 1000; i++, at++) {
    if (Number(row.next_fire_at) === at) continue;
    const rs = await write(deps.store, [
      {
        sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, fence, params)
              VALUES (?, ?, ?, ?, ?, ?, 1, 'queued', 0, ?) ON CONFLICT DO NOTHING RETURNING *`,
        args: [row.id, ns, name, at, now, trigger, stored],
      },
    ]);
    if (rs[0].rows.length) {
      deps.scheduler.wake();
      const run = runView(rs[0].rows[0]);
      audit(deps, "job.trigger", { namespace: ns, name, run: run.id });
      return run;
    }
  }
  throw conflict(`job ${ns}/${name} is being triggered too often`);
}

export interface JobQuery {
  /** Only this namespace; all of them when absent (for a caller that sees every namespace). */
  namespace?: string;
  /** Only jobs made through this compat API (compat.api). */
  api?: string;
  /** Only jobs with one of these target kinds. */
  targetKinds?: readonly string[];
  offset: number;
  limit: number;
}

/**
 * Jobs by id (oldest first) with their total count: numbered pages, for the foreign APIs that page by
 * offset and report a count (Alauda). The native API pages by name with cursors instead.
 */
export async function findJobs(deps: DomainDeps, q: JobQuery): Promise<{ count: number; items: JobView[] }> {
  const visible = q.namespace === undefined ? deps.access.namespaces === null : sees(deps.access, q.namespace);
  if (!visible) return { count: 0, items: [] }; // as an empty namespace
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.namespace !== undefined) where.push("namespace = ?"), args.push(q.namespace);
  if (q.api !== undefined) where.push("json_extract(compat, '$.api') = ?"), args.push(q.api);
  if (q.targetKinds) where.push(`target_kind IN (${q.targetKinds.map(() => "?").join(", ") || "NULL"})`), args.push(...q.targetKinds);
  const cond = where.length ? `WHERE ${where.join(" AND ")}` : "";
  const [total, rows] = await Promise.all([
    readOne(deps.store, { sql: `SELECT count(*) AS n FROM jobs ${cond}`, args }),
    read(deps.store, { sql: `SELECT * FROM jobs ${cond} ORDER BY id LIMIT ? OFFSET ?`, args: [...args, q.limit, q.offset] }),
  ]);
  return { count: Number(total?.n ?? 0), items: rows.map(jobView) };
}
