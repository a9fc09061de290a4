// Workflow definitions: the row of each, and the jobs made for its steps that have a target of their own
// (named "workflow/<workflow>/<step>", kept out of job lists and counts). Written together, in one
// transaction, with the cancelling of the instances a replace or a delete ends.
import type { Store } from "./client.ts";
import type { JobFields } from "./jobs.ts";
import { upsertStatements } from "./job-writes.ts";
import { cancelStatements, startStatements } from "./instances.ts";
import type { Row } from "@libsql/client";
import { type Guard, json, num, read, readOne, write } from "./sql.ts";

/** A step as stored: its graph, and either the job it names or the name of the job made for it. */
export interface StoredStep {
  id: string;
  dependsOn: string[];
  when: "success" | "failure" | "always";
  /** The job the step runs: one of the namespace's (`job`), or the workflow's own for the step. */
  job: string;
  /** True for a step with a target of its own (its job is the workflow's). */
  own: boolean;
  /** A step that names a job: its own timeout and retry, in place of the job's. */
  timeoutMs?: number;
  retry?: unknown;
  /** The step as it was written (a target as its job stores it: secret values taken out). */
  view: Record<string, unknown>;
}

export interface WorkflowRow {
  id: number;
  namespace: string;
  name: string;
  enabled: boolean;
  overlap: "allow" | "forbid" | "replace";
  steps: StoredStep[];
  /** The schedule fields as written; null: started by triggers only. */
  schedule: Record<string, unknown> | null;
  /** What the schedule compiled to (src/schedule's Plan). */
  plan: unknown;
  misfire: "skip" | "once" | "all";
  /** Notifications its instances send. */
  notify: unknown;
  firedCount: number;
  nextFireAt: number | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type WorkflowFields = Omit<WorkflowRow, "id" | "version" | "createdAt" | "firedCount">;

// Columns named, not *: a statement with a wildcard result is prepared again at every call (store/kept.ts).
const WORKFLOW_COLUMNS = "id, namespace, name, enabled, overlap, steps, schedule, plan, misfire, notify, fired_count, next_fire_at, created_at, updated_at, version";

function workflowRowOf(r: Row): WorkflowRow {
  return {
    id: Number(r.id),
    namespace: String(r.namespace),
    name: String(r.name),
    enabled: Boolean(r.enabled),
    overlap: r.overlap as WorkflowRow["overlap"],
    steps: json<StoredStep[]>(r.steps) ?? [],
    schedule: json<Record<string, unknown>>(r.schedule),
    plan: json(r.plan),
    misfire: r.misfire as WorkflowRow["misfire"],
    notify: json(r.notify),
    firedCount: Number(r.fired_count),
    nextFireAt: num(r.next_fire_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    version: Number(r.version),
  };
}

/** The name of the job made for step `step` of workflow `workflow`: no API can write a name with '/'. */
export const stepJobName = (workflow: string, step: string) => `workflow/${workflow}/${step}`;

/**
 * Creates or replaces a workflow with the jobs of its own steps, in one transaction. A replace drops the
 * jobs of steps it no longer has and cancels the workflow's running instances (their steps would otherwise
 * mix two definitions). Returns the row written and whether it was created.
 */
export async function putWorkflow(store: Store, w: WorkflowFields, stepJobs: JobFields[], now: number): Promise<{ row: WorkflowRow; created: boolean }> {
  const names = JSON.stringify(stepJobs.map((j) => j.name));
  const results = await write(store, [
    {
      sql: `INSERT INTO workflows (namespace, name, enabled, overlap, steps, schedule, plan, misfire, notify, next_fire_at, created_at, updated_at, version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
            ON CONFLICT(namespace, name) DO UPDATE SET enabled = excluded.enabled, overlap = excluded.overlap, steps = excluded.steps,
              schedule = excluded.schedule, plan = excluded.plan, misfire = excluded.misfire, notify = excluded.notify, fired_count = 0, next_fire_at = excluded.next_fire_at,
              fire_token = NULL, updated_at = excluded.updated_at, version = workflows.version + 1
            RETURNING ${WORKFLOW_COLUMNS}`,
      args: [w.namespace, w.name, w.enabled ? 1 : 0, w.overlap, JSON.stringify(w.steps), w.schedule && JSON.stringify(w.schedule), w.plan == null ? null : JSON.stringify(w.plan), w.misfire, w.notify == null ? null : JSON.stringify(w.notify), w.nextFireAt, now, now],
    },
    ...cancelStatements({ workflow: [w.namespace, w.name] }, now, "cancelled: the workflow was replaced"),
    {
      // The jobs of steps the workflow no longer has go, with their history.
      sql: `DELETE FROM runs WHERE job_id IN (SELECT id FROM jobs WHERE workflow_id = (SELECT id FROM workflows WHERE namespace = ? AND name = ?)
              AND name NOT IN (SELECT value FROM json_each(?)))`,
      args: [w.namespace, w.name, names],
    },
    {
      sql: "DELETE FROM jobs WHERE workflow_id = (SELECT id FROM workflows WHERE namespace = ? AND name = ?) AND name NOT IN (SELECT value FROM json_each(?))",
      args: [w.namespace, w.name, names],
    },
    ...(stepJobs.length ? upsertStatements(stepJobs, false) : []),
    {
      sql: "UPDATE jobs SET workflow_id = (SELECT id FROM workflows WHERE namespace = ? AND name = ?) WHERE namespace = ? AND name IN (SELECT value FROM json_each(?))",
      args: [w.namespace, w.name, w.namespace, names],
    },
  ]);
  const row = workflowRowOf(results[0].rows[0]);
  return { row, created: row.version === 1 };
}

export async function workflowByName(store: Store, ns: string, name: string): Promise<WorkflowRow | null> {
  const r = await readOne(store, { sql: `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE namespace = ? AND name = ?`, args: [ns, name] });
  return r ? workflowRowOf(r) : null;
}

export async function workflowById(store: Store, id: number): Promise<WorkflowRow | null> {
  const r = await readOne(store, { sql: `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE id = ?`, args: [id] });
  return r ? workflowRowOf(r) : null;
}

/** Up to `limit` workflows of a namespace by name, after `after`. */
export async function workflowsPage(store: Store, ns: string, after: string | null, limit: number): Promise<WorkflowRow[]> {
  const rows = await read(store, {
    sql: `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE namespace = ?${after === null ? "" : " AND name > ?"} ORDER BY name LIMIT ?`,
    args: after === null ? [ns, limit] : [ns, after, limit],
  });
  return rows.map(workflowRowOf);
}

/** Deletes a workflow, its steps' jobs and their runs, and its instances; false when there was none. */
export async function deleteWorkflow(store: Store, ns: string, name: string, now: number): Promise<boolean> {
  const id = "(SELECT id FROM workflows WHERE namespace = ? AND name = ?)";
  const results = await write(store, [
    ...cancelStatements({ workflow: [ns, name] }, now, "cancelled: the workflow was deleted"),
    { sql: `DELETE FROM runs WHERE job_id IN (SELECT id FROM jobs WHERE workflow_id = ${id})`, args: [ns, name] },
    { sql: `DELETE FROM jobs WHERE workflow_id = ${id}`, args: [ns, name] },
    { sql: `DELETE FROM workflow_steps WHERE instance_id IN (SELECT id FROM workflow_instances WHERE workflow_id = ${id})`, args: [ns, name] },
    { sql: `DELETE FROM workflow_instances WHERE workflow_id = ${id}`, args: [ns, name] },
    { sql: "DELETE FROM workflows WHERE namespace = ? AND name = ? RETURNING id", args: [ns, name] },
  ]);
  return results[results.length - 1].rows.length > 0;
}

/** The names of the namespace's jobs among `names` that exist (and are not a workflow's own). */
export async function jobsNamed(store: Store, ns: string, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await read(store, {
    sql: "SELECT name FROM jobs WHERE namespace = ? AND workflow_id IS NULL AND name IN (SELECT value FROM json_each(?))",
    args: [ns, JSON.stringify(names)],
  });
  return new Set(rows.map((r) => String(r.name)));
}

/** Pauses or resumes a workflow's schedule, its next fire as given; false when there is no such workflow. */
export async function setEnabled(store: Store, id: number, enabled: boolean, nextFireAt: number | null, now: number): Promise<boolean> {
  const [rs] = await write(store, [
    { sql: "UPDATE workflows SET enabled = ?, next_fire_at = ?, fire_token = NULL, updated_at = ? WHERE id = ? RETURNING id", args: [enabled ? 1 : 0, nextFireAt, now, id] },
  ]);
  return rs.rows.length > 0;
}

/** Workflows whose next slot has come (up to `limit`, soonest first). */
export async function dueWorkflows(store: Store, now: number, limit: number): Promise<WorkflowRow[]> {
  const rows = await read(store, { sql: `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?`, args: [now, limit] });
  return rows.map(workflowRowOf);
}

/** What workflows ask of a node now, in one read: when their next slot comes, and whether instances wait to be advanced. */
export async function workflowWork(store: Store): Promise<{ next: number | null; unadvanced: boolean }> {
  const r = await readOne(store, `SELECT (SELECT min(next_fire_at) FROM workflows WHERE next_fire_at IS NOT NULL) AS next,
                                         EXISTS (SELECT 1 FROM workflow_instances WHERE seq != advanced) AS unadvanced`);
  return { next: num(r?.next), unadvanced: Boolean(r?.unadvanced) };
}

/** When the next workflow slot comes, or null. */
export async function nextWorkflowFire(store: Store): Promise<number | null> {
  const r = await readOne(store, "SELECT min(next_fire_at) AS at FROM workflows WHERE next_fire_at IS NOT NULL");
  return num(r?.at);
}

/**
 * Moves workflow `w` from its slot `w.nextFireAt` to `next` (`fired` slots fired) with `token` as this
 * node's mark, and starts the instances of `slots`, in one transaction: each start is guarded by the token
 * (still this node's), so two nodes firing one slot start it once. Returns whether the move was this node's.
 */
export async function fireWorkflow(store: Store, w: WorkflowRow, slots: number[], next: number | null, token: string, now: number): Promise<boolean> {
  const guard: Guard = { sql: "(SELECT fire_token FROM workflows WHERE id = ?) = ?", args: [w.id, token] };
  const shape = { id: w.id, namespace: w.namespace, name: w.name, version: w.version, overlap: w.overlap, steps: w.steps.map((s) => s.id) };
  const results = await write(store, [
    {
      sql: "UPDATE workflows SET next_fire_at = ?, fired_count = fired_count + ?, fire_token = ? WHERE id = ? AND next_fire_at = ? AND version = ? RETURNING id",
      args: [next, slots.length, token, w.id, w.nextFireAt, w.version],
    },
    ...slots.flatMap((at) => startStatements(shape, "schedule", at, now, guard)),
  ]);
  return results[0].rows.length > 0;
}
