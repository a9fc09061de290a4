// The executors a node has, from its config: HTTP and TCP always; process, script and container only
// where [executors.process] enabled = true (and container only with a container CLI configured).
import type { Config } from "../config.ts";
import { createContainerExecutor } from "./container.ts";
import { createHttpExecutor } from "./http.ts";
import { createProcessExecutor, type Env } from "./process.ts";
import { createScriptExecutor } from "./script.ts";
import { createTcpExecutor } from "./tcp.ts";
import type { Target } from "../domain/schemas.ts";
import { checkTarget } from "../domain/targets.ts";
import { errorText, type Executor, type Executors } from "./types.ts";

/** `env`: tock's own environment, the source of the variables passed to jobs (default process.env). */
export function createExecutors(cfg: Config["executors"], env?: Env): Executors {
  const executors: Executors = {
    http: createHttpExecutor({ userAgent: cfg.http.userAgent, maxResponseBytes: cfg.http.maxResponseBytes }),
    tcp: createTcpExecutor({ connectTimeoutMs: cfg.tcp.connectTimeout, maxResponseBytes: cfg.tcp.maxResponseBytes }),
  };
  if (!cfg.process.enabled) return executors;
  const base = { ...cfg.process, env };
  executors.process = guarded(cfg, "process", createProcessExecutor(base));
  executors.script = guarded(cfg, "script", createScriptExecutor({ ...base, interpreters: cfg.script.interpreters, tempDir: cfg.script.tempDir }));
  if (cfg.container.cli) executors.container = guarded(cfg, "container", createContainerExecutor({ ...base, cli: cfg.container.cli, runArgs: cfg.container.runArgs }));
  return executors;
}

/**
 * Checks a job's target against this node's config again when it fires: a job created before the config
 * was tightened (an allowlist added, inheritEnv turned off) fails with the reason instead of running.
 */
function guarded(cfg: Config["executors"], kind: "process" | "script" | "container", executor: Executor): Executor {
  return {
    execute(req, signal) {
      try {
        checkTarget(cfg, { [kind]: req.target } as Target);
      } catch (e) {
        return Promise.resolve({ status: "failed", error: `refused by this node's config: ${errorText(e)}` });
      }
      return executor.execute(req, signal);
    },
  };
}
