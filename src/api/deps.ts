// What the routes of the native API and the foreign facades need: the domain's deps (who asks comes with
// each request, see auth.ts `scoped`), the API keys, the whole config, and what the local scheduler shows.
import type { Config } from "../config.ts";
import type { DomainDeps } from "../domain/deps.ts";
import type { KeyRing } from "../domain/keys.ts";
import type { RunEvents, SchedulerControl } from "../domain/ports.ts";
import type { Metrics } from "../metrics.ts";

/** The local scheduler as routes see it: the control every verb has, its run events and its state. */
export interface SchedulerView extends SchedulerControl {
  readonly events: RunEvents;
  readonly running: boolean;
  readonly nodeId: string;
  /** Why this node is not doing its share now (its clock disagrees with the database's), or null. */
  readonly problem: string | null;
}

export interface RouteDeps extends Omit<DomainDeps, "access" | "config" | "scheduler"> {
  config: Config;
  scheduler: SchedulerView;
  /** This node's copy of the API keys. */
  keys: KeyRing;
  version: string;
  /** The node's metrics (GET /metrics, and every request counted); none with [metrics] enabled = false. */
  metrics?: Metrics;
}

/** The deps of one request: who asks comes with it. */
export type RequestDeps = RouteDeps & Pick<DomainDeps, "access">;
