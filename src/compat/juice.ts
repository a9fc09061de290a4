// PLACEHOLDER: replaced by the juice facade.
import { Hono } from "hono";
import type { Deps } from "../deps.ts";

export function juiceRoutes(_deps: Deps): Hono {
  return new Hono();
}

export function juiceHooks(_deps: Deps): () => void {
  return () => {};
}
