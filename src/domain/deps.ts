import type { Config } from "../config.ts";
import type { Clock } from "../scheduler/clock.ts";
import type { SchedulerControl } from "../scheduler/control.ts";
import type { Store } from "../store/client.ts";

/** What domain verbs need: a subset of the app's Deps, so tests and facades can build it cheaply. */
export interface DomainDeps {
  store: Store;
  clock: Clock;
  config: Pick<Config, "scheduler" | "executors" | "egress">;
  scheduler: SchedulerControl;
}
