// Process jobs: a local command in its own process group, with an allowlisted environment, the payload as
// JSON on stdin and its output streamed to the run's sink. runCommand is the core that script and container
// jobs share. Stopping is by process group (SIGTERM, then SIGKILL after the grace), so nothing the job
// started outlives it.
import process from "node:process";
import { processIdentity } from "../runtime/procs.ts";
import { type Child, type Exit, spawn } from "../runtime/spawn.ts";
import { errorText, type ExecRequest, type Executor, type LogStream, type Outcome, type RunOutput, type ProcessTarget } from "./types.ts";

/** An environment as the runtime gives it (process.env); undefined values are left out. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The `[executors.process]` keys the executor uses, plus tock's own environment. */
export interface ProcessExecutorOptions {
  /** Names of variables of tock's own environment passed to jobs; nothing else of it is. */
  passEnv: readonly string[];
  /** Argv prefix that runs a job's `shell` string: [...shell, string]. */
  shell: readonly string[];
  /** Working directory of jobs that set no cwd; undefined: tock's own. */
  workingDir?: string;
  /** Milliseconds between SIGTERM and SIGKILL to the process group when a run is stopped. */
  killGrace: number;
  /** tock's own environment; process.env unless given (tests inject a fake secret). */
  env?: Env;
}

export interface CommandOptions {
  /** The child's whole environment. */
  env: Record<string, string>;
  cwd?: string;
  stdin?: Uint8Array;
  killGrace: number;
  /** Called once when the run is aborted, after SIGTERM went to the group (e.g. `docker kill`). Must not throw. */
  onAbort?(): void;
  /** Called when the grace after an abort runs out (e.g. `docker rm -f`). Must not throw. */
  onGraceExpired?(): void;
}

/**
 * How long output is still read after the command exits. Its own output is already in the pipes; only a
 * process that left its group (setsid) can keep them open past the group's SIGKILL.
 */
const DRAIN_MS = 150;

/** How often an aborted run looks whether its process group is empty, once the leader has exited. */
const GROUP_POLL_MS = 25;

const encoder = new TextEncoder();
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The named variables of `env` that are set. */
export function pickEnv(env: Env, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The variables tock sets for every run; they win over the job's own. */
export function runVars(req: ExecRequest): Record<string, string> {
  return {
    TOCK_RUN_ID: String(req.runId),
    TOCK_NAMESPACE: req.namespace,
    TOCK_JOB_NAME: req.jobName,
    TOCK_SCHEDULED_AT: new Date(req.scheduledAt).toISOString(),
    TOCK_ATTEMPT: String(req.attempt),
    TOCK_WEBHOOK_ID: req.key,
  };
}

/** A job's environment: `base` (passed or inherited from tock), then the target's, then tock's run variables. */
export function jobEnv(base: Env, targetEnv: Readonly<Record<string, string>> | undefined, req: ExecRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in base) {
    const value = base[name];
    if (value !== undefined) out[name] = value;
  }
  if (targetEnv) Object.assign(out, targetEnv);
  return Object.assign(out, runVars(req));
}

/** The payload as JSON for stdin; none (an empty stdin) when there is no payload. */
export function payloadBytes(payload: unknown): Uint8Array | undefined {
  return payload === null || payload === undefined ? undefined : encoder.encode(JSON.stringify(payload));
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `killed by signal ${exit.signal}` : `exit code ${exit.code}`;
}

interface Pump {
  done: Promise<void>;
  cancel(): void;
}

/** Hands each chunk to the sink as it arrives; reads (and drops) even without a sink so the child never blocks. */
function pump(stream: ReadableStream<Uint8Array>, name: LogStream, out: RunOutput | undefined): Pump {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        if (out) {
          let wait: void | Promise<void> = undefined;
          try {
            wait = out.write(name, r.value);
          } catch {
            // A failing sink loses this chunk; the pipe must still be emptied.
          }
          // The sink is behind: the child waits on its full pipe meanwhile.
          if (wait) await wait;
        }
      }
    } catch {
      // Cancelled after the drain, or the pipe broke: the output ends here.
    }
  })();
  return { done, cancel: () => void reader.cancel().catch(() => {}) };
}

/** Waits for both pipes to end, at most DRAIN_MS; then stops reading. Reports whether they ended. */
async function drain(pumps: Pump[]): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    Promise.all(pumps.map((p) => p.done)).then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(resolve, DRAIN_MS, false))),
  ]);
  clearTimeout(timer);
  if (!ended) for (const p of pumps) p.cancel();
  return ended;
}

/**
 * Runs argv to the end and maps its exit to an Outcome. Never rejects: a program that cannot start is a
 * failed outcome. On abort: SIGTERM to the group, SIGKILL after the grace if anything in it is still alive.
 */
export async function runCommand(argv: readonly string[], opts: CommandOptions, req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
  if (signal.aborted) return { status: "failed", error: "aborted before start" };
  let child: Child;
  try {
    child = spawn({ argv, env: opts.env, cwd: opts.cwd, stdin: opts.stdin });
  } catch (e) {
    return { status: "failed", error: errorText(e) };
  }
  const out = req.output;
  req.spawned?.(child.pid, processIdentity(child.pid));
  const pumps = [pump(child.stdout, "stdout", out), pump(child.stderr, "stderr", out)];

  let grace: Promise<void> | undefined;
  let graceOver = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    child.killGroup("SIGTERM");
    out?.note(`sent SIGTERM to the process group (pid ${child.pid})`);
    opts.onAbort?.();
    grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        graceOver = true;
        if (child.killGroup("SIGKILL")) out?.note(`sent SIGKILL to the process group after ${opts.killGrace} ms`);
        opts.onGraceExpired?.();
        resolve();
      }, opts.killGrace);
    });
  };
  signal.addEventListener("abort", onAbort, { once: true });

  const exit = await child.exited;
  signal.removeEventListener("abort", onAbort);
  const aborted = grace !== undefined;
  if (grace) {
    // The leader is gone; the rest of the group had SIGTERM too and keeps its grace, unless nothing is left
    // (no signal says so: look every GROUP_POLL_MS, on this rare path only).
    while (!graceOver && child.groupAlive()) await Promise.race([grace, pause(GROUP_POLL_MS)]);
    clearTimeout(timer);
  } else if (child.killGroup("SIGKILL")) {
    out?.note("killed processes the command left running in its process group");
  }
  if (!(await drain(pumps))) out?.note(`stopped reading output ${DRAIN_MS} ms after exit: a process outside the group holds the pipes`);

  const result = { exitCode: exit.code, signal: exit.signal, pid: child.pid };
  if (aborted) return { status: "failed", error: `aborted (${describeExit(exit)})`, result };
  if (exit.code === 0) return { status: "succeeded", result };
  return { status: "failed", error: describeExit(exit), result };
}

export function createProcessExecutor(opts: ProcessExecutorOptions): Executor {
  const env = opts.env ?? process.env;
  // tock's environment does not change while it runs: pick the passed variables once.
  const passed = pickEnv(env, opts.passEnv);
  return {
    execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as ProcessTarget;
      // A run's extra arguments (RunParams) follow a shell string as its positional parameters $1, $2, …
      const extra = target.args?.length ? ["tock", ...target.args] : [];
      const argv = target.command ?? (target.shell !== undefined ? [...opts.shell, target.shell, ...extra] : undefined);
      if (!argv) return Promise.resolve({ status: "failed", error: "the process target has neither command nor shell" });
      // inheritEnv is checked against allow_inherit_env at creation and again by the scheduler before each run.
      const base = target.inheritEnv ? env : passed;
      return runCommand(
        argv,
        { env: jobEnv(base, target.env, req), cwd: target.cwd ?? opts.workingDir, stdin: payloadBytes(req.payload), killGrace: opts.killGrace },
        req,
        signal,
      );
    },
  };
}
