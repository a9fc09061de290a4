// The dashboard's session: who the browser is (the API key it logged in with, kept in a cookie), the
// per-session token every form carries against cross-site requests, and the one-shot flash message a form
// leaves for the page it redirects to. Cookies are HttpOnly, SameSite=Strict, Path=/ui, and Secure over TLS.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { RouteDeps } from "../api/deps.ts";
import { authRequired } from "../api/auth.ts";
import { FULL_ACCESS } from "../domain/access.ts";
import { DomainError, forbidden, invalid } from "../domain/errors.ts";
import { formatRate } from "../domain/rate.ts";

/** What the server tells the app about a request's connection (see runtime/serve.ts). */
export interface UiBindings {
  transport?: "tcp" | "unix";
  tls?: boolean;
}

type C = Context<{ Bindings: UiBindings }>;

declare module "hono" {
  interface ContextVariableMap {
    /** The token this session's forms carry (an HMAC of its session cookie). */
    csrf: string;
    /** The key's refusal, when a page must ask for a key again (expired, revoked, wrong). */
    loginProblem: string | null;
  }
}

export const SESSION_COOKIE = "tock_session";
export const KEY_COOKIE = "tock_key";
export const FLASH_COOKIE = "tock_flash";
const SESSION_RE = /^[A-Za-z0-9_-]{43}$/;

/** Whether the request came over TLS: the listener's, the URL's, or a proxy's X-Forwarded-Proto (only ever makes cookies stricter). */
export function overTls(c: C): boolean {
  return c.env?.tls === true || new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.trim().toLowerCase() === "https";
}

function cookieOptions(c: C): CookieOptions {
  return { path: "/ui", httpOnly: true, sameSite: "Strict", secure: overTls(c) };
}

/** The token a form of session `session` carries: an HMAC keyed by the session's secret cookie. */
export function csrfToken(session: string): string {
  return createHmac("sha256", session).update("tock-ui-form").digest("base64url");
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Starts a new session (at login and logout too, so a session never outlives who it was for). */
export function newSession(c: C): string {
  const session = randomBytes(32).toString("base64url");
  setCookie(c, SESSION_COOKIE, session, cookieOptions(c));
  c.set("csrf", csrfToken(session));
  return session;
}

/**
 * Gives every request its session (a new one for a browser without) and the token of its forms; a request
 * that changes something must carry that token in its `_csrf` field, or it is refused (403).
 */
export function session(): MiddlewareHandler<{ Bindings: UiBindings }> {
  return async (c, next) => {
    const raw = getCookie(c, SESSION_COOKIE);
    const current = raw !== undefined && SESSION_RE.test(raw) ? raw : null;
    if (c.req.method === "POST") {
      let form: Record<string, unknown>;
      try {
        form = await c.req.parseBody();
      } catch {
        throw invalid("the form's body cannot be read (a form is sent as application/x-www-form-urlencoded or multipart/form-data)", "body");
      }
      const given = typeof form._csrf === "string" ? form._csrf : "";
      if (current === null || !sameToken(given, csrfToken(current))) {
        throw forbidden("this form is out of date or did not come from this dashboard (its session token is missing or wrong): reload the page and try again");
      }
    }
    if (current === null) newSession(c);
    else c.set("csrf", csrfToken(current));
    await next();
  };
}

/**
 * Sets the request's Access from the key in its cookie, checked as the API checks a Bearer key (revoked,
 * expired, over its rate), or full access when the server needs no keys. Without a usable key the page
 * asks for one: `loginProblem` says why and the handler renders the login form (401).
 */
export function keyAccess(deps: RouteDeps): MiddlewareHandler<{ Bindings: UiBindings }> {
  const required = authRequired(deps.config);
  return async (c, next) => {
    c.set("loginProblem", null);
    if (!required) {
      c.set("access", FULL_ACCESS);
      return next();
    }
    const key = getCookie(c, KEY_COOKIE);
    if (!key) {
      c.set("loginProblem", "");
      return next();
    }
    const result = await deps.keys.authenticate(key);
    if ("error" in result) {
      deleteCookie(c, KEY_COOKIE, cookieOptions(c));
      c.set("loginProblem", result.error);
      return next();
    }
    if ("retryAfterMs" in result) {
      c.header("Retry-After", String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
      throw new DomainError("rate_limited", `API key ${result.key} is over its rate (${deps.config.limits.rate ? formatRate(deps.config.limits.rate) : "none"}, [limits] rate); retry later`);
    }
    c.set("access", result.access);
    return next();
  };
}

/** Keeps the key a login gave in its cookie, and starts a fresh session for it. */
export function rememberKey(c: C, key: string): void {
  setCookie(c, KEY_COOKIE, key, cookieOptions(c));
  newSession(c);
}

export function forgetKey(c: C): void {
  deleteCookie(c, KEY_COOKIE, cookieOptions(c));
  newSession(c);
}

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

/** Leaves a message for the next page this browser loads. */
export function flash(c: C, kind: Flash["kind"], text: string): void {
  setCookie(c, FLASH_COOKIE, `${kind}:${text.slice(0, 500)}`, cookieOptions(c));
}

/** The message left by the last form, if any, cleared as it is read. */
export function takeFlash(c: C): Flash | null {
  const raw = getCookie(c, FLASH_COOKIE);
  if (raw === undefined) return null;
  deleteCookie(c, FLASH_COOKIE, cookieOptions(c));
  const m = /^(ok|error):([^]*)$/.exec(raw);
  return m ? { kind: m[1] as Flash["kind"], text: m[2] } : null;
}
