// Container jobs: `<cli> run --rm` through the process core. Environment values travel in the CLI's own
// environment (`-e NAME` makes docker and podman read the value from it), so secrets never appear on a
// command line. Stopping also asks the engine to kill the named container, since signals to the CLI may
// not reach a container it is not attached to.
import process from "node:process";
import { jobEnv, payloadBytes, pickEnv, type ProcessExecutorOptions, runCommand, runVars } from "./process.ts";
import type { ExecRequest, Executor, Outcome, ContainerTarget } from "./types.ts";
import { present } from "./which.ts";

/** The process options (environment allowlist, grace) plus the `[executors.container]` keys. */
export interface ContainerExecutorOptions extends ProcessExecutorOptions {
  /** "docker", "podman" or a path to one. */
  cli: string;
  /** Extra arguments after `run --rm`. */
  runArgs: readonly string[];
}

/** A container name no other run (or retry) shares. */
export function containerName(runId: number): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  return `tock-run-${runId}-${random}`;
}

/**
 * The `run` argv; values of `envNames` are not in it (the CLI reads them from its environment). `-i` only
 * with a payload: without it the engine does not pass stdin on to the container.
 */
export function containerArgv(cli: string, runArgs: readonly string[], name: string, target: ContainerTarget, envNames: readonly string[], stdin: boolean): string[] {
  const argv = [cli, "run", "--rm", "--name", name];
  if (stdin) argv.push("-i");
  // The job's limits come before the operator's run_args, so the operator's own --cpus/--memory win.
  if (target.resources?.cpus !== undefined) argv.push(`--cpus=${target.resources.cpus}`);
  if (target.resources?.memory !== undefined) argv.push(`--memory=${target.resources.memory}`);
  argv.push(...runArgs);
  for (const n of envNames) argv.push("-e", n);
  if (target.command) argv.push("--entrypoint", target.command[0]);
  argv.push(target.tag ? `${target.image}:${target.tag}` : target.image);
  if (target.command) argv.push(...target.command.slice(1));
  if (target.args) argv.push(...target.args);
  return argv;
}

export function createContainerExecutor(opts: ContainerExecutorOptions): Executor {
  const env = opts.env ?? process.env;
  // The CLI itself needs PATH, HOME (its config), DOCKER_HOST and the like: the passed variables.
  const passed = pickEnv(env, opts.passEnv);

  return {
    // Without its CLI here, this node claims no container runs (a node that has it takes them).
    offers: present(opts.cli, env.PATH) ? ["container"] : [],
    async cleanup(name: string) {
      const req = { runId: 0, key: "", namespace: "", jobName: "", scheduledAt: 0, attempt: 0, target: null, payload: null };
      await runCommand([opts.cli, "rm", "-f", name], { env: passed, killGrace: 0 }, req, AbortSignal.timeout(Math.max(opts.killGrace, 10_000)));
    },
    async execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as ContainerTarget;
      const name = containerName(req.runId);
      // Only the job's own variables and tock's run variables go into the container, not the CLI's.
      const envNames = [...new Set([...Object.keys(target.env ?? {}), ...Object.keys(runVars(req))])];
      const stdin = payloadBytes(req.payload);
      const argv = containerArgv(opts.cli, opts.runArgs, name, target, envNames, stdin !== undefined);

      // Best effort, never throwing: the engine may be gone, or the container already removed.
      const helpers: Promise<unknown>[] = [];
      const engine = (args: string[]) => {
        const done = runCommand([opts.cli, ...args, name], { env: passed, killGrace: 0 }, { ...req, output: undefined, spawned: undefined }, AbortSignal.timeout(Math.max(opts.killGrace, 1000)))
          .then((o) => {
            if (o.status === "failed") req.output?.note(`${opts.cli} ${args.join(" ")} ${name}: ${o.error}`);
          });
        helpers.push(done);
      };

      const outcome = await runCommand(
        argv,
        {
          env: jobEnv(passed, target.env, req),
          stdin,
          killGrace: opts.killGrace,
          onAbort: () => engine(["kill"]),
          onGraceExpired: () => engine(["rm", "-f"]),
        },
        // The container's name goes with its CLI's process group: recovery removes it if tock dies.
        { ...req, spawned: req.spawned && ((pgid, identity) => req.spawned!(pgid, identity, name)) },
        signal,
      );
      // The engine commands finish (or time out) before the run counts as over.
      await Promise.all(helpers);
      if (outcome.result) outcome.result.container = name;
      return outcome;
    },
  };
}
