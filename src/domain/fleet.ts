// Views across jobs and namespaces, for an operator looking at the whole fleet: the namespaces in use,
// runs across jobs (every failed run of the last hour), and what fires next.
import { parseDuration } from "../schedule/index.ts";
import { jobsByNextFire, type Upcoming, upcomingFires } from "../store/jobs.ts";
import { namespacesWithJobs } from "../store/namespaces.ts";
import { lastFinishedRuns, runsAcross } from "../store/runs.ts";
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

type Key = (string | number)[];

/** A page's cursor: its last row's sort key, as JSON. */
const keyCursor = (key: Key): string => encodeCursor(JSON.stringify(key));

/** The sort key a cursor carries, checked against the kinds of its parts ("n": a safe integer, "s": a string). */
function cursorKey<K extends Key>(cursor: string, kinds: readonly ("n" | "s")[]): K {
  try {
    const v = JSON.parse(decodeCursor<string>(cursor, "string"));
    if (Array.isArray(v) && v.length === kinds.length && kinds.every((k, i) => (k === "n" ? Number.isSafeInteger(v[i]) : typeof v[i] === "string"))) return v as K;
  } catch {
    // fall through
  }
  throw invalid("cursor is not one this server issued", "cursor");
}

/**
 * A page of up to `limit` rows the caller may see, after the row `cursor` names, and the cursor of the next
 * page: pages of `read` are read (each after the last row of the one before) until that many visible rows
 * are found or none is left, so a page of rows the caller may not see costs another read, not an empty
 * answer. `keyOf` is a row's sort key, whose parts are of `kinds`.
 */
async function visible<R extends { namespace: string }, K extends Key>(
  deps: Pick<DomainDeps, "access">,
  q: { limit: number; cursor?: string; kinds: readonly ("n" | "s")[] },
  read: (after: K | undefined, n: number) => Promise<R[]>,
  keyOf: (r: R) => K,
): Promise<{ rows: R[]; nextCursor: string | null }> {
  const all = deps.access.namespaces === null;
  const rows: R[] = [];
  let after = q.cursor ? cursorKey<K>(q.cursor, q.kinds) : undefined;
  for (;;) {
    const n = all ? q.limit + 1 : SCAN;
    const page = await read(after, n);
    for (const r of page) if (all || sees(deps.access, r.namespace)) rows.push(r);
    if (rows.length > q.limit) return { rows: rows.slice(0, q.limit), nextCursor: keyCursor(keyOf(rows[q.limit - 1])) };
    if (page.length < n) return { rows, nextCursor: null };
    after = keyOf(page[page.length - 1]);
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
  const { rows, nextCursor } = await visible(
    deps,
    { limit: q.limit ?? 100, cursor: q.cursor, kinds: ["n", "n"] },
    (before: [number, number] | undefined, n) => runsAcross(deps.store, { namespace: q.namespace, statuses, since, until, before, limit: n }),
    (r) => [r.scheduledAt, r.id] as [number, number],
  );
  return { items: rows.map(runView), nextCursor };
}

/** A namespace's jobs by next fire time, soonest first, those with none last (by name). */
export async function jobsByNextFireTime(deps: DomainDeps, q: { namespace: string; limit?: number; cursor?: string }): Promise<Page<JobView>> {
  if (!sees(deps.access, q.namespace)) return { items: [], nextCursor: null };
  const { rows, nextCursor } = await visible(
    deps,
    { limit: q.limit ?? 100, cursor: q.cursor, kinds: ["n", "n", "s"] },
    (after: [number, number, string] | undefined, n) => jobsByNextFire(deps.store, { namespace: q.namespace, after, limit: n }),
    (j) => [j.nextFireAt === null ? 1 : 0, j.nextFireAt ?? 0, j.name] as [number, number, string],
  );
  return { items: rows.map(jobView), nextCursor };
}

/** What fires next across jobs and namespaces, soonest first: jobs' next slots and runs already queued. */
export async function upcoming(deps: DomainDeps, q: { namespace?: string; limit?: number; cursor?: string }): Promise<Page<{ namespace: string; name: string; at: string; runId: number | null }>> {
  if (q.namespace !== undefined && !sees(deps.access, q.namespace)) return { items: [], nextCursor: null };
  const { rows, nextCursor } = await visible(
    deps,
    { limit: q.limit ?? 20, cursor: q.cursor, kinds: ["n", "s", "s", "n"] },
    (after: [number, string, string, number] | undefined, n) => upcomingFires(deps.store, { namespace: q.namespace, after, limit: n }),
    (u: Upcoming) => [u.at, u.namespace, u.job, u.run ?? 0] as [number, string, string, number],
  );
  return { items: rows.map((u) => ({ namespace: u.namespace, name: u.job, at: iso(u.at)!, runId: u.run })), nextCursor };
}

/** The latest finished run of each of `jobs` the caller may see, by job id: one read for a page of jobs. */
export async function lastResults(deps: Pick<DomainDeps, "store" | "access">, jobs: readonly { id: number; namespace: string }[]): Promise<Map<number, RunView>> {
  const rows = await lastFinishedRuns(deps.store, jobs.filter((j) => sees(deps.access, j.namespace)).map((j) => j.id));
  return new Map(rows.map((r) => [r.jobId, runView(r)]));
}
