// GET /metrics: the node's metrics in the Prometheus text format. Where the API needs keys, so does this:
// any role, but a key that sees every namespace, since the figures (jobs by state, runs by status) are of
// every namespace. Off with [metrics] enabled = false (then 404, like any path not served).
import { Hono } from "hono";
import type { Metrics } from "../metrics.ts";
import { forbidden } from "../domain/errors.ts";
import { guard } from "./auth.ts";
import type { RouteDeps } from "./deps.ts";

export function metricsRoutes(deps: RouteDeps, metrics: Metrics) {
  const app = new Hono();
  app.use("/metrics", guard(deps));
  app.get("/metrics", async (c) => {
    if (c.get("access").namespaces !== null) throw forbidden("/metrics counts every namespace: it needs a key that sees every namespace (--all-namespaces)");
    c.header("Cache-Control", "no-store");
    return c.body(await metrics.text(), 200, { "Content-Type": metrics.contentType });
  });
  return app;
}
