// Alauda's HTTP conventions: its error body, and Django REST framework's numbered pages.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "../../log.ts";
import { logFailure } from "../common/errors.ts";
import { DomainError, type ErrorCode, invalid, notFound } from "../../domain/errors.ts";

/** Alauda's error code (and HTTP status) for each domain error: an exhaustive switch, no default. */
function codeOf(code: ErrorCode): [ContentfulStatusCode, string] {
  switch (code) {
    case "invalid":
      return [400, "invalid_args"];
    case "unauthorized": // Django REST framework's codes, which Alauda's API used
      return [401, "not_authenticated"];
    case "forbidden":
      return [403, "permission_denied"];
    case "rate_limited":
      return [429, "throttled"];
    case "not_found":
      return [404, "resource_not_exist"];
    case "conflict":
      return [409, "resource_state_conflict"];
    case "too_large":
      return [413, "request_too_large"];
    case "unsupported_media_type":
      return [415, "unsupported_media_type"];
    case "unavailable":
      return [503, "service_unavailable"];
  }
}

/** `{"errors": [{"source", "code", "message"}]}`, plus `fields` naming the request field at fault. */
export function errorBody(code: string, message: string, field?: string) {
  const error: Record<string, unknown> = { source: "tock", code, message };
  if (field) error.fields = [{ [field]: [message] }];
  return { errors: [error] };
}

export function errorResponse(c: Context, err: unknown, log: Logger): Response {
  if (err instanceof DomainError) {
    const [status, code] = codeOf(err.code);
    return c.json(errorBody(code, err.message, err.field), status);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return c.json(errorBody(err.status === 404 ? "resource_not_exist" : "invalid_args", err.message || "bad request"), err.status as ContentfulStatusCode);
  }
  logFailure(log, "alauda", err, c.req.path);
  return c.json(errorBody("server_error", "internal error; the request may not have been applied"), 500);
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** The requested page: `page` (1-based, or `last`) and `page_size` (1-100, default 20). */
export function pageQuery(c: Context): { page: number | "last"; size: number } {
  const rawPage = c.req.query("page");
  const rawSize = c.req.query("page_size");
  let page: number | "last" = 1;
  if (rawPage === "last") page = "last";
  else if (rawPage !== undefined && rawPage !== "") {
    if (!/^\d{1,9}$/.test(rawPage) || Number(rawPage) < 1) throw invalid("page must be a positive integer or last", "page");
    page = Number(rawPage);
  }
  let size = DEFAULT_PAGE_SIZE;
  if (rawSize !== undefined && rawSize !== "") {
    if (!/^\d{1,9}$/.test(rawSize) || Number(rawSize) < 1 || Number(rawSize) > MAX_PAGE_SIZE) throw invalid(`page_size must be an integer from 1 to ${MAX_PAGE_SIZE}`, "page_size");
    size = Number(rawSize);
  }
  return { page, size };
}

/**
 * Fetches one page and wraps it as Django REST framework does: `count`, absolute `next`/`previous` links
 * (the request's URL with `page` changed; page 1's link has none) and `results`. A page past the last is a
 * 404 "Invalid page.", as DRF answers; an empty first page is not.
 */
export async function paged<T>(c: Context, q: { page: number | "last"; size: number }, fetch: (offset: number, limit: number) => Promise<{ count: number; items: T[] }>) {
  let page = q.page === "last" ? 1 : q.page;
  let { count, items } = await fetch((page - 1) * q.size, q.size);
  const last = Math.max(1, Math.ceil(count / q.size));
  if (q.page === "last" && last > 1) {
    page = last;
    ({ count, items } = await fetch((page - 1) * q.size, q.size));
  }
  if (page > last) throw notFound("Invalid page.");
  const link = (p: number) => {
    const url = new URL(c.req.url);
    if (p === 1) url.searchParams.delete("page");
    else url.searchParams.set("page", String(p));
    return url.toString();
  };
  return { count, previous: page > 1 ? link(page - 1) : null, results: items, next: page < last ? link(page + 1) : null };
}
