// What the server answers at all, before any route: requests for a Host it does not serve (421: a page
// that rebinds its DNS name to a loopback tock still sends its own name), changes sent by a web page of
// another origin (403), browsers' CORS preflights (only for [server] cors_origins), and more requests at
// once than [limits] max_concurrent_requests (503).
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { hostname, networkInterfaces } from "node:os";
import type { Config } from "../config.ts";
import { ipText, normalName, type NameRule, nameMatches, parseIp, parseNameRule } from "../net/address.ts";
import { errorBody } from "./http.ts";

/** Set by the server for each listener: requests over the Unix socket come from this machine, not a browser. */
export interface Bindings {
  transport?: "tcp" | "unix";
}

/** The names and addresses this server answers to: [server] hosts, else its own addresses, host name and localhost. */
export function servedHosts(server: Config["server"]): { names: NameRule[]; ips: Set<string> } {
  const given = server.hosts.length > 0 ? server.hosts : defaultHostNames(server.host);
  const names: NameRule[] = [];
  const ips = new Set<string>();
  for (const h of given) {
    const ip = parseIp(h);
    if (ip) ips.add(ipText(ip));
    else {
      const rule = parseNameRule(h);
      if (rule) names.push(rule);
    }
  }
  return { names, ips };
}

/** Without [server] hosts: localhost, this machine's host name, and the address listened on (every interface's, for 0.0.0.0 or ::). */
export function defaultHostNames(listen: string): string[] {
  const out = ["localhost", hostname()];
  const ip = parseIp(listen);
  if (!ip) out.push(listen);
  else if (ip.range() !== "unspecified") out.push(ipText(ip));
  else {
    // Listening on every address: every address of this machine's interfaces.
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address.replace(/%.*$/, ""));
  }
  return out;
}

/** The host part of a Host header ("[::1]:8080" -> "::1"), or null when it is not one. */
function hostPart(header: string): string | null {
  const h = header.trim();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 && (end === h.length - 1 || /^:\d{1,5}$/.test(h.slice(end + 1))) ? h.slice(1, end) : null;
  }
  const m = /^([^:]+)(:\d{1,5})?$/.exec(h);
  return m ? m[1] : null;
}

/** 421 for a Host this server does not answer to (requests over the Unix socket are not checked). */
export function hostCheck(server: Config["server"]): MiddlewareHandler<{ Bindings: Bindings }> {
  const { names, ips } = servedHosts(server);
  const allowed = new Map<string, boolean>();
  const judge = (header: string): boolean => {
    const host = hostPart(header);
    if (host === null) return false;
    const ip = parseIp(host);
    return ip ? ips.has(ipText(ip)) : names.some((r) => nameMatches(host, r));
  };
  return async (c, next) => {
    if (c.env?.transport === "unix") return next();
    const header = c.req.header("host");
    if (header !== undefined) {
      let ok = allowed.get(header);
      if (ok === undefined) {
        ok = judge(header);
        if (allowed.size < 1000) allowed.set(header, ok); // clients use few spellings; never grow unbounded
      }
      if (!ok) {
        return c.json(
          errorBody("misdirected", `this server does not answer to the host ${JSON.stringify(normalName(header).slice(0, 200))}; an operator can add it to [server] hosts`),
          421,
        );
      }
    }
    return next();
  };
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * 403 for a request that changes something (any method but GET, HEAD, OPTIONS) and comes from a web page
 * of another origin: its Origin is neither the server's own (the Host it was sent to) nor in
 * [server] cors_origins. Requests without Origin (curl, SDKs, other servers) pass.
 */
export function originCheck(server: Config["server"]): MiddlewareHandler {
  const listed = new Set(server.corsOrigins);
  return async (c, next) => {
    if (SAFE.has(c.req.method)) return next();
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site");
    if (origin === undefined) {
      if (site === "cross-site") return refuse(c, "a cross-site request");
      return next();
    }
    if (listed.has(origin) || sameOrigin(origin, c.req.header("host"))) return next();
    return refuse(c, `Origin ${origin.slice(0, 200)}`);
  };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || !URL.canParse(origin)) return false;
  return new URL(origin).host === host.trim().toLowerCase();
}

function refuse(c: Context, what: string): Response {
  return c.json(errorBody("forbidden", `${what} may not change anything here: only this server's own pages and [server] cors_origins may`), 403);
}

/** CORS for [server] cors_origins; nothing (no CORS headers at all) when the list is empty. */
export function corsFor(server: Config["server"]): MiddlewareHandler | null {
  if (server.corsOrigins.length === 0) return null;
  return cors({
    origin: server.corsOrigins,
    allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Last-Event-ID", "X-Request-Id", "X-Tenant-Id", "dapr-api-token", "schedulerx-namespace", "openapi-groupid"],
    exposeHeaders: ["ETag", "Location", "Retry-After", "X-Request-Id", "WWW-Authenticate"],
    maxAge: 600,
  });
}

/** Answers `reject(c)` instead of running the route when `max` requests are already in flight through it. */
export function inFlightCap(max: () => number, reject: (c: Context) => Response): MiddlewareHandler {
  let inFlight = 0;
  return async (c, next) => {
    if (inFlight >= max()) return reject(c);
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}
