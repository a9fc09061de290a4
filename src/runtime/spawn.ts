// The one place Bun and Deno differ for tock: starting a child process. Every child gets its own session
// and process group, so one signal to the group reaches everything it started (grandchildren included);
// killing only the direct child leaves descendants holding the output pipes open.
import { readdirSync, statSync } from "node:fs";
import process from "node:process";
import { statFields } from "./procs.ts";
import { runtimeName } from "./serve.ts";

export interface SpawnSpec {
  argv: readonly string[];
  /** The child's whole environment; nothing of tock's own is added. */
  env: Record<string, string>;
  /** Undefined: tock's own working directory. */
  cwd?: string;
  /** Written to the child's stdin, which is then closed; undefined: stdin is empty (/dev/null). */
  stdin?: Uint8Array;
}

export interface Exit {
  code: number | null;
  signal: string | null;
}

export interface Child {
  pid: number;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  exited: Promise<Exit>;
  /** Signals the child's process group; false when nothing is left in it. Never throws. */
  killGroup(signal: NodeJS.Signals): boolean;
  /** Whether a process of the group still runs (zombies do not count). */
  groupAlive(): boolean;
}

/** The program could not be started (not found, not executable, no such working directory). */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "SpawnError";
  }
}

interface DenoChild {
  pid: number;
  stdin: WritableStream<Uint8Array>;
  stdout: ReadableStream<Uint8Array>;
  stderr: ReadableStream<Uint8Array>;
  status: Promise<{ success: boolean; code: number; signal: string | null }>;
}

declare const Deno: {
  Command: new (program: string, opts: {
    args: string[];
    detached: boolean;
    clearEnv: boolean;
    env: Record<string, string>;
    cwd?: string;
    stdin: "piped" | "null";
    stdout: "piped";
    stderr: "piped";
  }) => { spawn(): DenoChild };
  execPath(): string;
};

function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  // pid 0 or 1 would make -pid our own group or every process we may signal.
  if (!(pid > 1)) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch (e) {
    // EPERM: something is there that we may not signal; ESRCH: the group is empty.
    return (e as { code?: string }).code === "EPERM";
  }
}

/**
 * kill(-pgid, 0) also finds zombies, which stay where nothing reaps orphans (a PID 1 that never calls
 * wait, as in some containers); on Linux, /proc tells them apart. Meant for the rare abort path only.
 */
function groupAlive(pgid: number): boolean {
  if (!killGroup(pgid, 0)) return false;
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    // State, ppid, pgrp (null: gone meanwhile).
    const fields = statFields(name, 3);
    if (fields && Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}

const REASONS: Record<string, string> = {
  ENOENT: "not found",
  EACCES: "permission denied",
  ENOEXEC: "not an executable format",
  ENOTDIR: "a path component is not a directory",
  E2BIG: "argument list too long",
};

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function spawnError(e: unknown, spec: SpawnSpec): SpawnError {
  const code = (e as { code?: unknown }).code;
  const c = typeof code === "string" ? code : undefined;
  const program = JSON.stringify(spec.argv[0]);
  // Bun blames the program even when the working directory is what is missing; look (failures only).
  if (spec.cwd !== undefined && (c === "ENOENT" || c === "EACCES" || c === "ENOTDIR") && !isDir(spec.cwd)) {
    return new SpawnError(`cannot start ${program}: working directory ${spec.cwd} not found`, c);
  }
  const why = (c && REASONS[c]) ?? (e instanceof Error ? e.message : String(e));
  return new SpawnError(`cannot start ${program}: ${why}${c ? ` (${c})` : ""}`, c);
}

function spawnBun(spec: SpawnSpec): Child {
  const proc = Bun.spawn({
    cmd: spec.argv as string[],
    detached: true,
    env: spec.env,
    cwd: spec.cwd,
    // Bun writes a buffer in the background and ignores EPIPE, so a child that never reads stdin cannot block us.
    stdin: spec.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const pid = proc.pid;
  return {
    pid,
    stdout: proc.stdout,
    stderr: proc.stderr,
    exited: proc.exited.then(() => {
      const signal = proc.signalCode === null ? null : String(proc.signalCode);
      return { code: signal === null ? proc.exitCode : null, signal };
    }),
    killGroup: (signal) => killGroup(pid, signal),
    groupAlive: () => groupAlive(pid),
  };
}

function spawnDeno(spec: SpawnSpec): Child {
  const child = new Deno.Command(spec.argv[0], {
    args: spec.argv.slice(1),
    detached: true,
    clearEnv: true,
    env: spec.env,
    cwd: spec.cwd,
    stdin: spec.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (spec.stdin) {
    // Not awaited: a child that never reads must not block the run; its EPIPE is expected.
    const writer = child.stdin.getWriter();
    writer.write(spec.stdin).catch(() => {});
    writer.close().catch(() => {});
  }
  const pid = child.pid;
  return {
    pid,
    stdout: child.stdout,
    stderr: child.stderr,
    // Deno reports 128+n as the code of a signalled child; keep only the signal, as Bun does.
    exited: child.status.then((s) => ({ code: s.signal ? null : s.code, signal: s.signal ?? null })),
    killGroup: (signal) => killGroup(pid, signal),
    groupAlive: () => groupAlive(pid),
  };
}

/** Starts a child in its own process group. Throws SpawnError when it cannot be started. */
export function spawn(spec: SpawnSpec): Child {
  if (spec.argv.length === 0 || !spec.argv[0]) throw new SpawnError("cannot start a command without a program", undefined);
  try {
    return runtimeName === "bun" ? spawnBun(spec) : spawnDeno(spec);
  } catch (e) {
    throw spawnError(e, spec);
  }
}

/**
 * The argv prefix and environment that run a script file with the runtime running tock. BUN_BE_BUN makes a
 * `bun build --compile` executable act as the bun CLI instead of running tock again.
 */
export function selfRunner(): { argv: string[]; env: Record<string, string> } {
  if (runtimeName === "bun") return { argv: [process.execPath, "run"], env: { BUN_BE_BUN: "1" } };
  return { argv: [Deno.execPath(), "run", "-A"], env: {} };
}
