// The DCS RESTful API (DCS's "RESTful API" documentation): PUT/GET/DELETE /jobs/{ns}/{name} and
// GET /jobs/{ns}/{name}/his. DCS's ns/name are the native namespace/name. 400 means the body is not a DCS
// job; 422 means it is one, but tock cannot take it (docs/compat/dcs.md).
import { type Context, Hono } from "hono";
import { guard, scoped } from "../../api/auth.ts";
import type { RouteDeps } from "../../api/deps.ts";
import { inFlightCap } from "../../api/requests.ts";
import { DomainError } from "../../domain/errors.ts";
import { getJob, putJob, removeJob } from "../../domain/jobs.ts";
import { checkName } from "../../domain/job-input.ts";
import { startedSlots } from "../../domain/runs.ts";
import { errorResponse } from "./errors.ts";
import { history } from "./history.ts";
import { nativeOf, parseBody, readBody } from "./request.ts";
import { dcsView } from "./view.ts";

export function dcsRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  /** ns/name as native names; others are unprocessable (422), as the job could never exist. */
  const names = (c: Context) => {
    const { ns, name } = c.req.param() as { ns: string; name: string };
    checkName(ns, "namespace");
    checkName(name, "name");
    return { ns, name };
  };

  app.use("/jobs/*", guard(deps));
  // The document's defence against floods: past the cap, 429 before any work.
  app.use(
    "/jobs/*",
    inFlightCap(
      () => deps.config.compat.dcsMaxRequests,
      (c) => c.json({ msg: `too many concurrent requests (more than ${deps.config.compat.dcsMaxRequests}); retry later` }, 429),
    ),
  );

  app.put("/jobs/:ns/:name", async (c) => {
    const { ns, name } = names(c);
    const body = await readBody(c);
    await putJob(scoped(c, deps), ns, name, nativeOf(parseBody(body)), { compat: { api: "dcs" } });
    return c.json({ msg: "OK" });
  });

  app.get("/jobs/:ns/:name", async (c) => {
    const { ns, name } = names(c);
    return c.json(dcsView(await getJob(scoped(c, deps), ns, name)));
  });

  app.delete("/jobs/:ns/:name", async (c) => {
    const { ns, name } = names(c);
    try {
      await removeJob(scoped(c, deps), ns, name);
    } catch (e) {
      if (!(e instanceof DomainError && e.code === "not_found")) throw e; // the document: "Not Found: Same as OK"
    }
    return c.json({ msg: "OK" });
  });

  app.get("/jobs/:ns/:name/his", async (c) => {
    const { ns, name } = names(c);
    const d = scoped(c, deps);
    const job = await getJob(d, ns, name);
    return c.json({ ns, name, times: await startedSlots(d, job.id, job.firedCount), records: await history(d, job.id) });
  });

  const notAllowed = (allow: string) => (c: Context) => {
    c.header("Allow", allow);
    return c.json({ msg: "method not allowed" }, 405);
  };
  app.all("/jobs/:ns/:name", notAllowed("GET, PUT, DELETE"));
  app.all("/jobs/:ns/:name/his", notAllowed("GET"));
  app.all("/jobs/*", (c) => c.json({ msg: "not found" }, 404));

  app.onError((err, c) => errorResponse(c, err, deps.log));
  return app;
}
