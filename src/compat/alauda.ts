// PLACEHOLDER: replaced by the alauda facade.
import { Hono } from "hono";
import type { Deps } from "../deps.ts";

export function alaudaRoutes(_deps: Deps): Hono {
  return new Hono();
}
