// The SQL of claiming: advancing a job's next_fire_at and inserting its run rows happen in one write
// transaction guarded by the job's version, so of two nodes claiming one slot only one succeeds; runs queued
// without an owner (triggers, recovery) are claimed with a lease and a fence.
import type { Store } from "./client.ts";
import { type Notices, notificationStatements } from "./notifications.ts";
import { type JobRow, NEEDS, NODE_CAN_RUN } from "./jobs.ts";
import { type RunRow, runRowOf } from "./runs.ts";
import { DB_NOW, json, num, read, type Stmt, str, valuesTable, write } from "./sql.ts";

export interface StoredRetry {
  times: number;
  interval: string;
  backoff: "fixed" | "exponential";
  maxInterval?: string;
}

/**
 * What claiming reads of a job: its plan, its slot, and what its runs execute (`target` as stored, its
 * secret values sealed apart in `secrets`). Only these columns are read: the claim is the hot path.
 */
export type ClaimJob = Pick<
  JobRow,
  | "id" | "version" | "namespace" | "name" | "scheduleKind" | "schedule" | "timezone" | "dueAt" | "anchorAt" | "startAt" | "endAt"
  | "repeats" | "firedCount" | "misfire" | "nextFireAt" | "targetKind" | "target" | "secrets" | "timeoutMs" | "overlap"
  | "maxConcurrency" | "payload" | "updatedAt" | "onEnd" | "broadcast" | "notify"
> & { retry: StoredRetry | null };

const CLAIM_COLUMNS =
  "id, version, namespace, name, schedule, schedule_kind, timezone, due_at, anchor_at, start_at, end_at, repeats, fired_count, misfire, next_fire_at, target_kind, target, secrets, timeout_ms, retry, overlap, max_concurrency, payload, updated_at, on_end, broadcast, notify";

const jobOf = (r: Record<string, unknown>): ClaimJob => ({
  id: Number(r.id),
  version: Number(r.version),
  namespace: String(r.namespace),
  name: String(r.name),
  scheduleKind: r.schedule_kind as JobRow["scheduleKind"],
  schedule: str(r.schedule),
  timezone: String(r.timezone),
  dueAt: num(r.due_at),
  anchorAt: num(r.anchor_at),
  startAt: num(r.start_at),
  endAt: num(r.end_at),
  repeats: num(r.repeats),
  firedCount: Number(r.fired_count),
  misfire: r.misfire as JobRow["misfire"],
  nextFireAt: num(r.next_fire_at),
  targetKind: r.target_kind as JobRow["targetKind"],
  target: json(r.target),
  secrets: str(r.secrets),
  timeoutMs: num(r.timeout_ms),
  retry: json<StoredRetry>(r.retry),
  overlap: r.overlap as JobRow["overlap"],
  maxConcurrency: num(r.max_concurrency),
  payload: json(r.payload),
  updatedAt: Number(r.updated_at),
  onEnd: json<string[]>(r.on_end),
  broadcast: Boolean(r.broadcast),
  notify: json(r.notify),
});


/** Up to `limit` jobs whose next slot is due by `horizon`, earliest first, of those `offers` can run. */
export async function dueJobs(store: Store, horizon: number, limit: number, offers: readonly string[]): Promise<ClaimJob[]> {
  const rows = await read(store, {
    sql: `SELECT ${CLAIM_COLUMNS} FROM jobs WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? AND ${NEEDS} IN (SELECT value FROM json_each(?))
          ORDER BY next_fire_at LIMIT ?`,
    args: [horizon, JSON.stringify(offers), limit],
  });
  return rows.map(jobOf);
}

/** The jobs of these ids (those that still exist). */
export async function jobsById(store: Store, ids: number[]): Promise<ClaimJob[]> {
  const rows = await read(store, { sql: `SELECT ${CLAIM_COLUMNS} FROM jobs WHERE id IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(ids)] });
  return rows.map(jobOf);
}

/** What one claim of slots writes; each entry carries the job version it was decided at. */
export interface SlotClaim {
  nodeId: string;
  leaseUntil: number;
  now: number;
  /** Runs to insert, held by this node: job id, slot, version read. */
  fire: [jobId: number, slot: number, version: number][];
  /** Broadcast jobs' slots: a run for each node that beat within `liveFor` ms and can run it (this one too). */
  broadcast: [jobId: number, slot: number, version: number][];
  liveFor: number;
  /** Missed slots recorded as skipped runs: job id, slot, version read, why. */
  skipped: [jobId: number, slot: number, version: number, error: string][];
  /** Jobs moved on: job id, next slot (null: none), slots fired now, version read. */
  advance: [jobId: number, next: number | null, fired: number, version: number][];
  /** Notifications of missed slots, each job's written where the job is at the version read. */
  notices?: { jobId: number; version: number; notices: Notices }[];
}

/** A run inserted for a slot. */
export interface SlotRun {
  id: number;
  jobId: number;
  scheduledAt: number;
}

/** The runs of slots (table s), held by this node (node id, lease until), where the job is at the version read. */
const INSERT_SLOTS = `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, lease_until, fence)
  SELECT jobs.id, jobs.namespace, jobs.name, s.slot, s.slot, 'schedule', 1, 'queued', ?, ?, 1
  FROM s, jobs WHERE jobs.id = s.job_id AND jobs.version = s.read_version
  ON CONFLICT DO NOTHING RETURNING id, job_id, scheduled_at`;

/** Jobs (table a) moved on to their next slot, where still at the version read. */
const ADVANCE_JOBS = `UPDATE jobs SET next_fire_at = a.next, fired_count = jobs.fired_count + a.fired, version = jobs.version + 1
  FROM a WHERE jobs.id = a.job_id AND jobs.version = a.read_version`;

/**
 * Set-based: a statement inserts the runs of up to 256 slots and one advances as many jobs, their values
 * bound as rows (sql.ts valuesTable). The inserts come first and are guarded by the version each job was read at, then the jobs move on under the
 * same guard; inside one write transaction both see the same versions, so a job changed meanwhile by
 * another node or the API gets neither.
 */
export async function claimSlots(store: Store, c: SlotClaim): Promise<SlotRun[]> {
  const inserts = valuesTable("s", ["job_id", "slot", "read_version"], c.fire, INSERT_SLOTS, [c.nodeId, c.leaseUntil]);
  const stmts: Stmt[] = [...inserts];
  if (c.broadcast.length) {
    // Unowned, each for its node, which alone claims it (claimQueued), as its own claim cycle comes.
    stmts.push({
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, lease_until, fence, for_node)
            SELECT jobs.id, jobs.namespace, jobs.name, s.value->>1, s.value->>1, 'schedule', 1, 'queued', NULL, NULL, 0, n.id
            FROM json_each(?) AS s, jobs, nodes AS n
            WHERE jobs.id = s.value->>0 AND jobs.version = s.value->>2 AND (n.heartbeat_at >= ${DB_NOW} - ? OR n.id = ?)
              AND ${NODE_CAN_RUN}
            ON CONFLICT DO NOTHING`,
      args: [JSON.stringify(c.broadcast), c.liveFor, c.nodeId],
    });
  }
  if (c.skipped.length) {
    stmts.push({
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, fence, ended_at, error)
            SELECT jobs.id, jobs.namespace, jobs.name, s.value->>1, s.value->>1, 'schedule', 1, 'skipped', ?, 1, ?, s.value->>3
            FROM json_each(?) AS s, jobs WHERE jobs.id = s.value->>0 AND jobs.version = s.value->>2
            ON CONFLICT DO NOTHING`,
      args: [c.nodeId, c.now, JSON.stringify(c.skipped)],
    });
  }
  for (const n of c.notices ?? []) {
    stmts.push(...notificationStatements(n.notices, c.now, { sql: "EXISTS (SELECT 1 FROM jobs WHERE id = ? AND version = ?)", args: [n.jobId, n.version] }));
  }
  stmts.push(...valuesTable("a", ["job_id", "next", "fired", "read_version"], c.advance, ADVANCE_JOBS));
  const results = await write(store, stmts);
  return results.slice(0, inserts.length).flatMap((rs) => rs.rows.map((r) => ({ id: Number(r.id), jobId: Number(r.job_id), scheduledAt: Number(r.scheduled_at) })));
}

/**
 * Takes up to `limit` queued runs no node holds, due by `horizon` (triggers, far retries, runs released by a
 * stopped node or whose holder's lease lapsed), of jobs `offers` can run, with a lease and a new fence.
 * Runs whose job is gone are taken too, for the caller to delete.
 */
export async function claimQueued(store: Store, nodeId: string, leaseUntil: number, horizon: number, limit: number, offers: readonly string[]): Promise<RunRow[]> {
  const [rs] = await write(store, [
    {
      sql: `UPDATE runs SET node_id = ?, lease_until = ?, fence = fence + 1
            WHERE id IN (SELECT runs.id FROM runs LEFT JOIN jobs ON jobs.id = runs.job_id
                         WHERE runs.status = 'queued' AND runs.node_id IS NULL AND runs.due_at <= ?
                           AND (jobs.id IS NULL OR ${NEEDS} IN (SELECT value FROM json_each(?)))
                           AND (runs.for_node = '' OR runs.for_node = ?)
                         ORDER BY runs.due_at LIMIT ?)
            RETURNING *`,
      args: [nodeId, leaseUntil, horizon, JSON.stringify(offers), nodeId, limit],
    },
  ]);
  return rs.rows.map(runRowOf);
}

/** Deletes runs whose job is gone. */
export async function deleteOrphans(store: Store, ids: number[]): Promise<void> {
  await write(store, [{ sql: "DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))", args: [JSON.stringify(ids)] }]);
}
