// The executors a node has, from its config: HTTP and TCP always; process, script and container only
// where [executors.process] enabled = true (and container only with a container CLI configured).
import type { Config } from "../config.ts";
import { createContainerExecutor } from "./container.ts";
import { createHttpExecutor } from "./http.ts";
import { createProcessExecutor, type Env } from "./process.ts";
import { createScriptExecutor } from "./script.ts";
import { createSigner } from "./signing.ts";
import { createTcpExecutor } from "./tcp.ts";
import type { Egress } from "../net/egress.ts";
import type { PinnedFetch } from "../runtime/fetch.ts";
import type { Executors } from "./types.ts";

export interface ExecutorDeps {
  /** Where HTTP and TCP targets may go, and how names are resolved (shared with the scheduler). */
  egress: Egress;
  /** tock's own environment, the source of the variables passed to jobs (default process.env). */
  env?: Env;
  /** How HTTP requests reach their address (runtime/fetch.ts); tests pass one that trusts their CA. */
  fetch?: PinnedFetch;
}

export function createExecutors(config: Pick<Config, "executors" | "callbacks">, deps: ExecutorDeps): Executors {
  const cfg = config.executors;
  const { env } = deps;
  const signer = createSigner(config.callbacks);
  const executors: Executors = {
    http: createHttpExecutor({ userAgent: cfg.http.userAgent, maxResponseBytes: cfg.http.maxResponseBytes, egress: deps.egress, signer, fetch: deps.fetch }),
    tcp: createTcpExecutor({ connectTimeoutMs: cfg.tcp.connectTimeout, maxResponseBytes: cfg.tcp.maxResponseBytes, egress: deps.egress }),
  };
  if (!cfg.process.enabled) return executors;
  const base = { ...cfg.process, env };
  // Whether a stored target may still run under this config is checked by the scheduler before each run.
  executors.process = createProcessExecutor(base);
  executors.script = createScriptExecutor({ ...base, interpreters: cfg.script.interpreters, tempDir: cfg.script.tempDir });
  if (cfg.container.cli) executors.container = createContainerExecutor({ ...base, cli: cfg.container.cli, runArgs: cfg.container.runArgs });
  return executors;
}
