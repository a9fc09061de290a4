// Views across jobs and namespaces: the namespaces in use, runs across jobs, what fires next.
import { Hono } from "hono";
import type { RouteDeps } from "./deps.ts";
import { scoped } from "./auth.ts";
import { checkName } from "../domain/job-input.ts";
import { listNamespaces, listRunsAcross, upcoming } from "../domain/fleet.ts";
import { intParam } from "./http.ts";

export function fleetRoutes(deps: RouteDeps) {
  const app = new Hono();
  const namespace = (value: string | undefined) => {
    if (value === undefined || value === "") return undefined;
    checkName(value, "namespace");
    return value;
  };

  app.get("/namespaces", async (c) => c.json(await listNamespaces(scoped(c, deps))));

  app.get("/runs", async (c) =>
    c.json(
      await listRunsAcross(scoped(c, deps), {
        namespace: namespace(c.req.query("namespace")),
        status: c.req.query("status") || undefined,
        since: c.req.query("since"),
        until: c.req.query("until"),
        limit: intParam(c, "limit", { min: 1, max: 1000, def: 100 }),
        cursor: c.req.query("cursor") || undefined,
      }),
    ),
  );

  app.get("/upcoming", async (c) =>
    c.json(
      await upcoming(scoped(c, deps), {
        namespace: namespace(c.req.query("namespace")),
        limit: intParam(c, "limit", { min: 1, max: 1000, def: 20 }),
        cursor: c.req.query("cursor") || undefined,
      }),
    ),
  );

  return app;
}
