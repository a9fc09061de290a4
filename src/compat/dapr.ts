// PLACEHOLDER: replaced by the dapr facade.
import { Hono } from "hono";
import type { Deps } from "../deps.ts";

export function daprRoutes(_deps: Deps): Hono {
  return new Hono();
}
