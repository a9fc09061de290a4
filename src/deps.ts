import type { Config } from "./config.ts";
import type { Executors } from "./executors/types.ts";
import type { Logger } from "./log.ts";
import type { Clock } from "./scheduler/clock.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import type { Store } from "./store/client.ts";

/** Everything the app needs, built once in main.ts (or a test) and passed down (STYLE rule 2). */
export interface Deps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Config;
  executors: Executors;
  scheduler: Scheduler;
  version: string;
}
