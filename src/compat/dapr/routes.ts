// The Dapr Jobs API (docs.dapr.io, "Jobs API reference") at /v1.0-alpha1/jobs/{name} and /v1.0/jobs/{name}.
// Jobs live in the configured native namespace under their Dapr name; each is an HTTP job that POSTs its
// `data` to <dapr_app_url>/job/<name>, as the Dapr sidecar delivers a triggered job to its app.
import { Hono } from "hono";
import { guard, scoped } from "../../api/auth.ts";
import type { RouteDeps } from "../../api/deps.ts";
import { DomainError } from "../../domain/errors.ts";
import { getJob, putJob, removeJob } from "../../domain/jobs.ts";
import { compileJob } from "../../domain/job-input.ts";
import { DaprError, errorResponse, nameEmpty, OPS } from "./errors.ts";
import { daprName, nativeName, pathSegment } from "./names.ts";
import { nativeJob, readBody, readScheduleRequest } from "./request.ts";
import { daprView } from "./view.ts";

export function daprRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  const ns = () => deps.config.compat.daprNamespace;

  for (const prefix of ["/v1.0-alpha1", "/v1.0"]) {
    // Dapr's apps authenticate to their sidecar with dapr-api-token; tock takes it as the API key too.
    app.use(`${prefix}/jobs`, guard(deps, { tokenHeader: "dapr-api-token" }));
    app.use(`${prefix}/jobs/*`, guard(deps, { tokenHeader: "dapr-api-token" }));
    // No name at all: Dapr's "Name is empty", not a native 404.
    app.on(["POST", "GET", "DELETE"], [`${prefix}/jobs`, `${prefix}/jobs/`], () => {
      throw nameEmpty();
    });

    app.post(`${prefix}/jobs/:name`, async (c) => {
      const { job, overwrite } = readScheduleRequest(await readBody(c));
      const name = daprName(c.req.param("name"));
      const stored = nativeName(name);
      const appUrl = deps.config.compat.daprAppUrl;
      // Delivered at the name as given, each character HTTP needs encoded so.
      const url = `${(appUrl ?? "http://127.0.0.1").replace(/\/+$/, "")}/job/${pathSegment(name)}`;
      const { input, compat } = nativeJob(job, url, deps.clock.now());
      if (stored !== name) compat.name = name;
      const minEveryMs = deps.config.compat.daprMinEvery;
      if (appUrl === undefined) {
        compileJob(scoped(c, deps), input, ns(), minEveryMs); // a bad job is still a 400 first
        throw new DaprError(503, "ERR_APP_CHANNEL_NIL", "app channel is nil: no app to deliver Dapr jobs to; set [compat] dapr_app_url (env TOCK_COMPAT_DAPR_APP_URL) to the app's base URL");
      }
      try {
        await putJob(scoped(c, deps), ns(), stored, input, { createOnly: !overwrite, compat, minEveryMs });
      } catch (e) {
        if (!(e instanceof DomainError && e.code === "conflict")) throw e;
        throw new DaprError(409, OPS.POST[0], `${OPS.POST[1]} due to: job ${name} already exists; set "overwrite": true to replace it`);
      }
      return c.body(null, 202);
    });

    app.get(`${prefix}/jobs/:name`, async (c) => {
      const name = daprName(c.req.param("name"));
      return c.json(daprView(await getJob(scoped(c, deps), ns(), nativeName(name))), 202); // 202: the document's code for GET too
    });

    app.delete(`${prefix}/jobs/:name`, async (c) => {
      const name = nativeName(daprName(c.req.param("name")));
      try {
        await removeJob(scoped(c, deps), ns(), name);
      } catch (e) {
        // Deleting an unknown job succeeds in Dapr (an etcd delete of no key).
        if (!(e instanceof DomainError && e.code === "not_found")) throw e;
      }
      return c.body(null, 202);
    });

    // Other methods: what daprd's router (chi) answers, 405 with no body.
    app.all(`${prefix}/jobs/:name`, (c) => c.body(null, 405, { Allow: "DELETE, GET, POST" }));
  }
  // Any other path under the prefixes (a name with a slash, a trailing slash, another Dapr API): daprd's
  // fallback, service invocation without an app id, in Dapr's shape rather than the native 404.
  for (const prefix of ["/v1.0-alpha1", "/v1.0"]) {
    app.all(`${prefix}/*`, () => {
      throw new DaprError(404, "ERR_DIRECT_INVOKE", "failed getting app id either from the URL path or the header dapr-app-id (tock serves only Dapr's jobs API: …/jobs/{name})", false);
    });
  }

  app.onError((err, c) => errorResponse(c, err, deps.log, ns()));
  return app;
}
