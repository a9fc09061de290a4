/** @jsxImportSource hono/jsx */
// The web dashboard at /ui: server-rendered pages over the same domain verbs as the API, with the same
// access for the same key. Every response gets a strict Content-Security-Policy (the only script and
// stylesheet are the embedded files under /ui/assets/) and may not be framed; a request that changes
// something must come from this origin and carry its session's form token.
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { RouteDeps } from "../api/deps.ts";

import { statusOf } from "../api/http.ts";
import { DomainError, domainErrorOf } from "../domain/errors.ts";
import { serveAsset } from "./assets/index.ts";
import { LoginPage, ProblemPage } from "./pages/login.tsx";
import { formRoutes, loginRoutes } from "./form-routes.tsx";
import { pageRoutes } from "./page-routes.tsx";
import { frameOf, render, type UiApp, type UiContext } from "./render.ts";
import { keyAccess, session, type UiBindings } from "./session.ts";

/** Whether an Origin is this server's own: the Host the request was sent to (any scheme: a proxy may end TLS). */
function sameHost(origin: string, host: string | undefined): boolean {
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host.trim().toLowerCase();
}

export function uiRoutes(deps: RouteDeps): UiApp {
  const ui: UiApp = new Hono<{ Bindings: UiBindings }>();
  ui.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      xFrameOptions: "DENY",
      referrerPolicy: "same-origin",
      // Whether this host is HTTPS-only is the operator's (or the proxy's) decision, not the dashboard's.
      strictTransportSecurity: false,
    }),
  );
  ui.use(async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control")) c.res.headers.set("Cache-Control", "no-store");
  });
  ui.get("/assets/:file", serveAsset);
  // A form must come from this origin (hono's check of Origin and Sec-Fetch-Site) and carry its token.
  ui.use(csrf({ origin: (origin, c) => sameHost(origin, c.req.header("host")) }));
  ui.use(session());
  // Logging in and out comes before the key in the cookie is looked at: one over its rate (or any other)
  // can always be swapped or dropped, and showing the form spends none of its rate.
  loginRoutes(ui, deps);
  ui.use(keyAccess(deps));
  loginRequired(ui, deps);
  pageRoutes(ui, deps);
  formRoutes(ui, deps);
  ui.onError((err, c) => problem(c, deps, err));
  return ui;
}

/** Past this point a page needs a usable key (when the server needs keys at all): without one, the login form, 401. */
function loginRequired(ui: UiApp, deps: RouteDeps): void {
  ui.use(async (c, next) => {
    const why = c.get("loginProblem");
    if (why === null) return next();
    const url = new URL(c.req.url);
    const back = c.req.method === "GET" ? `${url.pathname}${url.search}` : "/ui";
    return render(c, <LoginPage frame={frameOf(c, deps)} next={back} problem={why || null} />, 401);
  });
}

/** Any error as a page in words with its status (a 4xx for what the request did; 500 only for tock's own faults). */
function problem(c: UiContext, deps: RouteDeps, thrown: unknown): Promise<Response> {
  const err = domainErrorOf(thrown);
  let status: number;
  let message: string;
  if (err instanceof DomainError) {
    status = statusOf(err.code);
    message = err.message;
  } else if (err instanceof HTTPException) {
    status = err.status;
    message = status === 403 ? "this form did not come from this dashboard (its Origin is another site's): open the page again and send it from there" : err.message || "bad request";
  } else {
    status = 500;
    message = "internal error; the request may not have been applied";
    deps.log.error("dashboard request failed", { error: err instanceof Error ? (err.stack ?? err.message) : String(err), path: c.req.path });
  }
  const back = c.req.method === "POST" ? c.req.path.replace(/\/[^/]+$/, "") || "/ui" : "/ui";
  const title = status === 404 ? "Not found" : status === 403 ? "Not allowed" : status >= 500 ? "Something went wrong" : "That did not work";
  return render(c, <ProblemPage frame={frameOf(c, deps)} title={title} message={message} back={back} />, status);
}
