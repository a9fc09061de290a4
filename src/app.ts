// createApp(deps) -> Hono, with no side effects (STYLE rule 5): listening and signals live in main.ts.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { errorBody, toErrorResponse } from "./api/http.ts";
import { jobRoutes } from "./api/jobs.ts";
import { runRoutes } from "./api/runs.ts";
import { systemRoutes } from "./api/system.ts";
import { compatRoutes } from "./compat/index.ts";
import type { Deps } from "./deps.ts";

export function createApp(deps: Deps): Hono {
  const app = new Hono();
  app.use(requestId({ headerName: "x-request-id" }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.log.debug("request", { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) });
  });
  app.use(
    bodyLimit({
      maxSize: deps.config.server.maxBody,
      onError: (c) => c.json(errorBody("too_large", `request body is larger than ${deps.config.server.maxBody} bytes`), 413),
    }),
  );
  app.route("/", systemRoutes(deps));
  app.route("/api/v1", jobRoutes(deps));
  app.route("/api/v1", runRoutes(deps));
  app.route("/", compatRoutes(deps));
  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => toErrorResponse(c, err, deps.log.error));
  return app;
}
