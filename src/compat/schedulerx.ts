// Alibaba SchedulerX's OpenAPI (job and instance endpoints) over the native domain verbs. Reads take GET or
// POST, changes POST only (the document names no methods; a GET must never change anything), with
// parameters in the query string, a form body or a JSON body; every answer is
// {code, success, message, requestId, data}. Workflows are not served yet (501).
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { guard, scoped } from "../api/auth.ts";
import type { RequestDeps, RouteDeps } from "../api/deps.ts";
import { statusOf } from "../api/http.ts";
import { requireRole } from "../domain/access.ts";
import { DomainError } from "../domain/errors.ts";
import * as ops from "./schedulerx/ops.ts";
import { Params } from "./schedulerx/params.ts";
import { answer } from "./schedulerx/views.ts";
import { logFailure } from "./common/errors.ts";

type Op = (deps: RequestDeps, p: Params) => Promise<unknown>;

/** Reads: GET or POST (the vendor's Go client POSTs everything). */
const READS: Record<string, Op> = {
  "/openapi/job/v1/get": ops.getJobInfo, // sic: job/v1, as the document spells it
  "/openapi/v1/instance/getList": ops.instanceList,
  "/openapi/v1/instance/get": ops.getInstance,
};

/** Changes: POST only. */
const CHANGES: Record<string, Op> = {
  "/openapi/v1/job/create": ops.createJob,
  "/openapi/v1/job/update": ops.updateJob,
  "/openapi/v1/job/delete": ops.deleteJob,
  "/openapi/v1/job/enable": ops.enableJob,
  "/openapi/v1/job/disable": ops.disableJob,
  "/openapi/v1/job/execute": ops.executeJob,
  "/openapi/v1/instance/kill": ops.killInstance,
};

const WORKFLOWS = ["execute", "enable", "disable", "delete"].map((verb) => `/openapi/v1/workflow/${verb}`);

export function schedulerxRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  app.use("/openapi/*", guard(deps));
  for (const [path, op] of Object.entries(READS)) {
    app.on(["GET", "POST"], path, async (c) => answer(c, 200, "", await op(scoped(c, deps), await Params.of(c))));
  }
  for (const [path, op] of Object.entries(CHANGES)) {
    app.post(path, async (c) => answer(c, 200, "", await op(scoped(c, deps), await Params.of(c))));
  }
  for (const path of WORKFLOWS) {
    app.post(path, (c) => {
      requireRole(scoped(c, deps).access, "writer", "workflow operations");
      return answer(c, 501, "workflows are not supported yet: tock serves SchedulerX jobs and instances; workflow support comes with a later release");
    });
  }
  for (const path of Object.keys(READS)) app.all(path, (c) => answer(c, 405, `${c.req.method} is not allowed on ${path}; use GET or POST`));
  for (const path of [...Object.keys(CHANGES), ...WORKFLOWS]) {
    app.all(path, (c) => answer(c, 405, `${c.req.method} is not allowed on ${path}: it changes things, so it takes POST only`));
  }
  app.all("/openapi/*", (c) => answer(c, 404, `no SchedulerX endpoint ${c.req.path}`));
  app.onError((err, c: Context) => {
    if (err instanceof DomainError) return answer(c, statusOf(err.code), err.message);
    if (err instanceof HTTPException && err.status < 500) return answer(c, err.status as ContentfulStatusCode, err.message || "bad request");
    logFailure(deps.log, "schedulerx", err, c.req.path);
    return answer(c, 500, "internal error; the request may not have been applied");
  });
  return app;
}
