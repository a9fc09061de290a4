// The Alauda jobs API (Alauda's 2015 public API reference, "jobs") at /v1/jobs: container jobs on an ISO 8601
// repeating schedule, their executions ("execs") and their logs, over the native job and run verbs.
import { Hono } from "hono";
import { guard, scoped } from "../../api/auth.ts";
import type { RequestDeps, RouteDeps } from "../../api/deps.ts";
import { DomainError, invalid, notFound } from "../../domain/errors.ts";
import { findJobs, getJobById, putJob, removeJob, triggerJob } from "../../domain/jobs.ts";
import { checkName } from "../../domain/job-input.ts";
import { killRun } from "../../domain/kill.ts";
import { listLogs } from "../../domain/logs.ts";
import { deleteRun, findRuns, getRun } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";
import { generatedName, parseId } from "../common/ids.ts";
import { readJson } from "../common/request.ts";
import { containerOf } from "./container.ts";
import { errorBody, errorResponse, restated } from "./errors.ts";
import { runIdOf } from "./execs.ts";
import { paged, pageQuery } from "./pages.ts";
import { createInput, unixSeconds, updateInput } from "./request.ts";
import { renderExec, renderExecDetail, renderJob, renderListItem } from "./view.ts";

/** The most log lines one logs request returns (the run's stored lines are capped by max_log_bytes anyway). */
const MAX_LOG_LINES = 10_000;

/** The job an Alauda path names: a container job by its numeric id; anything else is not an Alauda job (404). */
async function loadJob(deps: RequestDeps, raw: string): Promise<JobView> {
  const id = parseId(raw);
  if (id === null) throw notFound(`job ${raw} not found`);
  const job = await getJobById(deps, id);
  if (!containerOf(job)) throw notFound(`job ${raw} not found`);
  return job;
}

/** The run an exec id names, if it is a run of `job` (an exec of another job is not found). */
async function loadExec(deps: RequestDeps, job: JobView, raw: string): Promise<RunView> {
  const id = runIdOf(raw);
  const missing = () => notFound(`exec ${raw} of job ${job.id} not found`);
  if (id === null) throw missing();
  let run: RunView;
  try {
    run = await getRun(deps, id);
  } catch (e) {
    throw e instanceof DomainError && e.code === "not_found" ? missing() : e;
  }
  if (run.namespace !== job.namespace || run.jobName !== job.name) throw missing();
  return run;
}

/** putJob, its refusals naming the Alauda fields. */
const put = (...args: Parameters<typeof putJob>) =>
  putJob(...args).catch((e) => {
    throw restated(e);
  });

export function alaudaRoutes(deps: RouteDeps): Hono {
  const app = new Hono();

  app.use("/v1/jobs", guard(deps));
  app.use("/v1/jobs/*", guard(deps));

  app.post("/v1/jobs", async (c) => {
    const d = scoped(c, deps);
    const { namespace, body, compat } = createInput(d, await readJson(c));
    const { job } = await put(d, namespace, generatedName("alauda"), body, { createOnly: true, compat });
    return c.json(renderJob(d, job), 201);
  });

  // Native container jobs of the namespace are listed too (oldest first), whichever API made them.
  app.get("/v1/jobs", async (c) => {
    const d = scoped(c, deps);
    const ns = c.req.query("namespace");
    if (!ns) throw invalid("namespace is required (GET /v1/jobs?namespace=...)", "namespace");
    checkName(ns, "namespace");
    const page = await paged(c, pageQuery(c), (offset, limit) => findJobs(d, { namespace: ns, targetKinds: ["container"], offset, limit }));
    return c.json({ ...page, results: page.results.map((j) => renderListItem(d, j)) });
  });

  app.get("/v1/jobs/:id", async (c) => {
    const d = scoped(c, deps);
    return c.json(renderJob(d, await loadJob(d, c.req.param("id"))));
  });

  app.put("/v1/jobs/:id", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    const { body, compat } = updateInput(d, job, await readJson(c));
    const { job: updated } = await put(d, job.namespace, job.name, body, { ifVersion: job.version, compat });
    return c.json(renderJob(d, updated));
  });

  app.delete("/v1/jobs/:id", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    await removeJob(d, job.namespace, job.name);
    return c.body(null, 204);
  });

  app.post("/v1/jobs/:id/execs", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    return c.json(renderExec(d, job, await triggerJob(d, job.namespace, job.name, "manual")), 201);
  });

  app.get("/v1/jobs/:id/execs", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    const page = await paged(c, pageQuery(c), (offset, limit) => findRuns(d, job.id, { offset, limit }));
    return c.json({ ...page, results: page.results.map((r) => renderExec(d, job, r)) });
  });

  app.get("/v1/jobs/:id/execs/:exec", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    return c.json(renderExecDetail(d, job, await loadExec(d, job, c.req.param("exec"))));
  });

  // A waiting or running exec is stopped first (as `docker rm -f` would), then its record deleted.
  app.delete("/v1/jobs/:id/execs/:exec", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    const run = await loadExec(d, job, c.req.param("exec"));
    try {
      await deleteRun(d, run.id);
    } catch (e) {
      if (!(e instanceof DomainError) || e.code !== "conflict") throw e;
      const { ended } = await killRun(d, run.id).catch((k) => {
        if (k instanceof DomainError && k.code === "conflict") return { ended: true }; // it ended meanwhile
        throw k;
      });
      if (!ended) return c.json(errorBody("resource_state_conflict", `exec ${c.req.param("exec")} is still stopping; retry the delete`), 409);
      await deleteRun(d, run.id);
    }
    return c.body(null, 204);
  });

  // start_time and end_time are Unix seconds, both inclusive: a line stamped within end_time's second counts.
  app.get("/v1/jobs/:id/execs/:exec/logs", async (c) => {
    const d = scoped(c, deps);
    const job = await loadJob(d, c.req.param("id"));
    const run = await loadExec(d, job, c.req.param("exec"));
    const start = unixSeconds(c.req.query("start_time"), "start_time");
    const end = unixSeconds(c.req.query("end_time"), "end_time");
    if (start !== undefined && end !== undefined && end < start) throw invalid("end_time must not be before start_time", "end_time");
    const page = await listLogs(d, run.id, {
      since: start === undefined ? undefined : start * 1000,
      until: end === undefined ? undefined : (end + 1) * 1000,
      limit: MAX_LOG_LINES,
    });
    return c.json(page.items.map((l) => ({ message: l.line, time: Math.floor(Date.parse(l.at) / 1000) })));
  });

  // Every other method on these paths, and every other path under /v1/jobs, in Alauda's error shape.
  for (const path of ["/v1/jobs", "/v1/jobs/:id", "/v1/jobs/:id/execs", "/v1/jobs/:id/execs/:exec", "/v1/jobs/:id/execs/:exec/logs"]) {
    app.all(path, (c) => c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`), 405));
  }
  app.all("/v1/jobs/*", (c) => c.json(errorBody("resource_not_exist", `no route for ${c.req.method} ${c.req.path}`), 404));

  app.onError((err, c) => errorResponse(c, err, deps.log));
  return app;
}
