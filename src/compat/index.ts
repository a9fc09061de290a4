// The foreign scheduler APIs, each mounted at its vendor's documented paths unless the config turns it off.
// Each facade, in its own folder, translates its vendor's requests into the native domain verbs and their
// results back into the vendor's shapes; common/ holds what several of them share.
import { Hono } from "hono";
import type { RouteDeps } from "../api/deps.ts";
import { alaudaRoutes } from "./alauda/routes.ts";
import { daprRoutes } from "./dapr/routes.ts";
import { dcsRoutes } from "./dcs/routes.ts";
import type { RenderDelivery } from "../domain/deliveries.ts";
import { JUICE_CALLBACK, juiceCallbacks } from "./juice/callbacks.ts";
import { juiceRoutes } from "./juice/routes.ts";
import { schedulerxRoutes } from "./schedulerx/routes.ts";

export function compatRoutes(deps: RouteDeps): Hono {
  const app = new Hono();
  const on = deps.config.compat;
  if (on.dcs) app.route("/", dcsRoutes(deps));
  if (on.dapr) app.route("/", daprRoutes(deps));
  if (on.alauda) app.route("/", alaudaRoutes(deps));
  if (on.juice) app.route("/", juiceRoutes(deps));
  if (on.schedulerx) app.route("/", schedulerxRoutes(deps));
  return app;
}

/** How the facades' stored deliveries (Juice's completion callbacks) are rendered, by kind. */
export function deliveryRenderers(deps: RouteDeps): Record<string, RenderDelivery> {
  return deps.config.compat.juice ? { [JUICE_CALLBACK]: juiceCallbacks(deps) } : {};
}
