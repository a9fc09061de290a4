// The jobs table as the verbs read it: the typed row and its mapper, a job by name or id, pages of jobs.
// (Writes: job-writes.ts.)
import type { Row } from "@libsql/client";
import type { Store } from "./client.ts";
import type { jobs } from "./schema.ts";
import { json, num, read, readOne, str } from "./sql.ts";

export type JobRow = typeof jobs.$inferSelect;
/** A job as a verb writes it; the database decides its id, and its version on a replace. */
export type JobFields = Omit<JobRow, "id" | "version">;

/**
 * What a job's target needs of a node, as executors offer it (executors/types.ts `offered`): its kind, or
 * "script:<language>" for a script.
 */
export const NEEDS = "(CASE jobs.target_kind WHEN 'script' THEN 'script:' || (jobs.target->>'language') ELSE jobs.target_kind END)";

/** Whether node `n` (a nodes row) offers what the job (a jobs row) needs: a broadcast slot gets a run on each such node. */
export const NODE_CAN_RUN = `EXISTS (SELECT 1 FROM json_each(n.executors) AS e WHERE e.value = ${NEEDS})`;

/** A jobs row as libSQL returns it (snake_case columns, JSON as text) to its typed form. */
export function jobRowOf(r: Row): JobRow {
  return {
    id: Number(r.id),
    namespace: String(r.namespace),
    name: String(r.name),
    schedule: str(r.schedule),
    scheduleKind: r.schedule_kind as JobRow["scheduleKind"],
    timezone: String(r.timezone),
    dueTime: str(r.due_time),
    ttl: str(r.ttl),
    dueAt: num(r.due_at),
    anchorAt: num(r.anchor_at),
    startAt: num(r.start_at),
    endAt: num(r.end_at),
    repeats: num(r.repeats),
    firedCount: Number(r.fired_count),
    enabled: Boolean(r.enabled),
    targetKind: r.target_kind as JobRow["targetKind"],
    target: json(r.target),
    timeoutMs: num(r.timeout_ms),
    retry: json(r.retry),
    overlap: r.overlap as JobRow["overlap"],
    maxConcurrency: num(r.max_concurrency),
    broadcast: Boolean(r.broadcast),
    misfire: r.misfire as JobRow["misfire"],
    payload: json(r.payload),
    memo: str(r.memo),
    labels: json(r.labels),
    compat: json(r.compat),
    workflowId: num(r.workflow_id),
    notify: json(r.notify),
    onEnd: json<string[]>(r.on_end),
    secrets: str(r.secrets),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    nextFireAt: num(r.next_fire_at),
    version: Number(r.version),
  };
}

export async function jobByName(store: Store, ns: string, name: string): Promise<JobRow | null> {
  const r = await readOne(store, { sql: "SELECT * FROM jobs WHERE namespace = ? AND name = ?", args: [ns, name] });
  return r ? jobRowOf(r) : null;
}

export async function jobById(store: Store, id: number): Promise<JobRow | null> {
  const r = await readOne(store, { sql: "SELECT * FROM jobs WHERE id = ?", args: [id] });
  return r ? jobRowOf(r) : null;
}

export async function jobExists(store: Store, ns: string, name: string): Promise<boolean> {
  return (await readOne(store, { sql: "SELECT 1 FROM jobs WHERE namespace = ? AND name = ?", args: [ns, name] })) !== undefined;
}

/** The sealed secret values of a job, by name or by id (null when there is no such job or it has none). */
export async function sealedSecretsOf(store: Store, job: { namespace: string; name: string } | { id: number }): Promise<string | null> {
  const r = await readOne(
    store,
    "id" in job
      ? { sql: "SELECT secrets FROM jobs WHERE id = ?", args: [job.id] }
      : { sql: "SELECT secrets FROM jobs WHERE namespace = ? AND name = ?", args: [job.namespace, job.name] },
  );
  return str(r?.secrets);
}

/** A page of a namespace's jobs by name: those after `after`, starting with `prefix`, up to `limit`. */
export async function jobsByName(store: Store, ns: string, q: { prefix?: string; after?: string; limit: number }): Promise<JobRow[]> {
  const args: (string | number)[] = [ns];
  let sql = "SELECT * FROM jobs WHERE namespace = ? AND workflow_id IS NULL";
  if (q.prefix) {
    sql += " AND name >= ? AND name < ?";
    args.push(q.prefix, `${q.prefix}\u{10FFFF}`);
  }
  if (q.after !== undefined) {
    sql += " AND name > ?";
    args.push(q.after);
  }
  sql += " ORDER BY name LIMIT ?";
  args.push(q.limit);
  return (await read(store, { sql, args })).map(jobRowOf);
}

/**
 * A namespace's jobs by next fire time, soonest first (those with none last, by name), after `after` (the
 * last row of the page before: [has no next fire, next fire, name]).
 */
export async function jobsByNextFire(store: Store, q: { namespace: string; after?: [number, number, string]; limit: number }): Promise<JobRow[]> {
  const args: (string | number)[] = [q.namespace];
  let sql = "SELECT * FROM jobs WHERE namespace = ? AND workflow_id IS NULL";
  if (q.after) {
    sql += " AND (next_fire_at IS NULL, COALESCE(next_fire_at, 0), name) > (?, ?, ?)";
    args.push(...q.after);
  }
  sql += " ORDER BY next_fire_at IS NULL, next_fire_at, name LIMIT ?";
  args.push(q.limit);
  return (await read(store, { sql, args })).map(jobRowOf);
}

/** A fire to come: a job's next slot (run null), or a run already queued for its time. */
export interface Upcoming {
  namespace: string;
  job: string;
  at: number;
  run: number | null;
}

/**
 * What fires next, soonest first: jobs' next slots and runs queued (claimed ahead or triggered), after
 * `after` (the last of the page before: [at, namespace, job, run or 0]).
 */
export async function upcomingFires(store: Store, q: { namespace?: string; after?: [number, string, string, number]; limit: number }): Promise<Upcoming[]> {
  const ns = q.namespace === undefined ? "" : " AND namespace = ?";
  const args: (string | number)[] = q.namespace === undefined ? [] : [q.namespace, q.namespace];
  let sql = `SELECT * FROM (
      SELECT namespace, name AS job, next_fire_at AS at, 0 AS run FROM jobs WHERE next_fire_at IS NOT NULL${ns}
      UNION ALL
      SELECT namespace, job_name AS job, due_at AS at, id AS run FROM runs WHERE status = 'queued'${ns})`;
  if (q.after) {
    sql += " WHERE (at, namespace, job, run) > (?, ?, ?, ?)";
    args.push(...q.after);
  }
  sql += " ORDER BY at, namespace, job, run LIMIT ?";
  args.push(q.limit);
  return (await read(store, { sql, args })).map((r) => ({ namespace: String(r.namespace), job: String(r.job), at: Number(r.at), run: Number(r.run) || null }));
}

export interface JobFilter {
  /** Only this namespace; all of them when absent. */
  namespace?: string;
  /** Only jobs made through this foreign API (compat.api). */
  api?: string;
  /** Only jobs with one of these target kinds. */
  targetKinds?: readonly string[];
  offset: number;
  limit: number;
}

/** Jobs by id (oldest first) with their total count. */
export async function jobsPage(store: Store, q: JobFilter): Promise<{ count: number; rows: JobRow[] }> {
  // A workflow's own jobs are the workflow's: no list shows them.
  const where: string[] = ["workflow_id IS NULL"];
  const args: (string | number)[] = [];
  if (q.namespace !== undefined) where.push("namespace = ?"), args.push(q.namespace);
  if (q.api !== undefined) where.push("json_extract(compat, '$.api') = ?"), args.push(q.api);
  if (q.targetKinds) where.push(`target_kind IN (${q.targetKinds.map(() => "?").join(", ") || "NULL"})`), args.push(...q.targetKinds);
  const cond = `WHERE ${where.join(" AND ")}`;
  const [total, rows] = await Promise.all([
    readOne(store, { sql: `SELECT count(*) AS n FROM jobs ${cond}`, args }),
    read(store, { sql: `SELECT * FROM jobs ${cond} ORDER BY id LIMIT ? OFFSET ?`, args: [...args, q.limit, q.offset] }),
  ]);
  return { count: Number(total?.n ?? 0), rows: rows.map(jobRowOf) };
}

/** Which of `names` are jobs of namespace `ns` already. */
export async function namesStored(store: Store, ns: string, names: string[]): Promise<Set<string>> {
  const rows = await read(store, { sql: "SELECT k.value AS name FROM json_each(?) AS k JOIN jobs ON jobs.namespace = ? AND jobs.name = k.value", args: [JSON.stringify(names), ns] });
  return new Set(rows.map((r) => String(r.name)));
}
