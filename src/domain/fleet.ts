// Views across jobs and namespaces, for an operator looking at the whole fleet: the namespaces in use,
// runs across jobs (every failed run of the last hour), and what fires next.
import { parseDuration } from "../schedule/index.ts";
import { jobsByNextFire, type Upcoming, upcomingFires } from "../store/jobs.ts";
import { namespacesWithJobs } from "../store/namespaces.ts";
import { runsAcross } from "../store/runs.ts";
import { sees } from "./access.ts";
import type { DomainDeps } from "./deps.ts";
import { invalid } from "./errors.ts";
import { decodeCursor, encodeCursor, iso } from "./ids.ts";
import type { Page } from "./jobs.ts";
import { RUN_STATUSES } from "./runs.ts";
import { type JobView, jobView, type RunView, runView } from "./views.ts";

/** Rows read per query when a key sees only some namespaces, and rows it may not see are dropped. */
const SCAN = 500;

/** The namespaces that have jobs, with how many, of those the caller may see. */
export async function listNamespaces(deps: Pick<DomainDeps, "store" | "access">): Promise<{ items: { namespace: string; jobs: number }[]; nextCursor: null }> {
  const rows = await namespacesWithJobs(deps.store);
  return { items: rows.filter((r) => sees(deps.access, r.namespace)), nextCursor: null };
}

/** An instant as RFC 3339, or a duration before now ("1h": an hour ago). */
export function instantParam(value: string | undefined, field: string, now: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ago = parseDuration(value);
  if (ago !== null) return now - ago;
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)) {
    const t = Date.parse(value);
    if (Number.isFinite(t)) return t;
  }
  throw invalid(`${field} must be an RFC 3339 instant (2026-01-31T09:00:00Z) or a duration before now (1h, 30m)`, field);
}

/**
 * Reads pages of `read` (each after the last row of the one before) until `limit` rows the caller may see
 * are found or none is left; a page of rows it may not see costs another read, not an empty answer.
 */
async function visible<R extends { namespace: string }, C>(deps: Pick<DomainDeps, "access">, limit: number, first: C | undefined, read: (after: C | undefined, n: number) => Promise<R[]>, cursorOf: (r: R) => C): Promise<{ rows: R[]; more: boolean }> {
  const all = deps.access.namespaces === null;
  const rows: R[] = [];
  let after = first;
  for (;;) {
    const n = all ? limit + 1 : SCAN;
    const page = await read(after, n);
    for (const r of page) if (all || sees(deps.access, r.namespace)) rows.push(r);
    if (rows.length > limit) return { rows: rows.slice(0, limit), more: true };
    if (page.length < n) return { rows, more: false };
    after = cursorOf(page[page.length - 1]);
  }
}

/** Runs across jobs, newest slot first. */
export async function listRunsAcross(
  deps: DomainDeps,
  q: { namespace?: string; status?: string; since?: string; until?: string; limit?: number; cursor?: string },
): Promise<Page<RunView>> {
  if (q.namespace !== undefined && !sees(deps.access, q.namespace)) return { items: [], nextCursor: null };
  const statuses = q.status ? q.status.split(",") : undefined;
  for (const s of statuses ?? []) {
    if (!(RUN_STATUSES as readonly string[]).includes(s)) throw invalid(`status must be one of ${RUN_STATUSES.join(", ")}`, "status");
  }
  const now = deps.clock.now();
  const since = instantParam(q.since, "since", now);
  const until = instantParam(q.until, "until", now);
  const limit = q.limit ?? 100;
  const first = q.cursor ? pair(decodeCursor<string>(q.cursor, "string")) : undefined;
  const { rows, more } = await visible(
    deps,
    limit,
    first,
    (before, n) => runsAcross(deps.store, { namespace: q.namespace, statuses, since, until, before, limit: n }),
    (r) => [r.scheduledAt, r.id] as [number, number],
  );
  const last = rows[rows.length - 1];
  return { items: rows.map(runView), nextCursor: more && last ? encodeCursor(`${last.scheduledAt}.${last.id}`) : null };
}

function pair(text: string): [number, number] {
  const m = /^(\d{1,16})\.(\d{1,15})$/.exec(text);
  if (!m) throw invalid("cursor is not one this server issued", "cursor");
  return [Number(m[1]), Number(m[2])];
}

/** A namespace's jobs by next fire time, soonest first, those with none last (by name). */
export async function jobsByNextFireTime(deps: DomainDeps, q: { namespace: string; limit?: number; cursor?: string }): Promise<Page<JobView>> {
  if (!sees(deps.access, q.namespace)) return { items: [], nextCursor: null };
  const limit = q.limit ?? 100;
  const first = q.cursor ? nextFireCursor(decodeCursor<string>(q.cursor, "string")) : undefined;
  const { rows, more } = await visible(
    deps,
    limit,
    first,
    (after, n) => jobsByNextFire(deps.store, { namespace: q.namespace, after, limit: n }),
    (j) => [j.nextFireAt === null ? 1 : 0, j.nextFireAt ?? 0, j.name] as [number, number, string],
  );
  const last = rows[rows.length - 1];
  const cursor = last ? JSON.stringify([last.nextFireAt === null ? 1 : 0, last.nextFireAt ?? 0, last.name]) : "";
  return { items: rows.map(jobView), nextCursor: more && last ? encodeCursor(cursor) : null };
}

function nextFireCursor(text: string): [number, number, string] {
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v) && v.length === 3 && (v[0] === 0 || v[0] === 1) && Number.isSafeInteger(v[1]) && typeof v[2] === "string") return v as [number, number, string];
  } catch {
    // fall through
  }
  throw invalid("cursor is not one this server issued", "cursor");
}

/** What fires next across jobs and namespaces, soonest first: jobs' next slots and runs already queued. */
export async function upcoming(deps: DomainDeps, q: { namespace?: string; limit?: number; cursor?: string }): Promise<Page<{ namespace: string; name: string; at: string; runId: number | null }>> {
  if (q.namespace !== undefined && !sees(deps.access, q.namespace)) return { items: [], nextCursor: null };
  const limit = q.limit ?? 20;
  const keyOf = (u: Upcoming) => [u.at, u.namespace, u.job, u.run ?? 0] as [number, string, string, number];
  const first = q.cursor ? upcomingCursor(decodeCursor<string>(q.cursor, "string")) : undefined;
  const { rows, more } = await visible(deps, limit, first, (after, n) => upcomingFires(deps.store, { namespace: q.namespace, after, limit: n }), keyOf);
  const last = rows[rows.length - 1];
  return {
    items: rows.map((u) => ({ namespace: u.namespace, name: u.job, at: iso(u.at)!, runId: u.run })),
    nextCursor: more && last ? encodeCursor(JSON.stringify(keyOf(last))) : null,
  };
}

function upcomingCursor(text: string): [number, string, string, number] {
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v) && v.length === 4 && Number.isSafeInteger(v[0]) && typeof v[1] === "string" && typeof v[2] === "string" && Number.isSafeInteger(v[3])) {
      return v as [number, string, string, number];
    }
  } catch {
    // fall through
  }
  throw invalid("cursor is not one this server issued", "cursor");
}
