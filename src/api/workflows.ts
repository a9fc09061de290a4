// Native workflow routes: definitions (PUT, GET, list, DELETE), triggering, and instances (read, list, cancel);
// and a namespace's notifications, which its jobs and workflows send.
import { Hono } from "hono";
import type { RouteDeps } from "./deps.ts";
import { scoped } from "./auth.ts";
import { invalid } from "../domain/errors.ts";
import { cancelInstance, getInstance, listInstances, triggerWorkflow } from "../domain/workflow-instances.ts";
import { deleteWorkflow, getWorkflow, listWorkflows, putWorkflow } from "../domain/workflows.ts";
import { listNotifications } from "../domain/notifications.ts";
import { intParam, jsonBody, names, parseJsonText } from "./http.ts";

/** A numeric id from the path, or 400 naming it. */
function idParam(value: string, field: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value)) throw invalid(`${field} must be a positive integer`, field);
  return Number(value);
}

export function workflowRoutes(deps: RouteDeps) {
  const app = new Hono();

  app.put("/namespaces/:ns/workflows/:name", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    const { created, workflow } = await putWorkflow(scoped(c, deps), ns, name, await jsonBody(c));
    if (created) c.header("Location", `/api/v1/namespaces/${ns}/workflows/${name}`);
    return c.json(workflow, created ? 201 : 200);
  });

  app.get("/namespaces/:ns/workflows/:name", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    return c.json(await getWorkflow(scoped(c, deps), ns, name));
  });

  app.delete("/namespaces/:ns/workflows/:name", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    await deleteWorkflow(scoped(c, deps), ns, name);
    return c.body(null, 204);
  });

  app.get("/namespaces/:ns/workflows", async (c) => {
    const { ns } = c.req.param();
    names(ns);
    const limit = intParam(c, "limit", { min: 1, max: 1000, def: 100 }) ?? 100;
    return c.json(await listWorkflows(scoped(c, deps), ns, c.req.query("cursor") || null, limit));
  });

  app.post("/namespaces/:ns/workflows/:name/trigger", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    // An optional body gives every step extra input: { "env": {…}, "args": […] } (process, script, container).
    const text = await c.req.text();
    return c.json(await triggerWorkflow(scoped(c, deps), ns, name, "manual", text.trim() === "" ? undefined : parseJsonText(text)), 202);
  });

  app.get("/namespaces/:ns/workflows/:name/instances", async (c) => {
    const { ns, name } = c.req.param();
    names(ns, name);
    const limit = intParam(c, "limit", { min: 1, max: 1000, def: 100 }) ?? 100;
    const cursor = c.req.query("cursor");
    return c.json(await listInstances(scoped(c, deps), ns, name, cursor ? idParam(cursor, "cursor") : null, limit));
  });

  // A namespace's notifications (of its jobs and workflows), newest first.
  app.get("/namespaces/:ns/notifications", async (c) => {
    const { ns } = c.req.param();
    names(ns);
    const limit = intParam(c, "limit", { min: 1, max: 1000, def: 100 }) ?? 100;
    const cursor = c.req.query("cursor");
    return c.json(await listNotifications(scoped(c, deps), ns, cursor ? idParam(cursor, "cursor") : null, limit));
  });

  app.get("/workflow-instances/:id", async (c) => c.json(await getInstance(scoped(c, deps), idParam(c.req.param("id"), "id"))));

  app.post("/workflow-instances/:id/cancel", async (c) => c.json(await cancelInstance(scoped(c, deps), idParam(c.req.param("id"), "id"))));

  return app;
}
