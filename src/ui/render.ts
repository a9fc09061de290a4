// Answering with a page: the document type, the page and its status, and what every page knows about its
// request.
import type { Context, Hono } from "hono";
import type { RouteDeps } from "../api/deps.ts";
import { authRequired } from "../api/auth.ts";
import type { Frame } from "./layout.tsx";
import { takeFlash, type UiBindings } from "./session.ts";

export type UiContext = Context<{ Bindings: UiBindings }>;
export type UiApp = Hono<{ Bindings: UiBindings }>;

export async function render(c: UiContext, page: unknown, status = 200): Promise<Response> {
  return c.html(`<!doctype html>${await page}`, status as 200);
}

/** The request's frame; the flash message is taken here, so it shows once. */
export function frameOf(c: UiContext, deps: RouteDeps): Frame {
  return { access: c.get("access") ?? null, csrf: c.get("csrf") ?? "", flash: takeFlash(c), now: deps.clock.now(), keys: authRequired(deps.config) };
}
