// PLACEHOLDER: replaced by the dcs facade.
import { Hono } from "hono";
import type { Deps } from "../deps.ts";

export function dcsRoutes(_deps: Deps): Hono {
  return new Hono();
}
