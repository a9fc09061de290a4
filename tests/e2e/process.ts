// Starting tock as a real process (the built binary, or a runtime on src/main.ts) for end-to-end tests.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");

let built: string | null = null;

/** Builds dist/tock once per test process and copies it alone into `dir` (no node_modules above it). */
export function buildBinary(dir: string): string {
  if (!built) {
    const out = join(ROOT, "dist", "tock");
    const r = spawnSync(process.execPath, [join(ROOT, "scripts/build.ts")], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0 || !existsSync(out)) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
    built = out;
  }
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, "tock");
  copyFileSync(built, copy);
  spawnSync("chmod", ["+x", copy]);
  return copy;
}

export interface Proc {
  child: ChildProcess;
  url: string;
  logs: string[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `cmd` with TOCK_* settings and resolves once it logs "tock serving" (port 0: the real port is read from the log). */
export function startTock(cmd: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<Proc> {
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TMPDIR: process.env.TMPDIR ?? "/tmp", TOCK_SERVER_PORT: "0", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const exited = new Promise<number | string>((r) => child.on("exit", (code, signal) => r(code ?? signal ?? -1)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`tock did not start:\n${logs.join("\n")}`)), opts.timeoutMs ?? 20_000);
    let buf = "";
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        if (line.includes('"tock serving"')) {
          clearTimeout(timer);
          resolveStart({ child, url: JSON.parse(line).url, logs, exited });
        }
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tock exited (${code}) before serving:\n${logs.join("\n")}`));
    });
  });
}

export async function api(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and collects what it printed (not spawnSync: a server the test itself serves
 * must keep answering from this process's event loop meanwhile).
 */
export function run(cmd: string[], opts: { env: Record<string, string | undefined>; input?: string; cwd?: string }): Promise<Ran> {
  const child = spawn(cmd[0], cmd.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
