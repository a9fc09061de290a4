// The executors a node has, from its config: HTTP and TCP always; process, script and container only
// where [executors.process] enabled = true (and container only with a container CLI configured).
import type { Config } from "../config.ts";
import { createContainerExecutor } from "./container.ts";
import { createHttpExecutor } from "./http.ts";
import { createProcessExecutor, type Env } from "./process.ts";
import { createScriptExecutor } from "./script.ts";
import { createTcpExecutor } from "./tcp.ts";
import type { Executors } from "./types.ts";

/** `env`: tock's own environment, the source of the variables passed to jobs (default process.env). */
export function createExecutors(cfg: Config["executors"], env?: Env): Executors {
  const executors: Executors = {
    http: createHttpExecutor({ userAgent: cfg.http.userAgent, maxResponseBytes: cfg.http.maxResponseBytes }),
    tcp: createTcpExecutor({ connectTimeoutMs: cfg.tcp.connectTimeout, maxResponseBytes: cfg.tcp.maxResponseBytes }),
  };
  if (!cfg.process.enabled) return executors;
  const base = { ...cfg.process, env };
  executors.process = createProcessExecutor(base);
  executors.script = createScriptExecutor({ ...base, interpreters: cfg.script.interpreters, tempDir: cfg.script.tempDir });
  if (cfg.container.cli) executors.container = createContainerExecutor({ ...base, cli: cfg.container.cli, runArgs: cfg.container.runArgs });
  return executors;
}
