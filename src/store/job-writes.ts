// Writing job rows. Creates and replaces that arrive together (64 clients at once) share one set-based
// upsert in one transaction: a statement's preparation costs more than the row it writes, so one statement
// for many rows is what keeps API writes cheap. Conditional writes (If-Match, If-None-Match) are single
// statements. Jobs per namespace (namespace_counts, for [limits] max_jobs) are kept by the statements that
// create and delete jobs, in their transactions: one statement per batch, where a trigger would run per row.
import type { ResultSet, Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { type JobFields, type JobRow, jobRowOf } from "./jobs.ts";
import { type Stmt, write } from "./sql.ts";

/** The id, version and creation time the database gave a job write. */
export interface Saved {
  id: number;
  version: number;
  createdAt: number;
}

/** Every written field, in the one order each statement below lists its columns in. */
const FIELDS = [
  "namespace", "name", "schedule", "scheduleKind", "timezone", "dueTime", "ttl", "dueAt", "anchorAt", "startAt",
  "endAt", "repeats", "firedCount", "enabled", "targetKind", "target", "timeoutMs", "retry", "overlap",
  "maxConcurrency", "broadcast", "misfire", "payload", "memo", "labels", "compat", "onEnd", "secrets", "createdAt", "updatedAt", "nextFireAt", "workflowId", "notify",
] as const satisfies readonly (keyof JobFields)[];
// A field added to the table but not to FIELDS fails to compile here.
const _everyField: Exclude<keyof JobFields, (typeof FIELDS)[number]> extends never ? true : never = true;
const JSON_FIELDS: ReadonlySet<string> = new Set(["target", "retry", "payload", "labels", "compat", "onEnd", "notify"]);
const column = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** The columns of FIELDS, then version (1 for a new row). */
export const JOB_COLUMNS: readonly string[] = [...FIELDS.map(column), "version"];
/** What a replace overwrites: everything but identity and creation time. */
const REPLACED = FIELDS.filter((f) => !["namespace", "name", "createdAt"].includes(f)).map(column);

/** A job's fields as SQL values, in FIELDS order, then version 1. */
function valuesOf(job: JobFields): (string | number | null)[] {
  const values = FIELDS.map((f) => {
    const v = job[f];
    if (v === null || v === undefined) return null;
    if (JSON_FIELDS.has(f)) return JSON.stringify(v);
    return typeof v === "boolean" ? (v ? 1 : 0) : (v as string | number);
  });
  values.push(1);
  return values;
}

/** The row a write left, from the fields written and what the database decided. */
export const savedRow = (job: JobFields, saved: Saved): JobRow => ({ ...job, id: saved.id, version: saved.version, createdAt: saved.createdAt });

const savedOf = (r: Row): Saved => ({ id: Number(r.id), version: Number(r.version), createdAt: Number(r.created_at) });

const nameKey = (job: JobFields) => `${job.namespace}\u0000${job.name}`;

interface Pending {
  job: JobFields;
  resolve: (s: Saved) => void;
  reject: (e: unknown) => void;
}

class UpsertBatcher {
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(private readonly store: Store) {}

  upsert(job: JobFields): Promise<Saved> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        void this.#flush(this.#queue.splice(0));
      }, 0);
    });
  }

  async #flush(items: Pending[]) {
    // A name twice in one batch goes to the next group, so each group writes each job once.
    while (items.length) {
      const seen = new Set<string>();
      const group: Pending[] = [];
      const rest: Pending[] = [];
      for (const item of items) (seen.has(nameKey(item.job)) ? rest : group).push(item), seen.add(nameKey(item.job));
      await this.#write(group);
      items = rest;
    }
  }

  async #write(group: Pending[]) {
    let byKey;
    try {
      byKey = savedByKey(await write(this.store, upsertStatements(group.map((g) => g.job))));
    } catch (e) {
      if (group.length === 1) return group[0].reject(e);
      // One bad row must not fail the others: write each on its own.
      for (const g of group) await this.#write([g]);
      return;
    }
    for (const g of group) {
      const saved = byKey.get(nameKey(g.job));
      if (saved) g.resolve(saved);
      else g.reject(new Error("upsert returned no row"));
    }
  }
}

/** Rows per INSERT: SQLite binds at most 32,766 values to one statement. */
const ROWS_PER_INSERT = Math.floor(32_766 / JOB_COLUMNS.length);
const ROW_PLACEHOLDERS = `(${JOB_COLUMNS.map(() => "?").join(", ")})`;
const UPSERT_TAIL = `ON CONFLICT(namespace, name) DO UPDATE SET ${REPLACED.map((c) => `${c} = excluded.${c}`).join(", ")}, version = jobs.version + 1
  RETURNING id, namespace, name, version, created_at`;

/**
 * The statements of one set-based upsert: queued runs of replaced jobs dropped, new jobs counted, then the
 * rows, as bound values (cheaper than taking each column out of JSON), up to ROWS_PER_INSERT a statement.
 */
export function upsertStatements(batch: JobFields[], count = true): Stmt[] {
  const names = JSON.stringify(batch.map((j) => [j.namespace, j.name]));
  const inserts: Stmt[] = [];
  for (let i = 0; i < batch.length; i += ROWS_PER_INSERT) {
    const rows = batch.slice(i, i + ROWS_PER_INSERT);
    inserts.push({ sql: `INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) VALUES ${rows.map(() => ROW_PLACEHOLDERS).join(", ")} ${UPSERT_TAIL}`, args: rows.flatMap(valuesOf) });
  }
  return [
    {
      // A replaced job's runs that have not started belong to its old definition.
      sql: `DELETE FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id IN
              (SELECT jobs.id FROM json_each(?) AS k, jobs WHERE jobs.namespace = k.value->>0 AND jobs.name = k.value->>1)`,
      args: [names],
    },
    // The names not yet stored are the jobs this batch creates: counted per namespace, in the same transaction
    // (a workflow's own jobs are not counted: the no-op keeps the statements' places).
    count ? countCreated(names) : { sql: "SELECT 0 WHERE 0", args: [] },
    ...inserts,
  ];
}

/** What an upsert's INSERT statements returned, by "namespace\0name". */
const savedByKey = (results: ResultSet[]) => new Map(results.slice(2).flatMap((r) => r.rows).map((r) => [`${r.namespace}\u0000${r.name}`, savedOf(r)]));

/**
 * Creates or replaces every job of `jobs` in one write transaction, or none of them (names must differ).
 * Returns what was saved, in the order given.
 */
export async function upsertJobsAtomically(store: Store, jobs: JobFields[]): Promise<Saved[]> {
  const byKey = savedByKey(await write(store, upsertStatements(jobs)));
  return jobs.map((j) => {
    const saved = byKey.get(nameKey(j));
    if (!saved) throw new Error(`upsert returned no row for ${j.namespace}/${j.name}`);
    return saved;
  });
}

const batchers = new WeakMap<Store, UpsertBatcher>();

/** Creates or replaces a job row (a replace drops the job's queued runs). */
export function upsertJob(store: Store, job: JobFields): Promise<Saved> {
  let b = batchers.get(store);
  if (!b) batchers.set(store, (b = new UpsertBatcher(store)));
  return b.upsert(job);
}

/** Counts, per namespace, the names of a batch not yet stored: the jobs it creates. */
function countCreated(names: string): Stmt {
  return {
    sql: `INSERT INTO namespace_counts (namespace, jobs)
          SELECT k.value->>0, count(*) FROM json_each(?) AS k
          WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.namespace = k.value->>0 AND jobs.name = k.value->>1)
          GROUP BY k.value->>0
          ON CONFLICT(namespace) DO UPDATE SET jobs = jobs + excluded.jobs`,
    args: [names],
  };
}

/** Creates a job row; null when one of that name exists. */
export async function insertJob(store: Store, job: JobFields): Promise<Saved | null> {
  const [rs] = await write(store, [
    {
      sql: `INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) VALUES (${JOB_COLUMNS.map(() => "?").join(", ")})
            ON CONFLICT DO NOTHING RETURNING id, version, created_at`,
      args: valuesOf(job),
    },
    {
      sql: "INSERT INTO namespace_counts (namespace, jobs) SELECT ?, 1 WHERE changes() = 1 ON CONFLICT(namespace) DO UPDATE SET jobs = jobs + 1",
      args: [job.namespace],
    },
  ]);
  return rs.rows.length === 0 ? null : savedOf(rs.rows[0]);
}

/**
 * Replaces a job row only if it is at `version` (dropping its queued runs): what was saved, or the version
 * it is at instead (null: no such job).
 */
export async function replaceJobAt(store: Store, job: JobFields, version: number): Promise<{ saved: Saved } | { version: number | null }> {
  const values = valuesOf(job);
  const set = REPLACED.map((c) => `${c} = ?`).join(", ");
  const args = REPLACED.map((c) => values[JOB_COLUMNS.indexOf(c)]);
  const [rs, , found] = await write(store, [
    {
      sql: `UPDATE jobs SET ${set}, version = version + 1 WHERE namespace = ? AND name = ? AND version = ? RETURNING id, version, created_at`,
      args: [...args, job.namespace, job.name, version],
    },
    // changes(): only when the update above went through.
    {
      sql: "DELETE FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id = (SELECT id FROM jobs WHERE namespace = ? AND name = ?) AND changes() = 1",
      args: [job.namespace, job.name],
    },
    { sql: "SELECT version FROM jobs WHERE namespace = ? AND name = ?", args: [job.namespace, job.name] },
  ]);
  if (rs.rows.length) return { saved: savedOf(rs.rows[0]) };
  return { version: found.rows.length ? Number(found.rows[0].version) : null };
}

/** Deletes a job, its queued and finished runs, their lines and deliveries; a run in flight keeps its record. */
export async function deleteJob(store: Store, id: number, ns: string): Promise<void> {
  await write(store, [
    { sql: "DELETE FROM run_logs WHERE run_id IN (SELECT id FROM runs WHERE job_id = ? AND status != 'running')", args: [id] },
    { sql: "DELETE FROM deliveries WHERE run_id IN (SELECT id FROM runs WHERE job_id = ? AND status != 'running')", args: [id] },
    { sql: "DELETE FROM runs WHERE job_id = ? AND status != 'running'", args: [id] },
    { sql: "DELETE FROM jobs WHERE id = ?", args: [id] },
    // Counts the job the statement above deleted (changes() = 1).
    { sql: "UPDATE namespace_counts SET jobs = jobs - 1 WHERE namespace = ? AND changes() = 1", args: [ns] },
  ]);
}

/** Pauses a job (no next fire) and drops its queued runs; null when it is gone. */
export async function disableJob(store: Store, id: number, now: number): Promise<JobRow | null> {
  const [, rs] = await write(store, [
    { sql: "DELETE FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id = ?", args: [id] },
    { sql: "UPDATE jobs SET enabled = 0, next_fire_at = NULL, updated_at = ?, version = version + 1 WHERE id = ? RETURNING *", args: [now, id] },
  ]);
  return rs.rows.length ? jobRowOf(rs.rows[0]) : null;
}

/**
 * Resumes a job at `version` with its next fire; null when it changed meanwhile. updated_at stamps the
 * definition (a retry is queued only while it is unchanged): resuming keeps it.
 */
export async function enableJob(store: Store, id: number, version: number, nextFireAt: number | null): Promise<JobRow | null> {
  const [rs] = await write(store, [
    { sql: "UPDATE jobs SET enabled = 1, next_fire_at = ?, version = version + 1 WHERE id = ? AND version = ? RETURNING *", args: [nextFireAt, id, version] },
  ]);
  return rs.rows.length ? jobRowOf(rs.rows[0]) : null;
}

