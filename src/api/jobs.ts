// Native job routes, a job's run history included: validate, call one domain verb, map the result.
import { Hono } from "hono";
import type { RouteDeps } from "./deps.ts";
import { scoped } from "./auth.ts";
import { invalid } from "../domain/errors.ts";
import { getJob, listJobs, pauseJob, putJob, removeJob, resumeJob, triggerJob } from "../domain/jobs.ts";
import { putJobs } from "../domain/job-batch.ts";
import { fromJobView } from "../domain/job-input.ts";
import { listRuns } from "../domain/runs.ts";
import { jobsByNextFireTime } from "../domain/fleet.ts";
import { intParam, jsonBody, names, parseJsonText } from "./http.ts";

export function jobRoutes(deps: RouteDeps) {
  const app = new Hono();

  app.put("/namespaces/:ns/jobs/:name", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    const ifMatch = c.req.header("if-match");
    if (ifMatch !== undefined && !/^"?\d+"?$/.test(ifMatch.trim())) throw invalid("If-Match must be a job version (its ETag)", "If-Match");
    // What a GET returned is taken back as it is (server-set fields and nulls left out).
    const body = fromJobView(await jsonBody(c), ns, name);
    const { created, job } = await putJob(scoped(c, deps), ns, name, body, {
      createOnly: c.req.header("if-none-match")?.trim() === "*",
      ifVersion: ifMatch !== undefined ? Number(ifMatch.replaceAll('"', "")) : undefined,
    });
    c.header("ETag", `"${job.version}"`);
    if (created) c.header("Location", `/api/v1/namespaces/${ns}/jobs/${name}`);
    return c.json(job, created ? 201 : 200);
  });

  // Up to 10,000 jobs of a namespace created or replaced at once: all of them, or none (400 naming every bad one).
  app.post("/namespaces/:ns/jobs:batch", async (c) => {
    return c.json(await putJobs(scoped(c, deps), c.req.param("ns"), await jsonBody(c)));
  });

  app.get("/namespaces/:ns/jobs/:name", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    const job = await getJob(scoped(c, deps), ns, name);
    c.header("ETag", `"${job.version}"`);
    return c.json(job);
  });

  app.delete("/namespaces/:ns/jobs/:name", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    await removeJob(scoped(c, deps), ns, name);
    return c.body(null, 204);
  });

  app.get("/namespaces/:ns/jobs", async (c) => {
    const { ns } = c.req.param();
    names(ns);
    const sort = c.req.query("sort") || "name";
    if (sort !== "name" && sort !== "nextFireAt") throw invalid("sort must be name or nextFireAt", "sort");
    if (sort === "nextFireAt") {
      if (c.req.query("prefix")) throw invalid("prefix applies to sort=name", "prefix");
      const limit = intParam(c, "limit", { min: 1, max: 1000, def: 100 });
      return c.json(await jobsByNextFireTime(scoped(c, deps), { namespace: ns, limit, cursor: c.req.query("cursor") || undefined }));
    }
    const page = await listJobs(scoped(c, deps), ns, {
      prefix: c.req.query("prefix"),
      limit: intParam(c, "limit", { min: 1, max: 1000, def: 100 }),
      cursor: c.req.query("cursor") || undefined,
    });
    return c.json(page);
  });

  app.post("/namespaces/:ns/jobs/:name/trigger", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    // An optional body gives this run extra input: { "env": {…}, "args": […] } (process, script, container).
    const text = await c.req.text();
    const params = text.trim() === "" ? undefined : parseJsonText(text);
    return c.json(await triggerJob(scoped(c, deps), ns, name, "manual", params as never), 202);
  });

  app.post("/namespaces/:ns/jobs/:name/pause", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    return c.json(await pauseJob(scoped(c, deps), ns, name));
  });

  app.post("/namespaces/:ns/jobs/:name/resume", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    return c.json(await resumeJob(scoped(c, deps), ns, name));
  });

  app.get("/namespaces/:ns/jobs/:name/runs", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    const page = await listRuns(scoped(c, deps), ns, name, {
      limit: intParam(c, "limit", { min: 1, max: 1000, def: 100 }),
      cursor: c.req.query("cursor") || undefined,
      status: c.req.query("status") || undefined,
    });
    return c.json(page);
  });

  return app;
}
