// Notifications (table notifications) and what they remember per job or workflow (table notify_state): the
// rows written with the end they tell of, in the same transaction; a node takes due rows with a lease, holds
// back a failure sent too soon after the last (min_interval), sends the rest, records the outcome.
import type { InValue, Row } from "@libsql/client";
import type { Store } from "./client.ts";
import { type AttemptOutcome, nextDueAt, recordAttemptAt, releaseHeld, takeDue } from "./outbox.ts";
import { andGuard, type Guard, guardArgs, json, num, read, type Stmt, str, write } from "./sql.ts";

export interface NotificationRow {
  id: number;
  namespace: string;
  subject: string;
  event: string;
  runId: number | null;
  instanceId: number | null;
  document: Record<string, unknown>;
  url: string;
  headers: Record<string, string> | null;
  status: "pending" | "delivered" | "failed" | "suppressed";
  suppressed: number | null;
  attempts: number;
  createdAt: number;
  endedAt: number | null;
  lastError: string | null;
}

const COLUMNS = "id, namespace, subject, event, run_id, instance_id, document, url, headers, status, suppressed, attempts, created_at, ended_at, last_error";

const rowOf = (r: Row): NotificationRow => ({
  id: Number(r.id),
  namespace: String(r.namespace),
  subject: String(r.subject),
  event: String(r.event),
  runId: num(r.run_id),
  instanceId: num(r.instance_id),
  document: json<Record<string, unknown>>(r.document) ?? {},
  url: String(r.url),
  headers: json<Record<string, string>>(r.headers),
  status: r.status as NotificationRow["status"],
  suppressed: num(r.suppressed),
  attempts: Number(r.attempts),
  createdAt: Number(r.created_at),
  endedAt: num(r.ended_at),
  lastError: str(r.last_error),
});

/** A notification to write: of a run (fenced: only where the run's end is recorded) or of an instance. */
export interface NewNotification {
  namespace: string;
  subject: string;
  event: string;
  runId: number | null;
  /** The run's fence: the row is written only where the run still has it (its end was recorded). */
  fence: number | null;
  instanceId: number | null;
  document: Record<string, unknown>;
  url: string;
  headers: Record<string, string> | null;
  /** A recovery: written only where the subject's last end failed. */
  recovery?: boolean;
}

/** The notifications of some ends, and what the ends leave of their subjects: `failed` ones failing, `succeeded` ones not. */
export interface Notices {
  items: NewNotification[];
  failed: string[];
  succeeded: string[];
}

export const hasNotices = (n: Notices) => n.items.length > 0 || n.failed.length > 0 || n.succeeded.length > 0;

/**
 * The statements that write notices (a recovery before the subjects' states, so it sees the failure it
 * recovers from), each also under `guard` where the end they tell of must be this write's.
 */
export function notificationStatements({ items, failed, succeeded }: Notices, now: number, guard: Guard | null = null): Stmt[] {
  const stmts: Stmt[] = [];
  if (items.length) {
    const rows = items.map((n) => [n.namespace, n.subject, n.event, n.runId, n.fence, n.instanceId, JSON.stringify(n.document), n.url, n.headers && JSON.stringify(n.headers), n.recovery ? 1 : 0]);
    stmts.push({
      sql: `INSERT INTO notifications (namespace, subject, event, run_id, instance_id, document, url, headers, status, attempts, due_at, created_at)
            SELECT n.value->>0, n.value->>1, n.value->>2, n.value->>3, n.value->>5, n.value->>6, n.value->>7, n.value->>8, 'pending', 0, ?, ?
            FROM json_each(?) AS n
            WHERE (n.value->>3 IS NULL OR EXISTS (SELECT 1 FROM runs WHERE runs.id = n.value->>3 AND runs.fence = n.value->>4))
              AND (n.value->>9 = 0 OR EXISTS (SELECT 1 FROM notify_state AS s WHERE s.subject = n.value->>1 AND s.failing = 1))${andGuard(guard)}`,
      args: [now, now, JSON.stringify(rows), ...guardArgs(guard)],
    });
  }
  if (failed.length) {
    stmts.push({
      sql: `INSERT INTO notify_state (subject, failing) SELECT value, 1 FROM json_each(?) WHERE true${andGuard(guard)} ON CONFLICT(subject) DO UPDATE SET failing = 1`,
      args: [JSON.stringify(failed), ...guardArgs(guard)],
    });
  }
  if (succeeded.length) {
    stmts.push({
      sql: `UPDATE notify_state SET failing = 0 WHERE subject IN (SELECT value FROM json_each(?)) AND failing = 1${andGuard(guard)}`,
      args: [JSON.stringify(succeeded), ...guardArgs(guard)],
    });
  }
  return stmts;
}

/** Puts back the notifications this node holds (at start and stop), for any node to send. */
export const releaseNotifications = (store: Store, nodeId: string) => releaseHeld(store, "notifications", nodeId);

/** The earliest due time of a pending notification, or null. */
export const nextNotificationAt = (store: Store) => nextDueAt(store, "notifications");

/** Takes up to `limit` due notifications (outbox.ts takeDue), in the order they were written among those due together. */
export async function takeNotifications(store: Store, nodeId: string, now: number, leaseUntil: number, limit: number): Promise<NotificationRow[]> {
  return (await takeDue(store, "notifications", `${COLUMNS}, due_at`, nodeId, now, leaseUntil, limit)).map(rowOf);
}

/**
 * Decides, for a notification this node holds that min_interval applies to, whether it is sent now: yes if
 * its subject sent none held to min_interval since `since` (then how many were held back meanwhile, and the
 * subject's window starts now); otherwise it is stored suppressed and counted. Null when the node no longer
 * holds it.
 */
export async function takeWindow(store: Store, row: NotificationRow, nodeId: string, now: number, since: number): Promise<{ send: boolean; suppressed: number } | null> {
  const results = await write(store, [
    { sql: "INSERT INTO notify_state (subject) VALUES (?) ON CONFLICT DO NOTHING", args: [row.subject] },
    {
      sql: `UPDATE notifications SET suppressed = (SELECT held FROM notify_state WHERE subject = ?)
            WHERE id = ? AND node_id = ? AND status = 'pending' AND suppressed IS NULL
              AND (SELECT coalesce(sent_at, ?) FROM notify_state WHERE subject = ?) <= ?
            RETURNING suppressed`,
      args: [row.subject, row.id, nodeId, since, row.subject, since] as InValue[],
    },
    { sql: "UPDATE notify_state SET sent_at = ?, held = 0 WHERE subject = ? AND changes() = 1", args: [now, row.subject] },
    {
      sql: `UPDATE notifications SET status = 'suppressed', ended_at = ?, node_id = NULL, lease_until = NULL
            WHERE id = ? AND node_id = ? AND status = 'pending' AND suppressed IS NULL RETURNING id`,
      args: [now, row.id, nodeId],
    },
    { sql: "UPDATE notify_state SET held = held + 1 WHERE subject = ? AND changes() = 1", args: [row.subject] },
  ]);
  const sent = results[1].rows[0];
  if (sent) return { send: true, suppressed: Number(sent.suppressed) };
  if (results[3].rows.length) return { send: false, suppressed: 0 };
  // Sent before (a retry of it): its window was taken then.
  return row.suppressed !== null ? { send: true, suppressed: row.suppressed } : null;
}

/** Records an attempt at a notification this node holds. */
export async function recordNotification(store: Store, id: number, nodeId: string, outcome: AttemptOutcome): Promise<void> {
  await recordAttemptAt(store, "notifications", id, nodeId, outcome);
}

/** A namespace's notifications, newest first, older than `before` (an id). */
export async function notificationsPage(store: Store, ns: string, before: number | null, limit: number): Promise<NotificationRow[]> {
  const rows = await read(store, {
    sql: `SELECT ${COLUMNS} FROM notifications WHERE namespace = ?${before === null ? "" : " AND id < ?"} ORDER BY id DESC LIMIT ?`,
    args: before === null ? [ns, limit] : [ns, before, limit],
  });
  return rows.map(rowOf);
}
export type { Stmt } from "./sql.ts";
