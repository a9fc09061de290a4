// What a job's target may be on this server: process, script and container targets exist only where the
// config turns them on, and are refused when the job is created (a clear 400), not when it fires.
import type { Config } from "../config.ts";
import { invalid } from "./errors.ts";
import { TARGET_KINDS, type Target, type TargetKind } from "./schemas.ts";

type ExecutorsConfig = Config["executors"];

/** Variables that docker, podman or the dynamic loader read for themselves. */
const CLI_ENV = /^(DOCKER_|PODMAN_|CONTAINERS_|CONTAINER_|BUILDAH_|LD_|XDG_|REGISTRY_AUTH_FILE$|PATH$|HOME$|TMPDIR$|TOCK_)/;

/** The one kind a validated target has, and its body. */
export function targetOf(target: Target): { kind: TargetKind; body: unknown } {
  const kind = TARGET_KINDS.find((k) => target[k] !== undefined)!;
  return { kind, body: target[kind] };
}

/** Throws `invalid` naming the field when this server will not run the target. */
export function checkTarget(cfg: ExecutorsConfig, target: Target): void {
  const { kind } = targetOf(target);
  if (kind === "http" || kind === "tcp") return;
  const p = cfg.process;
  if (!p.enabled) {
    throw invalid(
      `target.${kind}: ${kind} jobs are turned off on this server; an operator can enable them with [executors.process] enabled = true`,
      `target.${kind}`,
    );
  }
  if (target.process) {
    const t = target.process;
    if (t.command && p.allowedCommands.length > 0 && !p.allowedCommands.includes(t.command[0])) {
      throw invalid(`target.process.command.0: ${JSON.stringify(t.command[0])} is not among the commands this server allows (${p.allowedCommands.join(", ")})`, "target.process.command.0");
    }
    if (t.shell !== undefined && p.allowedCommands.length > 0 && !p.allowedCommands.includes(p.shell[0])) {
      throw invalid(`target.process.shell: shell strings are not allowed here: the shell ${p.shell[0]} is not among the allowed commands`, "target.process.shell");
    }
    if (t.inheritEnv && !p.allowInheritEnv) {
      throw invalid("target.process.inheritEnv: this server does not pass its own environment to jobs (executors.process.allow_inherit_env)", "target.process.inheritEnv");
    }
  }
  if (target.script) {
    const languages = Object.keys(cfg.script.interpreters);
    if (!Object.hasOwn(cfg.script.interpreters, target.script.language)) {
      throw invalid(`target.script.language: no interpreter for ${JSON.stringify(target.script.language)} on this server; it has ${languages.join(", ") || "none"}`, "target.script.language");
    }
  }
  if (target.container) {
    // The values reach the container through the CLI's own environment, so none may steer the CLI itself.
    const bad = Object.keys(target.container.env ?? {}).find((n) => CLI_ENV.test(n));
    if (bad) throw invalid(`target.container.env.${bad}: ${bad} would change how the container CLI itself runs; it cannot be set for a container job`, `target.container.env.${bad}`);
  }
  if (target.container && !cfg.container.cli) {
    throw invalid(
      "target.container: no container engine is configured on this server; an operator can set [executors.container] cli = \"docker\" or \"podman\"",
      "target.container",
    );
  }
}
