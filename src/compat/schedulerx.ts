// PLACEHOLDER: replaced by the schedulerx facade.
import { Hono } from "hono";
import type { Deps } from "../deps.ts";

export function schedulerxRoutes(_deps: Deps): Hono {
  return new Hono();
}
