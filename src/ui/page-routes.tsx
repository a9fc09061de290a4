/** @jsxImportSource hono/jsx */
// The dashboard's pages (GET): each reads through domain verbs with the caller's access and renders.
import type { RequestDeps, RouteDeps } from "../api/deps.ts";
import { scoped } from "../api/auth.ts";
import { sendLines } from "../api/runs.ts";
import { invalid } from "../domain/errors.ts";
import { lastResults, listNamespaces, listRunsAcross, upcoming } from "../domain/fleet.ts";
import * as v from "valibot";
import { checkName } from "../domain/job-input.ts";
import { Name } from "../domain/schemas.ts";
import { getJob, listJobs } from "../domain/jobs.ts";
import { listLogs, openFollow } from "../domain/logs.ts";
import { databaseStatus, listNodes } from "../domain/nodes.ts";
import { getRun, listRuns } from "../domain/runs.ts";
import type { JobView } from "../domain/views.ts";
import { preview } from "../schedule/index.ts";
import { FAILED } from "./format.ts";
import { FailedPage, UpcomingPage } from "./pages/fleet.tsx";
import { JobPage } from "./pages/job.tsx";
import { type JobRow, JobsPage } from "./pages/jobs.tsx";
import { NodesPage } from "./pages/nodes.tsx";
import { type PreviewData, PreviewPage } from "./pages/preview.tsx";
import { RunPage } from "./pages/run.tsx";
import { frameOf, render, type UiApp, type UiContext } from "./render.ts";

const PAGE = 100;

/** A run id from the path; 400 for anything but digits. */
export function runIdOf(c: UiContext): number {
  const raw = c.req.param("id") ?? "";
  if (!/^\d{1,15}$/.test(raw)) throw invalid("run id must be a positive integer", "id");
  return Number(raw);
}

/** The namespace filter of a list (absent or empty: all). */
function namespaceQuery(c: UiContext): string | undefined {
  const ns = c.req.query("namespace");
  return ns ? checkName(ns, "namespace") : undefined;
}

const cursorQuery = (c: UiContext) => c.req.query("cursor") || undefined;

async function namespaceNames(rd: RequestDeps): Promise<string[]> {
  return (await listNamespaces(rd)).items.map((n) => n.namespace);
}

/**
 * A page of jobs: of one namespace, or of every namespace the caller sees, one after another, each with its
 * last finished run. Across namespaces the cursor is "namespace~its own cursor" (a name has no "~"); a
 * namespace emptied between two pages does not break the next one.
 */
async function jobRows(rd: RequestDeps, namespaces: string[], namespace: string | undefined, cursor: string | undefined) {
  if (namespace !== undefined) {
    const { items, nextCursor } = await listJobs(rd, namespace, { limit: PAGE, cursor });
    return { rows: await withLast(rd, items), nextCursor };
  }
  let start = 0;
  let inner: string | undefined;
  if (cursor !== undefined) {
    const cut = cursor.indexOf("~");
    const from = cursor.slice(0, cut);
    if (cut < 1 || !v.is(Name, from)) throw invalid("cursor is not one this page gave", "cursor");
    // The namespaces come sorted: go on at that one, or at the next if it has no jobs left (or is not
    // the caller's to see: its place in the order is all the cursor says of it).
    start = namespaces.findIndex((ns) => ns >= from);
    if (start < 0) start = namespaces.length;
    else if (namespaces[start] === from) inner = cursor.slice(cut + 1) || undefined;
  }
  const jobs: JobView[] = [];
  let nextCursor: string | null = null;
  for (let i = start; i < namespaces.length && jobs.length < PAGE; i++, inner = undefined) {
    const page = await listJobs(rd, namespaces[i], { limit: PAGE - jobs.length, cursor: inner });
    jobs.push(...page.items);
    if (page.nextCursor !== null) nextCursor = `${namespaces[i]}~${page.nextCursor}`;
    else if (jobs.length >= PAGE && i + 1 < namespaces.length) nextCursor = `${namespaces[i + 1]}~`;
    else nextCursor = null;
  }
  return { rows: await withLast(rd, jobs), nextCursor };
}

async function withLast(rd: RequestDeps, jobs: JobView[]): Promise<JobRow[]> {
  const last = await lastResults(rd, jobs);
  return jobs.map((job) => ({ job, last: last.get(job.id) ?? null }));
}

export function pageRoutes(ui: UiApp, deps: RouteDeps): void {
  ui.get("/", async (c) => {
    const rd = scoped(c, deps);
    const namespace = namespaceQuery(c);
    const namespaces = await namespaceNames(rd);
    const data = { namespaces, namespace, ...(await jobRows(rd, namespaces, namespace, cursorQuery(c))) };
    return render(c, <JobsPage frame={frameOf(c, deps)} data={data} />);
  });

  ui.get("/jobs/:ns/:name", async (c) => {
    const { ns, name } = c.req.param();
    checkName(ns, "namespace");
    checkName(name, "name");
    const rd = scoped(c, deps);
    const job = await getJob(rd, ns, name);
    const runs = await listRuns(rd, ns, name, { limit: 25, cursor: cursorQuery(c) });
    return render(c, <JobPage frame={frameOf(c, deps)} data={{ job, runs: runs.items, nextCursor: runs.nextCursor }} />);
  });

  ui.get("/runs/:id", async (c) => {
    const id = runIdOf(c);
    const rd = scoped(c, deps);
    const run = await getRun(rd, id);
    const cursor = cursorQuery(c);
    const logs = await listLogs(rd, id, { limit: 1000, cursor });
    return render(c, <RunPage frame={frameOf(c, deps)} data={{ run, logs, cursor }} />);
  });

  // The run's new lines as server-sent events (`line`, then `end`), after the page's last line or the
  // EventSource's Last-Event-ID: the API's follower, authenticated by the dashboard's cookie.
  ui.get("/runs/:id/events", async (c) => {
    const id = runIdOf(c);
    const seq = (raw: string | undefined, field: string) => {
      if (raw === undefined || raw.trim() === "") return 0;
      if (!/^\d{1,15}$/.test(raw.trim())) throw invalid(`${field} must be a line's seq`, field);
      return Number(raw);
    };
    const after = Math.max(seq(c.req.query("after"), "after"), seq(c.req.header("last-event-id"), "Last-Event-ID"));
    // HEAD gets the headers a stream would: no follower is started for a body nobody reads.
    if (c.req.method === "HEAD") {
      await getRun(scoped(c, deps), id);
      return c.body(null, 200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    }
    const stop = new AbortController();
    const lines = await openFollow({ store: deps.store, events: deps.scheduler.events, access: scoped(c, deps).access }, id, {}, stop.signal, { after });
    return sendLines(c, deps, lines, stop);
  });

  ui.get("/failed", async (c) => {
    const rd = scoped(c, deps);
    const namespace = namespaceQuery(c);
    const page = await listRunsAcross(rd, { namespace, status: FAILED.join(","), since: "24h", limit: PAGE, cursor: cursorQuery(c) });
    return render(c, <FailedPage frame={frameOf(c, deps)} data={{ namespaces: await namespaceNames(rd), namespace, runs: page.items, nextCursor: page.nextCursor }} />);
  });

  ui.get("/upcoming", async (c) => {
    const rd = scoped(c, deps);
    const namespace = namespaceQuery(c);
    const page = await upcoming(rd, { namespace, limit: PAGE, cursor: cursorQuery(c) });
    return render(c, <UpcomingPage frame={frameOf(c, deps)} data={{ namespaces: await namespaceNames(rd), namespace, items: page.items, nextCursor: page.nextCursor }} />);
  });

  ui.get("/preview", (c) => {
    const spec = c.req.query("spec") ?? "";
    const timezone = c.req.query("timezone") || "UTC";
    const rawCount = c.req.query("count") || "10";
    const count = /^\d{1,4}$/.test(rawCount) ? Number(rawCount) : Number.NaN;
    const data: PreviewData = { spec, timezone, count: Number.isNaN(count) ? 10 : count, items: null, error: null };
    // An empty form shows no error; a form sent empty does.
    if (c.req.query("spec") !== undefined) {
      const result = preview(spec, timezone, Number.isNaN(count) ? 0 : count, deps.clock.now());
      if (result.ok) data.items = result.items;
      else data.error = result.error;
    }
    return render(c, <PreviewPage frame={frameOf(c, deps)} data={data} />, data.error ? 400 : 200);
  });

  ui.get("/nodes", async (c) => {
    const { items } = await listNodes(scoped(c, deps));
    const scheduler = !deps.scheduler.running ? "stopped" : (deps.scheduler.problem ?? "ok");
    const self = { id: deps.scheduler.nodeId, scheduler, database: await databaseStatus(deps), version: deps.version };
    return render(c, <NodesPage frame={frameOf(c, deps)} data={{ nodes: items, self }} />);
  });
}

