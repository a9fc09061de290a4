// Authentication of API requests. Every route, native and foreign, sits behind `guard`, installed by the
// module that defines the route so that a refusal comes in that API's own error shape. The guard leaves the
// request's Access in the context; handlers hand it to domain verbs with `scoped`. Open without a key:
// /healthz, /readyz and the reference page /docs (outside /api/v1), and OPEN_PATHS below.
import type { Context, MiddlewareHandler } from "hono";
import type { Config } from "../config.ts";
import type { RequestDeps, RouteDeps } from "./deps.ts";
import { type Access, FULL_ACCESS, NO_ACCESS } from "../domain/access.ts";
import { DomainError, unauthorized } from "../domain/errors.ts";
import { formatRate } from "../domain/rate.ts";
import { isLoopbackHost } from "../net/address.ts";

declare module "hono" {
  interface ContextVariableMap {
    access: Access;
  }
}

/** Whether requests need an API key: `[auth] mode`, where auto means "unless the server listens on loopback". */
export function authRequired(cfg: Pick<Config, "auth" | "server">): boolean {
  switch (cfg.auth.mode) {
    case "keys":
      return true;
    case "off":
      return false;
    case "auto":
      return !isLoopbackHost(cfg.server.host);
  }
}

/** The deps of a request: the app's, and the caller's Access (none when no guard ran: a bug, never a leak). */
export function scoped(c: Context, deps: RouteDeps): RequestDeps {
  return { ...deps, access: c.get("access") ?? NO_ACCESS };
}

/**
 * What start-up must refuse or warn about, given how many API keys work now: keys required on a
 * non-loopback address with none made (nobody could call it), authentication off on such an address,
 * and command-running jobs reachable without keys.
 */
export function exposure(cfg: Pick<Config, "auth" | "server" | "executors">, usableKeys: number): { refuse?: string; warnings: string[] } {
  const loopback = isLoopbackHost(cfg.server.host);
  const required = authRequired(cfg);
  const warnings: string[] = [];
  if (cfg.executors.process.enabled && !required && !loopback) {
    return {
      refuse: `process, script and container jobs are enabled, and they run commands as this user: on ${cfg.server.host}, a non-loopback address, they need API keys ([auth] mode = "auto" or "keys", not "off"), or [server] host = "127.0.0.1"`,
      warnings,
    };
  }
  if (required && !loopback && usableKeys === 0) {
    return {
      refuse: `tock would listen on ${cfg.server.host}, a non-loopback address, where API keys are required ([auth] mode = "${cfg.auth.mode}"), but the database has no usable key, so nobody could use it. Make an admin key first, with the same --config or --db:
  tock keys create --role admin --all-namespaces --name admin
and start again (or listen on 127.0.0.1).`,
      warnings,
    };
  }
  if (!required && !loopback) {
    warnings.push(`authentication is off ([auth] mode = "off") on ${cfg.server.host}, a non-loopback address: anyone who can reach it can read, change and run every job`);
  }
  return { warnings };
}

/**
 * Paths under /api/v1 that need no key even where keys are required: the OpenAPI document holds no data (it
 * describes the API, whose source is public), the reference page at /docs reads it before anyone could give
 * the page a key, and client generators fetch it. A request for one gets no access to anything else.
 */
export const OPEN_PATHS: ReadonlySet<string> = new Set(["/api/v1/openapi.json"]);

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface GuardOptions {
  /** Also take the key from this header (Dapr's `dapr-api-token`). */
  tokenHeader?: string;
}

/**
 * Authenticates the request (401 without a valid key, 429 past the key's rate) when keys are required,
 * and sets its Access; with authentication off every request has full access. Throws DomainErrors, which
 * the route's own error handler shapes.
 */
export function guard(deps: RouteDeps, opts: GuardOptions = {}): MiddlewareHandler {
  const required = authRequired(deps.config);
  return async (c, next) => {
    if (c.get("access")) return next(); // an outer guard already ran
    if (OPEN_PATHS.has(c.req.path)) {
      c.set("access", NO_ACCESS);
      return next();
    }
    if (!required) {
      c.set("access", FULL_ACCESS);
      return next();
    }
    const header = c.req.header("authorization");
    const token = header !== undefined ? BEARER.exec(header)?.[1] : opts.tokenHeader ? c.req.header(opts.tokenHeader)?.trim() : undefined;
    if (!token) {
      c.header("WWW-Authenticate", 'Bearer realm="tock"');
      throw unauthorized(
        header !== undefined ? "the Authorization header must be Bearer <API key>" : `an API key is required (Authorization: Bearer <key>${opts.tokenHeader ? ` or ${opts.tokenHeader}` : ""})`,
      );
    }
    const result = await deps.keys.authenticate(token);
    if ("error" in result) {
      c.header("WWW-Authenticate", 'Bearer realm="tock", error="invalid_token"');
      throw unauthorized(result.error);
    }
    if ("retryAfterMs" in result) {
      c.header("Retry-After", String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
      throw new DomainError("rate_limited", `API key ${result.key} is over its rate (${deps.config.limits.rate ? formatRate(deps.config.limits.rate) : "none"}, [limits] rate); retry later`);
    }
    c.set("access", result.access);
    return next();
  };
}
