// What a job's target may be on this server: process, script and container targets exist only where the
// config turns them on, and are refused when the job is created (a clear 400), not when it fires. HTTP and
// TCP targets whose address the namespace may not reach ([egress]) are refused then too, when the address
// is a literal or the host name is denied by name; names are judged again after resolution at each attempt.
import type { Config } from "../config.ts";
import { splitHostPort } from "../net/address.ts";
import type { EgressPolicy } from "../net/egress.ts";
import { invalid } from "./errors.ts";
import { type StoredRunParams, TARGET_KINDS, type Target, type TargetKind } from "./schemas.ts";

type ExecutorsConfig = Config["executors"];

/** Variables that docker, podman or the dynamic loader read for themselves. */
const CLI_ENV = /^(DOCKER_|PODMAN_|CONTAINERS_|CONTAINER_|BUILDAH_|LD_|XDG_|REGISTRY_AUTH_FILE$|PATH$|HOME$|TMPDIR$|TOCK_)/;

/** The one kind a validated target has, and its body. */
export function targetOf(target: Target): { kind: TargetKind; body: unknown } {
  const kind = TARGET_KINDS.find((k) => target[k] !== undefined)!;
  return { kind, body: target[kind] };
}

/**
 * Variables that make a program run other code (the dynamic loader, shells' start-up files, interpreters'
 * module paths and options, the program search path): with an allowlist of commands, a job may not set
 * them, or an allowed program could be made to run anything.
 */
const CODE_ENV = /^(LD_|DYLD_|BASH_ENV$|ENV$|BASH_FUNC_|SHELLOPTS$|PS4$|IFS$|PATH$|NODE_OPTIONS$|NODE_PATH$|PYTHON|PERL5|PERLLIB$|RUBYOPT$|RUBYLIB$|BUN_|DENO_|JAVA_TOOL_OPTIONS$|_JAVA_OPTIONS$)/;

/**
 * Throws `invalid` naming the field when this server will not run the target for namespace `ns`. Checked
 * when a job is created and again when it fires (the config may have been tightened since).
 */
export function checkTarget(cfg: ExecutorsConfig, target: Target, egress: EgressPolicy, ns: string): void {
  const { kind } = targetOf(target);
  if (kind === "http" || kind === "tcp") {
    const [field, host] = target.http ? ["target.http.url", new URL(target.http.url).hostname] : ["target.tcp.addr", splitHostPort(target.tcp!.addr).host];
    const refused = egress.check(ns, host);
    if (refused) throw invalid(`${field}: ${refused}`, field);
    return;
  }
  const p = cfg.process;
  if (!p.enabled) {
    throw invalid(
      `target.${kind}: ${kind} jobs are turned off on this server; an operator can enable them with [executors.process] enabled = true`,
      `target.${kind}`,
    );
  }
  const allowlist = p.allowedCommands.length > 0;
  const allowed = (program: string, field: string, what: string) => {
    if (allowlist && !p.allowedCommands.includes(program)) {
      throw invalid(`${field}: ${what} ${JSON.stringify(program)} is not among the commands this server allows (${p.allowedCommands.join(", ")})`, field);
    }
  };
  const env = (vars: Record<string, string> | undefined, field: string) => {
    const bad = allowlist ? Object.keys(vars ?? {}).find((n) => CODE_ENV.test(n)) : undefined;
    if (bad) throw invalid(`${field}.${bad}: ${bad} could make an allowed command run other code; jobs may not set it on this server`, `${field}.${bad}`);
  };
  if (target.process) {
    const t = target.process;
    if (t.command) allowed(t.command[0], "target.process.command.0", "the program");
    if (t.shell !== undefined) allowed(p.shell[0], "target.process.shell", "shell strings are run by the shell");
    env(t.env, "target.process.env");
    if (t.inheritEnv && !p.allowInheritEnv) {
      throw invalid("target.process.inheritEnv: this server does not pass its own environment to jobs (executors.process.allow_inherit_env)", "target.process.inheritEnv");
    }
  }
  if (target.script) {
    const languages = Object.keys(cfg.script.interpreters);
    if (!Object.hasOwn(cfg.script.interpreters, target.script.language)) {
      throw invalid(`target.script.language: no interpreter for ${JSON.stringify(target.script.language)} on this server; it has ${languages.join(", ") || "none"}`, "target.script.language");
    }
    allowed(cfg.script.interpreters[target.script.language][0], "target.script.language", `the ${target.script.language} interpreter`);
    env(target.script.env, "target.script.env");
  }
  if (target.container) {
    // The values reach the container through the CLI's own environment, so none may steer the CLI itself.
    const bad = Object.keys(target.container.env ?? {}).find((n) => CLI_ENV.test(n));
    if (bad) throw invalid(`target.container.env.${bad}: ${bad} would change how the container CLI itself runs; it cannot be set for a container job`, `target.container.env.${bad}`);
    if (!cfg.container.cli) {
      throw invalid(
        "target.container: no container engine is configured on this server; an operator can set [executors.container] cli = \"docker\" or \"podman\"",
        "target.container",
      );
    }
    allowed(cfg.container.cli, "target.container", "the container CLI");
  }
}

/**
 * A stored target with one run's extra input (RunParams) applied: its variables over the job's own, its
 * arguments after the job's (after a process's argv, as a shell string's $1…, after a script's or
 * container's args); a workflow step's parents' results as TOCK_UPSTREAM (JSON). HTTP and TCP targets are
 * returned as they are (an HTTP step gets its parents' results as its body: scheduler/execute.ts).
 */
export function withParams(kind: TargetKind, target: unknown, params: StoredRunParams | null | undefined): unknown {
  if (!params || kind === "http" || kind === "tcp") return target;
  const t = { ...(target as Record<string, unknown>) };
  const env = params.upstream ? { ...params.env, TOCK_UPSTREAM: JSON.stringify(params.upstream) } : params.env;
  if (env) t.env = { ...(t.env as Record<string, string> | undefined), ...env };
  if (params.args?.length) {
    if (kind === "process" && Array.isArray(t.command)) t.command = [...t.command, ...params.args];
    else t.args = [...((t.args as string[] | undefined) ?? []), ...params.args];
  }
  return t;
}
