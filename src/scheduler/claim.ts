// The SQL of claiming (DESIGN invariant 2): advancing a job's next_fire_at and inserting its run rows
// happen in one write transaction guarded by the job's version, so of two nodes claiming one slot only
// one succeeds; runs queued without an owner (triggers, recovery) are claimed with a lease and a fence.
import type { Row } from "@libsql/client";
import type { RetryPolicy, RunParams, TargetKind } from "../domain/schemas.ts";
import { joinSecrets, openParams, type SecretBox } from "../domain/secrets.ts";
import { hostOfIp, normalName, parseIp, splitHostPort } from "../net/address.ts";
import type { Store } from "../store/client.ts";
import { json, num, read, type Stmt, write } from "../store/sql.ts";
import type { Plan } from "../schedule/index.ts";
import { decideSlots, type Misfire } from "./policy.ts";

/** What executing a run needs to know of its job, captured at claim time. */
export interface JobExec {
  targetKind: TargetKind;
  target: unknown;
  timeoutMs: number | null;
  retry: RetryPolicy | null;
  overlap: "allow" | "forbid" | "replace" | "queue";
  maxConcurrency: number | null;
  payload: unknown;
  recurring: boolean;
  /**
   * Where the run goes, for the per-host concurrency limit: an address in its canonical form and the port,
   * so that every spelling of one address shares the limit ("local" for processes).
   */
  host: string;
  /** A host name and port: the runner keys the run on the address the name resolves to instead. */
  resolve?: { name: string; port: number };
  /** The job definition's updated_at: a retry is queued only while the job is still this definition. */
  updatedAt: number;
  /** Why the job's secret values could not be opened (its runs fail with it rather than run without them). */
  unopened?: string;
}

/** A run this node holds: queued in the timer heap until due, then running. */
export interface Claimed {
  id: number;
  jobId: number;
  namespace: string;
  jobName: string;
  scheduledAt: number;
  dueAt: number;
  trigger: string;
  attempt: number;
  key: string;
  fence: number;
  job: JobExec;
  /** Extra input given by the trigger that queued this run (kept by its retries). */
  params?: RunParams | null;
  cancelled?: boolean;
  /** One of several missed slots run by misfire `all`: waits for the job's earlier run, never skipped. */
  catchUp?: boolean;
}

const RUN_INSERT_COLUMNS =
  "job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, key, status, node_id, lease_until, fence, started_at, ended_at, error";

/** The per-host key of an address literal or a host name (lower-cased, for the runner to resolve). */
function keyOf(host: string, port: number): Pick<JobExec, "host" | "resolve"> {
  const ip = parseIp(host);
  if (ip) return { host: `${hostOfIp(ip)}:${port}` };
  const name = normalName(host);
  return { host: `${name}:${port}`, resolve: { name, port } };
}

export function hostOf(kind: string, target: { url?: string; addr?: string } | null): Pick<JobExec, "host" | "resolve"> {
  if (kind === "tcp") {
    const { host, port } = splitHostPort(String(target?.addr));
    return keyOf(host, port);
  }
  // Local processes share one "host", this machine: max_in_flight_per_host bounds them too.
  if (kind !== "http") return { host: "local" };
  try {
    const u = new URL(String(target?.url));
    const port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
    // A URL writes an IPv4 address canonically already (127.1 and 0x7f.1 are 127.0.0.1): no parsing on this path.
    if (/^[\d.]+$/.test(u.hostname)) return { host: `${u.hostname}:${port}` };
    return keyOf(u.hostname, port);
  } catch {
    return { host: String(target?.url) };
  }
}

/** The plan a job row was compiled to. */
function planOfRow(r: Row): Plan {
  const n = (x: unknown) => (x == null ? null : Number(x));
  return { kind: r.schedule_kind as Plan["kind"], schedule: (r.schedule as string | null) ?? null, timezone: String(r.timezone), dueAt: n(r.due_at), anchorAt: n(r.anchor_at), startAt: n(r.start_at), endAt: n(r.end_at), repeats: n(r.repeats) };
}

export function jobExec(r: Row): JobExec {
  const target = json<{ url?: string; addr?: string }>(r.target);
  return {
    ...hostOf(String(r.target_kind), target),
    updatedAt: Number(r.updated_at),
    targetKind: r.target_kind as TargetKind,
    target,
    timeoutMs: num(r.timeout_ms),
    retry: json<RetryPolicy>(r.retry),
    overlap: r.overlap as JobExec["overlap"],
    maxConcurrency: num(r.max_concurrency),
    payload: json(r.payload),
    recurring: r.schedule_kind !== "once",
  };
}

function claimedFrom(r: Row, job: JobExec): Claimed {
  return {
    id: Number(r.id),
    jobId: Number(r.job_id),
    namespace: String(r.namespace),
    jobName: String(r.job_name),
    scheduledAt: Number(r.scheduled_at),
    dueAt: Number(r.due_at),
    trigger: String(r.trigger),
    attempt: Number(r.attempt),
    key: String(r.key ?? r.id),
    fence: Number(r.fence),
    job,
  };
}

export interface ClaimOptions {
  /** Opens the sealed secret values of jobs and runs for their executors. */
  secrets: SecretBox;
  nodeId: string;
  now: number;
  horizon: number;
  leaseUntil: number;
  limit: number;
  misfireThreshold: number;
  misfireCap: number;
}

const CLAIM_COLUMNS =
  "id, version, namespace, name, schedule, schedule_kind, timezone, due_at, anchor_at, start_at, end_at, repeats, fired_count, misfire, next_fire_at, target_kind, target, secrets, timeout_ms, retry, overlap, max_concurrency, payload, updated_at";

/** A job's target with its secret values in place (only jobs that have some pay for this). */
function withSecrets(box: SecretBox, r: Row, job: JobExec): JobExec {
  if (r.secrets == null) return job;
  try {
    return { ...job, target: joinSecrets(job.targetKind, job.target, box.open(String(r.secrets))) };
  } catch (e) {
    return { ...job, unopened: `cannot open the job's secret values: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * Claims the next slots of up to `limit` jobs due by `horizon` and returns the runs now held by this node.
 * Set-based: one statement inserts every run and one advances every job, whatever the batch size. The
 * inserts come first and are guarded by the version each job was read at, then the jobs move on under
 * the same guard; inside one write transaction both see the same versions, so a job changed meanwhile by
 * another node or the API gets neither.
 */
export async function claimSlots(store: Store, o: ClaimOptions): Promise<{ claimed: Claimed[]; jobs: number }> {
  const rows = await read(store, {
    sql: `SELECT ${CLAIM_COLUMNS} FROM jobs WHERE next_fire_at IS NOT NULL AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?`,
    args: [o.horizon, o.limit],
  });
  if (rows.length === 0) return { claimed: [], jobs: 0 };
  const advance: [number, number | null, number, number][] = []; // job id, next slot, fired now, version read
  const fire: [number, number, number][] = []; // job id, slot, version read
  const skipped: [number, number, number, string][] = [];
  const byJob = new Map<number, { job: JobExec; catchUp: boolean }>();
  for (const r of rows) {
    const id = Number(r.id);
    const version = Number(r.version);
    const slot = Number(r.next_fire_at);
    const d = decideSlots(planOfRow(r), slot, Number(r.fired_count), o.now, r.misfire as Misfire, o.misfireThreshold, o.misfireCap);
    advance.push([id, d.next, d.fire.length, version]);
    for (const at of d.fire) fire.push([id, at, version]);
    if (d.skipped > 0) skipped.push([id, slot, version, `misfire: ${d.skipped}${d.more ? "+" : ""} missed slot(s) not run (policy ${r.misfire})`]);
    byJob.set(id, { job: withSecrets(o.secrets, r, jobExec(r)), catchUp: d.fire.length > 1 });
  }
  const stmts: Stmt[] = [
    {
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, lease_until, fence)
            SELECT jobs.id, jobs.namespace, jobs.name, s.value->>1, s.value->>1, 'schedule', 1, 'queued', ?, ?, 1
            FROM json_each(?) AS s, jobs WHERE jobs.id = s.value->>0 AND jobs.version = s.value->>2
            ON CONFLICT DO NOTHING RETURNING id, job_id, namespace, job_name, scheduled_at`,
      args: [o.nodeId, o.leaseUntil, JSON.stringify(fire)],
    },
  ];
  if (skipped.length) {
    stmts.push({
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, fence, ended_at, error)
            SELECT jobs.id, jobs.namespace, jobs.name, s.value->>1, s.value->>1, 'schedule', 1, 'skipped', ?, 1, ?, s.value->>3
            FROM json_each(?) AS s, jobs WHERE jobs.id = s.value->>0 AND jobs.version = s.value->>2
            ON CONFLICT DO NOTHING`,
      args: [o.nodeId, o.now, JSON.stringify(skipped)],
    });
  }
  stmts.push({
    sql: `UPDATE jobs SET next_fire_at = a.value->>1, fired_count = fired_count + (a.value->>2), version = version + 1
          FROM json_each(?) AS a WHERE jobs.id = a.value->>0 AND jobs.version = a.value->>3`,
    args: [JSON.stringify(advance)],
  });
  const [inserted] = await write(store, stmts);
  const claimed: Claimed[] = inserted.rows.map((r) => {
    const { job, catchUp } = byJob.get(Number(r.job_id))!;
    const at = Number(r.scheduled_at);
    return {
      id: Number(r.id),
      jobId: Number(r.job_id),
      namespace: String(r.namespace),
      jobName: String(r.job_name),
      scheduledAt: at,
      dueAt: at,
      trigger: "schedule",
      attempt: 1,
      key: String(r.id),
      fence: 1,
      job,
      catchUp,
    };
  });
  return { claimed, jobs: rows.length };
}

/**
 * Claims queued runs no node holds (triggers, far retries, runs released by a stopped node or whose holder's
 * lease lapsed: recoverLost releases those).
 */
export async function claimQueued(store: Store, o: ClaimOptions): Promise<Claimed[]> {
  const [rs] = await write(store, [
    {
      sql: `UPDATE runs SET node_id = ?, lease_until = ?, fence = fence + 1
            WHERE id IN (SELECT id FROM runs WHERE status = 'queued' AND node_id IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?)
            RETURNING *`,
      args: [o.nodeId, o.leaseUntil, o.horizon, o.limit],
    },
  ]);
  if (rs.rows.length === 0) return [];
  const ids = [...new Set(rs.rows.map((r) => Number(r.job_id)))];
  const jobs = await read(store, { sql: "SELECT * FROM jobs WHERE id IN (SELECT value FROM json_each(?))", args: [JSON.stringify(ids)] });
  const byId = new Map(jobs.map((j) => [Number(j.id), withSecrets(o.secrets, j, jobExec(j))]));
  const out: Claimed[] = [];
  const orphans: number[] = [];
  for (const r of rs.rows) {
    const job = byId.get(Number(r.job_id));
    if (!job) {
      orphans.push(Number(r.id));
      continue;
    }
    const run = claimedFrom(r, job);
    if (r.params != null) {
      try {
        run.params = openParams(o.secrets, json(r.params));
      } catch (e) {
        run.job = { ...job, unopened: `cannot open the run's variables: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    out.push(run);
  }
  if (orphans.length) await write(store, [{ sql: "DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))", args: [JSON.stringify(orphans)] }]);
  return out;
}

/**
 * Runs left `running` by a node that lost its lease (crashed) are marked `lost`, and a `recovery` attempt
 * of the same slot is queued while the job's retry budget allows (at least one: at-least-once).
 * `mine` also recovers this node's own runs at start, without waiting for their leases to expire.
 */
export async function recoverLost(store: Store, now: number, defaultRetryTimes: number, mine?: string): Promise<number> {
  const cond = mine ? "(r.lease_until < ? OR r.node_id = ?)" : "(r.lease_until < ? AND ? IS NULL)";
  const args = [now, mine ?? null];
  const results = await write(store, [
    {
      sql: `INSERT INTO runs (${RUN_INSERT_COLUMNS}, params)
            SELECT r.job_id, r.namespace, r.job_name, r.scheduled_at, ?, 'recovery', r.attempt + 1, COALESCE(r.key, r.id), 'queued', NULL, NULL, 0, NULL, NULL, NULL, r.params
            FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.status = 'running' AND ${cond} AND r.kill_requested_at IS NULL
              AND r.attempt <= max(1, COALESCE(json_extract(j.retry, '$.times'), ?))
            ON CONFLICT DO NOTHING`,
      args: [now, ...args, defaultRetryTimes],
    },
    {
      // A run whose kill was requested is not recovered: it ends killed.
      sql: `UPDATE runs AS r SET lease_until = NULL, fence = r.fence + 1, ended_at = ?,
              status = CASE WHEN r.kill_requested_at IS NULL THEN 'lost' ELSE 'killed' END,
              error = CASE WHEN r.kill_requested_at IS NULL
                THEN 'lost: node ' || COALESCE(r.node_id, '?') || ' stopped or lost its lease while the run was in flight'
                ELSE 'killed by request (its node stopped or lost its lease before the run ended)' END
            WHERE r.status = 'running' AND ${cond}`,
      args: [now, ...args],
    },
    // Queued runs whose holder's lease lapsed (or, at start and stop, this node's own) are released for
    // any node to claim.
    mine
      ? { sql: "UPDATE runs SET node_id = NULL, lease_until = NULL WHERE status = 'queued' AND node_id = ?", args: [mine] }
      : { sql: "UPDATE runs SET node_id = NULL, lease_until = NULL WHERE status = 'queued' AND lease_until < ?", args: [now] },
  ]);
  return results[1].rowsAffected;
}
