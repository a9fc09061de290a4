// Writing job rows. Creates and replaces that arrive together (64 clients at once) share one set-based
// upsert in one transaction: a statement's preparation costs more than the row it writes, so one
// statement for many rows is what makes API writes cheap. Conditional writes (If-Match, If-None-Match)
// are single statements.
import type { Store } from "../store/client.ts";
import { type Stmt, write } from "../store/sql.ts";
import { conflict, notFound } from "./errors.ts";

export const JOB_COLUMNS = [
  "namespace", "name", "schedule", "schedule_kind", "timezone", "due_time", "ttl", "due_at", "anchor_at", "start_at",
  "end_at", "repeats", "fired_count", "enabled", "target_kind", "target", "timeout_ms", "retry", "overlap",
  "max_concurrency", "misfire", "payload", "memo", "labels", "compat", "secrets", "created_at", "updated_at", "next_fire_at", "version",
] as const;
/** What a replace overwrites: everything but identity, creation time and version. */
const REPLACED = JOB_COLUMNS.filter((c) => !["namespace", "name", "created_at", "version"].includes(c));

export type JobValues = unknown[]; // in JOB_COLUMNS order
export interface Saved {
  id: number;
  version: number;
  createdAt: number;
}

const key = (v: JobValues) => `${v[0]}\u0000${v[1]}`;

/** The row a write left, from the values written and what the database decided. */
export function rowOf(values: JobValues, saved: Saved): Record<string, unknown> {
  const row: Record<string, unknown> = { id: saved.id };
  JOB_COLUMNS.forEach((c, i) => {
    row[c] = values[i];
  });
  row.version = saved.version;
  row.created_at = saved.createdAt;
  return row;
}

const saved = (r: Record<string, unknown>): Saved => ({ id: Number(r.id), version: Number(r.version), createdAt: Number(r.created_at) });

interface Pending {
  values: JobValues;
  resolve: (s: Saved) => void;
  reject: (e: unknown) => void;
}

class UpsertBatcher {
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(private readonly store: Store) {}

  upsert(values: JobValues): Promise<Saved> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ values, resolve, reject });
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
      for (const item of items) (seen.has(key(item.values)) ? rest : group).push(item), seen.add(key(item.values));
      await this.#write(group);
      items = rest;
    }
  }

  async #write(group: Pending[]) {
    let rows;
    try {
      [, , { rows }] = await write(this.store, upsertStatements(group.map((g) => g.values)));
    } catch (e) {
      if (group.length === 1) return group[0].reject(e);
      // One bad row must not fail the others: write each on its own.
      for (const g of group) await this.#write([g]);
      return;
    }
    const byKey = new Map(rows.map((r) => [`${r.namespace}\u0000${r.name}`, r]));
    for (const g of group) {
      const r = byKey.get(key(g.values));
      if (r) g.resolve(saved(r));
      else g.reject(new Error("upsert returned no row"));
    }
  }
}

function upsertStatements(values: JobValues[]): Stmt[] {
  const select = JOB_COLUMNS.map((_, i) => `v.value->>${i}`).join(", ");
  const names = JSON.stringify(values.map((v) => [v[0], v[1]]));
  return [
    {
      // A replaced job's runs that have not started belong to its old definition.
      sql: `DELETE FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id IN
              (SELECT jobs.id FROM json_each(?) AS k, jobs WHERE jobs.namespace = k.value->>0 AND jobs.name = k.value->>1)`,
      args: [names],
    },
    // The names not yet stored are the jobs this batch creates: counted per namespace, in the same transaction.
    countCreated(names),
    {
      sql: `INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) SELECT ${select} FROM json_each(?) AS v WHERE true
            ON CONFLICT(namespace, name) DO UPDATE SET ${REPLACED.map((c) => `${c} = excluded.${c}`).join(", ")}, version = jobs.version + 1
            RETURNING id, namespace, name, version, created_at`,
      args: [JSON.stringify(values)],
    },
  ];
}

const batchers = new WeakMap<Store, UpsertBatcher>();

/** Creates or replaces a job row. */
export function upsertJob(store: Store, values: JobValues): Promise<Saved> {
  let b = batchers.get(store);
  if (!b) batchers.set(store, (b = new UpsertBatcher(store)));
  return b.upsert(values);
}

/**
 * Jobs per namespace (namespace_counts, for [limits] max_jobs) are kept by the statements that create and
 * delete jobs, in their own transactions: one statement per batch, where a trigger would run per row.
 */
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

/** Counts a job the previous statement deleted (changes() = 1), for namespace_counts. */
export const countDeleted = (ns: string): Stmt => ({ sql: "UPDATE namespace_counts SET jobs = jobs - 1 WHERE namespace = ? AND changes() = 1", args: [ns] });

/** Creates a job row; 409 if one exists. */
export async function createJobOnly(store: Store, values: JobValues): Promise<Saved> {
  const [rs] = await write(store, [
    {
      sql: `INSERT INTO jobs (${JOB_COLUMNS.join(", ")}) VALUES (${JOB_COLUMNS.map(() => "?").join(", ")})
            ON CONFLICT DO NOTHING RETURNING id, version, created_at`,
      args: values as never,
    },
    {
      sql: "INSERT INTO namespace_counts (namespace, jobs) SELECT ?, 1 WHERE changes() = 1 ON CONFLICT(namespace) DO UPDATE SET jobs = jobs + 1",
      args: [values[0] as string],
    },
  ]);
  if (rs.rows.length === 0) throw conflict(`job ${values[0]}/${values[1]} already exists`);
  return saved(rs.rows[0]);
}

/** Replaces a job row only if it is at `version`; 409 if it is not, 404 if there is none. */
export async function replaceJobVersion(store: Store, values: JobValues, version: number): Promise<Saved> {
  const [ns, name] = values as [string, string];
  const set = REPLACED.map((c) => `${c} = ?`).join(", ");
  const args = REPLACED.map((c) => values[JOB_COLUMNS.indexOf(c)]);
  const [rs, , found] = await write(store, [
    {
      sql: `UPDATE jobs SET ${set}, version = version + 1 WHERE namespace = ? AND name = ? AND version = ? RETURNING id, version, created_at`,
      args: [...args, ns, name, version] as never,
    },
    // changes(): only when the update above went through.
    { sql: "DELETE FROM runs INDEXED BY runs_queued_job WHERE status = 'queued' AND job_id = (SELECT id FROM jobs WHERE namespace = ? AND name = ?) AND changes() = 1", args: [ns, name] },
    { sql: "SELECT version FROM jobs WHERE namespace = ? AND name = ?", args: [ns, name] },
  ]);
  if (rs.rows.length) return saved(rs.rows[0]);
  if (found.rows.length === 0) throw notFound(`job ${ns}/${name} not found`);
  throw conflict(`job ${ns}/${name} is at version ${found.rows[0].version}, not ${version}`);
}
