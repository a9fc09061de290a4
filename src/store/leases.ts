// The SQL of leases: a node renews the leases of the runs it holds (with its heartbeat), and runs whose
// holder's lease lapsed are taken back: those in flight end lost (a recovery attempt queued), those queued
// are released for any node.
import type { Store } from "./client.ts";
import { type Batch, batchOf } from "./group-writer.ts";
import { DB_NOW, read, str, write } from "./sql.ts";

/** Extends the leases of exactly these runs, where this node still holds them. */
export function renewLeases(ids: number[], leaseUntil: number, nodeId: string): Batch<void> {
  return batchOf([
    {
      sql: "UPDATE runs SET lease_until = ? FROM json_each(?) AS h WHERE runs.id = h.value AND runs.node_id = ?",
      args: [leaseUntil, JSON.stringify(ids), nodeId],
    },
  ]);
}

/** Which lost runs get a recovery attempt, and when. */
export interface RecoveryRule {
  /** When the recovery attempt is due. */
  dueAt: number;
  /** A job without its own retry policy may make this many attempts. */
  defaultTimes: number;
  /** However few its policy allows, a run lost in flight gets at least this many attempts. */
  minTimes: number;
}

/**
 * Whose runs are taken back: those whose lease lapsed, and also `mine` (this node's own, at start and stop),
 * or those of every node but `me` silent for more than `deadFor` ms by the database's clock (dead nodes,
 * whose rows go).
 */
export type Whose = { mine: string } | { lapsed: true } | { deadFor: number; me: string };

/** The runs `whose` names (alias r), as a condition and its arguments, given the time `now`. */
function condition(whose: Whose, now: number): { cond: string; args: (string | number)[] } {
  if ("mine" in whose) return { cond: "(r.lease_until < ? OR r.node_id = ?)", args: [now, whose.mine] };
  if ("lapsed" in whose) return { cond: "r.lease_until < ?", args: [now] };
  return {
    cond: `(r.lease_until < ? OR r.node_id IN (SELECT id FROM nodes WHERE heartbeat_at < ${DB_NOW} - ? AND id != ?))`,
    args: [now, whose.deadFor, whose.me],
  };
}

/** The process groups recorded for runs left `running` that `whose` names (local runs still in flight). */
export async function processesOf(store: Store, now: number, whose: Whose): Promise<{ runId: number; kind: string; pgid: number; proc: string; container: string | null }[]> {
  const { cond, args } = condition(whose, now);
  const rows = await read(store, {
    sql: `SELECT r.id, j.target_kind, r.pgid, r.proc, r.container FROM runs AS r LEFT JOIN jobs AS j ON j.id = r.job_id
          WHERE r.status = 'running' AND r.pgid IS NOT NULL AND r.proc IS NOT NULL AND ${cond}`,
    args,
  });
  return rows.map((r) => ({ runId: Number(r.id), kind: String(r.target_kind), pgid: Number(r.pgid), proc: String(r.proc), container: str(r.container) }));
}

/**
 * Runs left `running` that `whose` names end `lost` (or `killed`, when a kill was requested), and a
 * `recovery` attempt of the same slot is queued while `rule` allows; queued runs it names are released for
 * any node; dead nodes' rows go, in the same transaction. Returns how many runs ended, and how many of those
 * ended lost (the others: killed).
 */
export async function recoverLapsed(store: Store, now: number, rule: RecoveryRule, whose: Whose = { lapsed: true }): Promise<{ ended: number; lost: number }> {
  const { cond, args } = condition(whose, now);
  const results = await write(store, [
    {
      // A broadcast run is for its node: only that node recovers it (at its next start).
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, key, status, node_id, lease_until, fence, started_at, ended_at, error, params, for_node, instance_id, step_id)
            SELECT r.job_id, r.namespace, r.job_name, r.scheduled_at, ?, 'recovery', r.attempt + 1, COALESCE(r.key, r.id), 'queued', NULL, NULL, 0, NULL, NULL, NULL, r.params, r.for_node, r.instance_id, r.step_id
            FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.status = 'running' AND ${cond} AND r.kill_requested_at IS NULL AND (r.for_node = '' OR r.for_node = ?)
              AND r.attempt <= max(?, COALESCE(json_extract(j.retry, '$.times'), ?))
            ON CONFLICT DO NOTHING`,
      args: [rule.dueAt, ...args, "mine" in whose ? whose.mine : "", rule.minTimes, rule.defaultTimes],
    },
    {
      // A run whose kill was requested is not recovered: it ends killed.
      sql: `UPDATE runs AS r SET lease_until = NULL, fence = r.fence + 1, ended_at = ?,
              status = CASE WHEN r.kill_requested_at IS NULL THEN 'lost' ELSE 'killed' END,
              error = CASE WHEN r.kill_requested_at IS NULL
                THEN 'lost: node ' || COALESCE(r.node_id, '?') || ' stopped or lost its lease while the run was in flight'
                ELSE 'killed by request (its node stopped or lost its lease before the run ended)' END
            WHERE r.status = 'running' AND ${cond}
            RETURNING status`,
      args: [now, ...args],
    },
    { sql: `UPDATE runs AS r SET node_id = NULL, lease_until = NULL WHERE r.status = 'queued' AND ${cond}`, args },
    ...("deadFor" in whose ? [{ sql: `DELETE FROM nodes WHERE heartbeat_at < ${DB_NOW} - ? AND id != ?`, args: [whose.deadFor, whose.me] }] : []),
    {
      // A broadcast run for a node that is gone (stopped, or taken for dead) will never start: it ends skipped.
      sql: `UPDATE runs SET status = 'skipped', ended_at = ?, lease_until = NULL,
              error = 'broadcast: node ' || for_node || ' left before this run started'
            WHERE status = 'queued' AND for_node != '' AND for_node != ? AND for_node NOT IN (SELECT id FROM nodes)`,
      // (A node recovering its own runs at start has not joined again yet: its own are kept for it.)
      args: [now, "mine" in whose ? whose.mine : ""],
    },
  ]);
  const ended = results[1].rows;
  return { ended: ended.length, lost: ended.filter((r) => r.status === "lost").length };
}
