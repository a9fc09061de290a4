// Health, readiness, cluster membership and the schedule preview (a lint for specs).
import { Hono } from "hono";
import type { RouteDeps } from "./deps.ts";
import { invalid } from "../domain/errors.ts";
import { databaseStatus, listNodes } from "../domain/nodes.ts";
import { preview } from "../schedule/index.ts";
import { scoped } from "./auth.ts";
import { intParam } from "./http.ts";

export function systemRoutes(deps: RouteDeps) {
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ status: "ok", version: deps.version }));

  app.get("/readyz", async (c) => {
    const database = await databaseStatus(deps);
    const scheduler = !deps.scheduler.running ? "stopped" : (deps.scheduler.problem ?? "ok");
    const ready = database === "ok" && scheduler === "ok";
    return c.json({ status: ready ? "ready" : "not ready", database, scheduler, node: deps.scheduler.nodeId }, ready ? 200 : 503);
  });

  app.get("/api/v1/nodes", async (c) => {
    return c.json(await listNodes(scoped(c, deps)));
  });

  app.get("/api/v1/schedule/preview", (c) => {
    const spec = c.req.query("spec");
    if (!spec) throw invalid("spec is required (a cron expression, @every duration or ISO 8601 repeating interval)", "spec");
    const timezone = c.req.query("timezone") || "UTC";
    const count = intParam(c, "count", { min: 1, max: 1000, def: 10 })!;
    const result = preview(spec, timezone, count, deps.clock.now());
    if (!result.ok) throw invalid(`${result.error.field}: ${result.error.message}`, result.error.field);
    return c.json({ spec, timezone, items: result.items });
  });

  return app;
}
