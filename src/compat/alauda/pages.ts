// Alauda's numbered pages, as Django REST framework (which Alauda's API used) pages a list: `page` and
// `page_size` in, `count`, absolute `next`/`previous` links and `results` out.
import type { Context } from "hono";
import { invalid, notFound } from "../../domain/errors.ts";

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
