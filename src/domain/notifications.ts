// Reading a namespace's notifications: what was sent, held back (suppressed) or could not be delivered.
import { notificationsPage, type NotificationRow } from "../store/notifications.ts";
import { sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";

/** A stored notification as the API shows it. */
export interface NotificationView {
  id: number;
  event: string;
  status: "pending" | "delivered" | "failed" | "suppressed";
  url: string;
  /** The document sent (with `suppressed` when notifications were held back before it). */
  document: Record<string, unknown>;
  attempts: number;
  createdAt: string;
  endedAt: string | null;
  lastError: string | null;
}

function notificationView(n: NotificationRow): NotificationView {
  return {
    id: n.id,
    event: n.event,
    status: n.status,
    url: n.url,
    document: n.suppressed ? { ...n.document, suppressed: n.suppressed } : n.document,
    attempts: n.attempts,
    createdAt: new Date(n.createdAt).toISOString(),
    endedAt: n.endedAt === null ? null : new Date(n.endedAt).toISOString(),
    lastError: n.lastError,
  };
}

/** A namespace's notifications, newest first (`before`: the id the page before ended at). */
export async function listNotifications(deps: DomainDeps, ns: string, before: number | null, limit: number): Promise<{ items: NotificationView[]; nextCursor: string | null }> {
  if (!sees(deps.access, ns)) return { items: [], nextCursor: null };
  const rows = await notificationsPage(deps.store, ns, before, limit + 1);
  const items = rows.slice(0, limit).map(notificationView);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1].id) : null };
}
