import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "../clock.ts";
import type { SchedulerControl } from "./ports.ts";
import type { Store } from "../store/client.ts";
import type { Access } from "./access.ts";
import type { SecretBox } from "./secrets.ts";

/**
 * What domain verbs need: a subset of the app's Deps plus who is asking (`access`: the request's API key,
 * or FULL_ACCESS for tock's own work), so tests and facades can build it cheaply. The app's Deps has no
 * `access`: a handler must say whose request it serves (api/auth.ts `scoped`).
 */
export interface DomainDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Pick<Config, "scheduler" | "executors" | "limits" | "egress" | "notify">;
  scheduler: SchedulerControl;
  access: Access;
  /** Seals and opens secret values ([secrets] key). */
  secrets: SecretBox;
}
