import type { Config } from "./config.ts";
import type { KeyRing } from "./domain/keys.ts";
import type { SecretBox } from "./domain/secrets.ts";
import type { Executors } from "./executors/types.ts";
import type { Logger } from "./log.ts";
import type { Clock } from "./clock.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import type { Store } from "./store/client.ts";

/** Everything the app needs, built once in main.ts (or a test) and passed down. */
export interface Deps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Config;
  executors: Executors;
  scheduler: Scheduler;
  /** This node's copy of the API keys. */
  keys: KeyRing;
  /** Seals and opens secret values ([secrets] key). */
  secrets: SecretBox;
  version: string;
}
