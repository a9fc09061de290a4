// createApp(deps) -> Hono, with no side effects: listening and signals live in main.ts.
import { type Context, Hono } from "hono";
import { matchedRoutes } from "hono/route";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { guard } from "./api/auth.ts";
import { docsRoutes } from "./api/docs.ts";
import { errorBody, toErrorResponse } from "./api/http.ts";
import { jobRoutes } from "./api/jobs.ts";
import { keyRoutes } from "./api/keys.ts";
import { workflowRoutes } from "./api/workflows.ts";
import { metricsRoutes } from "./api/metrics.ts";
import { type Bindings, corsFor, hostCheck, inFlightCap, originCheck } from "./api/requests.ts";
import { fleetRoutes } from "./api/fleet.ts";
import { runRoutes } from "./api/runs.ts";
import { systemRoutes } from "./api/system.ts";
import { compatRoutes } from "./compat/index.ts";
import type { RouteDeps } from "./api/deps.ts";
import { uiRoutes } from "./ui/routes.tsx";

/** A route's path pattern (/jobs/:name, /static/*) as a regular expression over request paths. */
function pathPattern(path: string): RegExp {
  const parts = path.split("/").map((seg) => (seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${parts.join("/")}/?$`);
}

/**
 * The route pattern that answered (/api/v1/namespaces/:ns/jobs/:name), for the metrics: a label of few values.
 * A request refused by a middleware counts under the route it was for; one no route serves, as "unmatched".
 */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i].method !== "ALL") return routes[i].path;
  return "unmatched";
}

/** The message of an error answer, in any of the APIs' shapes (cut to 300 characters). */
async function refusalReason(res: Response): Promise<string | null> {
  try {
    const b = (await res.clone().json()) as Record<string, any>;
    const why = b?.error?.message ?? b?.msg ?? b?.message ?? b?.errors?.[0]?.message ?? b?.errorCode ?? null;
    return why === null ? null : String(why).slice(0, 300);
  } catch {
    return null;
  }
}

export function createApp(deps: RouteDeps): Hono<{ Bindings: Bindings }> {
  const app = new Hono<{ Bindings: Bindings }>();
  const server = deps.config.server;
  app.use(requestId({ headerName: "x-request-id" }));
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    // Every 503 (the database cannot take requests now, too many in flight) says when to come back, in
    // whichever API's shape it was answered.
    const status = c.res.status;
    if (status === 503 && !c.res.headers.has("Retry-After")) c.res.headers.set("Retry-After", "1");
    const ms = performance.now() - started;
    deps.metrics?.httpRequest(c.req.method, routeOf(c), status, ms);
    const line = { method: c.req.method, path: c.req.path, status, ms: Math.round(ms) };
    // A refused request says why, whichever API's error shape it was answered in.
    if (status >= 400 && status < 500) deps.log.info("request refused", { ...line, reason: await refusalReason(c.res) });
    else deps.log.debug("request", line);
  });
  app.use(hostCheck(server));
  const cors = corsFor(server);
  if (cors) app.use(cors);
  app.use(originCheck(server));
  app.use(
    inFlightCap(
      () => deps.config.limits.maxConcurrentRequests,
      (c) => {
        c.header("Retry-After", "1");
        return c.json(errorBody("unavailable", `the server is working on ${deps.config.limits.maxConcurrentRequests} requests already ([limits] max_concurrent_requests); retry shortly`), 503);
      },
    ),
  );
  // A batch of jobs has a limit of its own ([server] max_batch_body); every other body, max_body.
  const limit = (maxSize: number, key: string) => bodyLimit({ maxSize, onError: (c) => c.json(errorBody("too_large", `request body is larger than ${maxSize} bytes ([server] ${key})`), 413) });
  const single = limit(server.maxBody, "max_body");
  const batch = limit(server.maxBatchBody, "max_batch_body");
  app.use((c, next) => (c.req.path.endsWith("/jobs:batch") ? batch(c, next) : single(c, next)));
  // Every native route needs a key where keys are required; /healthz, /readyz, the API's description
  // (/api/v1/openapi.json, exempt in the guard) and its reference page (/docs) stay open.
  app.use("/api/v1/*", guard(deps));
  app.route("/", systemRoutes(deps));
  if (deps.metrics) app.route("/", metricsRoutes(deps, deps.metrics));
  app.route("/", docsRoutes(deps));
  app.route("/api/v1", jobRoutes(deps));
  app.route("/api/v1", runRoutes(deps));
  app.route("/api/v1", fleetRoutes(deps));
  app.route("/api/v1", keyRoutes(deps));
  app.route("/api/v1", workflowRoutes(deps));
  app.route("/", compatRoutes(deps));
  // The web dashboard: its own login (a cookie holding the key), pages and forms.
  app.route("/ui", uiRoutes(deps));
  // A path served for other methods: 405 with what it allows, not a 404 that says the path does not exist.
  let routes: { method: string; re: RegExp }[] | undefined;
  app.notFound((c) => {
    routes ??= app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, re: pathPattern(r.path) }));
    const allowed = new Set(routes.filter((r) => r.re.test(c.req.path)).map((r) => r.method));
    if (allowed.has("GET")) allowed.add("HEAD");
    if (allowed.size === 0) return c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);
    const allow = [...allowed].sort().join(", ");
    c.header("Allow", allow);
    return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; it allows ${allow}`), 405);
  });
  app.onError((err, c) => toErrorResponse(c, err, deps.log.error));
  return app;
}
