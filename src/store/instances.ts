// Workflow instances and their steps: starting one, reading its state, the guarded writes that advance it
// (any node may advance any instance, twice or at once: each write only moves a step from the state it was
// read in), and cancelling. A step's run ending raises the instance's `seq` (a trigger on runs).
import type { InValue, Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { andGuard, type Guard, guardArgs, json, num, read, readOne, type Stmt, str, write } from "./sql.ts";
import { type Notices, notificationStatements } from "./notifications.ts";


export type InstanceStatus = "running" | "succeeded" | "failed" | "cancelled";
export type StepStatus = "waiting" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";

export interface InstanceRow {
  id: number;
  workflowId: number;
  namespace: string;
  workflow: string;
  workflowVersion: number;
  status: InstanceStatus;
  trigger: string;
  scheduledAt: number;
  startedAt: number;
  endedAt: number | null;
  error: string | null;
  /** The trigger's extra input for every step ({ env, args }, variables sealed), as stored JSON. */
  params: string | null;
  seq: number;
  advanced: number;
}

export interface StepRow {
  stepId: string;
  status: StepStatus;
  runId: number | null;
  reason: string | null;
  result: unknown;
  output: string | null;
}

/** The latest run of a step (its last attempt). */
export interface StepRun {
  id: number;
  status: string;
  result: unknown;
  error: string | null;
  outputTail: string | null;
}

// Columns named, not *: a statement with a wildcard result is prepared again at every call (store/kept.ts).
const INSTANCE_COLUMNS = "id, workflow_id, namespace, workflow, workflow_version, status, trigger, scheduled_at, started_at, ended_at, error, params, seq, advanced";

function instanceRowOf(r: Row): InstanceRow {
  return {
    id: Number(r.id),
    workflowId: Number(r.workflow_id),
    namespace: String(r.namespace),
    workflow: String(r.workflow),
    workflowVersion: Number(r.workflow_version),
    status: r.status as InstanceStatus,
    trigger: String(r.trigger),
    scheduledAt: Number(r.scheduled_at),
    startedAt: Number(r.started_at),
    endedAt: num(r.ended_at),
    error: str(r.error),
    params: str(r.params),
    seq: Number(r.seq),
    advanced: Number(r.advanced),
  };
}

const stepRowOf = (r: Row): StepRow => ({
  stepId: String(r.step_id),
  status: r.status as StepStatus,
  runId: num(r.run_id),
  reason: str(r.reason),
  result: json(r.result),
  output: str(r.output),
});

/** Which running instances a cancel ends: one, or every one of a workflow. */
export type CancelScope = { instance: number } | { workflow: [namespace: string, name: string] };

/**
 * The statements that cancel running instances: waiting steps end cancelled, queued step runs end killed
 * (their fence moves, so a node holding one does not start it), running ones get a kill request (their
 * node aborts them), and the instance ends cancelled with `reason`.
 */
export function cancelStatements(scope: CancelScope, now: number, reason: string, guard: Guard | null = null): Stmt[] {
  const [where, whereArgs] =
    "instance" in scope ? ["id = ?", [scope.instance]] : ["workflow_id = (SELECT id FROM workflows WHERE namespace = ? AND name = ?)", [...scope.workflow]];
  const cond = `${where}${andGuard(guard)}`;
  const args = [...whereArgs, ...guardArgs(guard)] as InValue[];
  const running = `(SELECT id FROM workflow_instances WHERE status = 'running' AND ${cond})`;
  return [
    { sql: `UPDATE workflow_steps SET status = 'cancelled', reason = ? WHERE status = 'waiting' AND instance_id IN ${running}`, args: [reason, ...args] },
    {
      sql: `UPDATE runs SET status = 'killed', ended_at = ?, error = ?, lease_until = NULL, fence = fence + 1
            WHERE status = 'queued' AND instance_id != 0 AND instance_id IN ${running}`,
      args: [now, reason, ...args],
    },
    {
      sql: `UPDATE runs SET kill_requested_at = COALESCE(kill_requested_at, ?) WHERE status = 'running' AND instance_id != 0 AND instance_id IN ${running}`,
      args: [now, ...args],
    },
    { sql: `UPDATE workflow_instances SET status = 'cancelled', ended_at = ?, error = ?, seq = seq + 1 WHERE status = 'running' AND ${cond}`, args: [now, reason, ...args] },
  ];
}

/** Cancels a running instance; false when it was not running. Returns its runs that had a kill requested. */
export async function cancelInstance(store: Store, id: number, now: number, reason: string, notices?: Notices): Promise<{ cancelled: boolean; running: number[] }> {
  const running = await read(store, { sql: "SELECT id FROM runs WHERE instance_id = ? AND instance_id != 0 AND status = 'running'", args: [id] });
  const results = await write(store, [...cancelStatements({ instance: id }, now, reason), ...(notices ? notificationStatements(notices, now, endedAt(id, now)) : [])]);
  return { cancelled: results[3].rowsAffected > 0, running: running.map((r) => Number(r.id)) };
}

/** What an instance is started from: its workflow as it stands. */
export interface InstanceOf {
  id: number;
  namespace: string;
  name: string;
  version: number;
  overlap: "allow" | "forbid" | "replace";
  steps: string[];
}

/**
 * The statements that start an instance of workflow `w` for slot `scheduledAt`: its steps all waiting,
 * left to be advanced (seq 1, advanced 0), so that whichever node advances it first starts its first
 * steps. With overlap `forbid` and an instance still running, the new one is stored cancelled, saying so;
 * with `replace`, the running ones are cancelled first. Nothing is written for a slot already taken, or
 * where `guard` does not hold. The instance insert is the last statement but one.
 */
export function startStatements(w: InstanceOf, trigger: string, scheduledAt: number, now: number, guard: Guard | null = null, params: string | null = null): Stmt[] {
  const busy = `EXISTS (SELECT 1 FROM workflow_instances WHERE workflow_id = ? AND status = 'running')`;
  const forbid = w.overlap === "forbid";
  return [
    ...(w.overlap === "replace" ? cancelStatements({ workflow: [w.namespace, w.name] }, now, "cancelled: replaced by a newer instance (overlap replace)", guard) : []),
    {
      sql: `INSERT INTO workflow_instances (workflow_id, namespace, workflow, workflow_version, status, trigger, scheduled_at, started_at, params, ended_at, error, seq, advanced)
            SELECT ?, ?, ?, ?, s, ?, ?, ?, ?, CASE s WHEN 'running' THEN NULL ELSE ? END,
                   CASE s WHEN 'running' THEN NULL ELSE 'skipped: an earlier instance was still running (overlap forbid)' END, 1, 0
            FROM (SELECT CASE WHEN ? AND ${busy} THEN 'cancelled' ELSE 'running' END AS s) WHERE true${andGuard(guard)}
            ON CONFLICT DO NOTHING RETURNING id, status`,
      args: [w.id, w.namespace, w.name, w.version, trigger, scheduledAt, now, params, now, forbid ? 1 : 0, w.id, ...guardArgs(guard)] as InValue[],
    },
    {
      sql: `INSERT INTO workflow_steps (instance_id, step_id, position, status, reason)
            SELECT i.id, s.value, s.key, CASE i.status WHEN 'running' THEN 'waiting' ELSE 'cancelled' END,
                   CASE i.status WHEN 'running' THEN NULL ELSE i.error END
            FROM workflow_instances AS i, json_each(?) AS s WHERE i.workflow_id = ? AND i.scheduled_at = ? AND changes() = 1`,
      args: [JSON.stringify(w.steps), w.id, scheduledAt],
    },
  ];
}

/** Starts an instance of `w` for slot `scheduledAt` (startStatements); its id, or null when the slot is taken. */
export async function startInstance(store: Store, w: InstanceOf, trigger: string, scheduledAt: number, now: number, params: string | null): Promise<number | null> {
  const results = await write(store, startStatements(w, trigger, scheduledAt, now, null, params));
  const inserted = results[results.length - 2].rows[0];
  return inserted ? Number(inserted.id) : null;
}

export async function instanceById(store: Store, id: number): Promise<InstanceRow | null> {
  const r = await readOne(store, { sql: `SELECT ${INSTANCE_COLUMNS} FROM workflow_instances WHERE id = ?`, args: [id] });
  return r ? instanceRowOf(r) : null;
}

/** A step as stored, with its latest run (its last attempt) if it has one. */
export type StepState = StepRow & { latest: StepRun | null };

/** The steps of instances, each in its workflow's order, with their latest runs: one query for them all. */
export async function stepsOf(store: Store, ids: number[]): Promise<Map<number, StepState[]>> {
  const rows = await read(store, {
    sql: `SELECT s.instance_id, s.step_id, s.status, s.run_id, s.reason, s.result, s.output,
            r.id AS latest_id, r.status AS latest_status, r.result AS latest_result, r.error AS latest_error, r.output_tail AS latest_output
          FROM workflow_steps AS s
          LEFT JOIN runs AS r ON r.id = (SELECT max(x.id) FROM runs AS x WHERE x.instance_id = s.instance_id AND x.instance_id != 0 AND x.step_id = s.step_id)
          WHERE s.instance_id IN (SELECT value FROM json_each(?)) ORDER BY s.instance_id, s.position`,
    args: [JSON.stringify(ids)],
  });
  const out = new Map<number, StepState[]>(ids.map((id) => [id, []]));
  for (const r of rows) {
    const latest = r.latest_id == null ? null : { id: Number(r.latest_id), status: String(r.latest_status), result: json(r.latest_result), error: str(r.latest_error), outputTail: str(r.latest_output) };
    out.get(Number(r.instance_id))?.push({ ...stepRowOf(r), latest });
  }
  return out;
}

/** Up to `limit` instances of a workflow, newest first, older than `before` (an id). */
export async function instancesPage(store: Store, workflowId: number, before: number | null, limit: number): Promise<InstanceRow[]> {
  const rows = await read(store, {
    sql: `SELECT ${INSTANCE_COLUMNS} FROM workflow_instances WHERE workflow_id = ?${before === null ? "" : " AND id < ?"} ORDER BY id DESC LIMIT ?`,
    args: before === null ? [workflowId, limit] : [workflowId, before, limit],
  });
  return rows.map(instanceRowOf);
}

/** Instances with step ends not yet advanced (or never advanced since they started). */
export async function unadvanced(store: Store, limit: number): Promise<{ id: number; seq: number }[]> {
  const rows = await read(store, { sql: "SELECT id, seq FROM workflow_instances WHERE seq != advanced LIMIT ?", args: [limit] });
  return rows.map((r) => ({ id: Number(r.id), seq: Number(r.seq) }));
}

/** One step's change, as the advance decided it from the state it read. */
export type StepChange =
  | { step: string; ended: StepStatus; runId: number | null; reason: string | null; result: unknown; output: string | null }
  | { step: string; settled: "skipped" | "failed"; reason: string }
  | { step: string; start: { jobNamespace: string; job: string; params: string | null } };

/**
 * The advance of instance `inst` as one write: each change guarded by the state it was decided from, the
 * instance's end if it ended, and `advanced` set to the seq that was read (an end that came meanwhile
 * raised seq past it: the instance is advanced again). A step started whose job has gone meanwhile stays
 * waiting and raises seq, to be decided again.
 */
export async function advance(store: Store, inst: InstanceRow, changes: StepChange[], end: InstanceStatus | null, now: number, notices?: Notices): Promise<void> {
  const stmts: Stmt[] = [];
  const started: string[] = [];
  for (const c of changes) {
    if ("ended" in c) {
      stmts.push({
        sql: "UPDATE workflow_steps SET status = ?, run_id = coalesce(?, run_id), reason = ?, result = ?, output = ? WHERE instance_id = ? AND step_id = ? AND status = 'running'",
        args: [c.ended, c.runId, c.reason, c.result === undefined ? null : JSON.stringify(c.result), c.output, inst.id, c.step],
      });
    } else if ("settled" in c) {
      stmts.push({ sql: "UPDATE workflow_steps SET status = ?, reason = ? WHERE instance_id = ? AND step_id = ? AND status = 'waiting'", args: [c.settled, c.reason, inst.id, c.step] });
    } else {
      started.push(c.step);
      const waiting = "(SELECT status FROM workflow_steps WHERE instance_id = ? AND step_id = ?) = 'waiting'";
      stmts.push(
        {
          sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, fence, params, instance_id, step_id)
                SELECT j.id, ?, j.name, ?, ?, 'workflow', 1, 'queued', 0, ?, ?, ? FROM jobs AS j WHERE j.namespace = ? AND j.name = ? AND ${waiting}
                ON CONFLICT DO NOTHING`,
          args: [inst.namespace, inst.scheduledAt, now, c.start.params, inst.id, c.step, c.start.jobNamespace, c.start.job, inst.id, c.step],
        },
        {
          sql: `UPDATE workflow_steps SET status = 'running', run_id = (SELECT max(id) FROM runs WHERE instance_id = ? AND step_id = ? AND instance_id != 0)
                WHERE instance_id = ? AND step_id = ? AND status = 'waiting' AND EXISTS (SELECT 1 FROM runs WHERE instance_id = ? AND step_id = ? AND instance_id != 0)`,
          args: [inst.id, c.step, inst.id, c.step, inst.id, c.step],
        },
      );
    }
  }
  if (started.length) {
    stmts.push({
      sql: "UPDATE workflow_instances SET seq = seq + 1 WHERE id = ? AND EXISTS (SELECT 1 FROM workflow_steps WHERE instance_id = ? AND status = 'waiting' AND step_id IN (SELECT value FROM json_each(?)))",
      args: [inst.id, inst.id, JSON.stringify(started)],
    });
  }
  if (end) {
    stmts.push({ sql: "UPDATE workflow_instances SET status = ?, ended_at = ? WHERE id = ? AND status = 'running'", args: [end, now, inst.id] });
    // Its notifications: written only by the advance that ended it.
    if (notices) stmts.push(...notificationStatements(notices, now, endedAt(inst.id, now)));
  }
  stmts.push({ sql: "UPDATE workflow_instances SET advanced = ? WHERE id = ? AND advanced < ?", args: [inst.seq, inst.id, inst.seq] });
  await write(store, stmts);
}

/** Where instance `id` ended at `at`: what a write that ended it there sees. */
const endedAt = (id: number, at: number): Guard => ({ sql: "EXISTS (SELECT 1 FROM workflow_instances WHERE id = ? AND ended_at = ?)", args: [id, at] });
