// Shared parts of the benchmarks: child processes in their own process group (killed with the whole group,
// also on failure and on Ctrl-C), temp dirs removed at exit, tock and the sink as real processes on
// 127.0.0.1, percentiles, and the one JSON line each benchmark prints at the end.
import { Database } from "bun:sqlite";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");
export const BENCH = join(ROOT, "bench");

const groups = new Set<number>();
const dirs = new Set<string>();

/** Kills every child process group still alive and removes every temp dir (synchronous: usable at exit). */
export function cleanupAll(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  groups.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

process.on("exit", cleanupAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

/** A temp dir removed at exit (or earlier by calling the returned cleanup). */
export function tempDir(prefix = "tock-bench-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return {
    dir,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wall-clock time with sub-millisecond resolution (epoch ms). */
export const hrNow = () => performance.timeOrigin + performance.now();

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

export interface Child {
  child: ChildProcess;
  pid: number;
  /** Every line the child wrote (stdout and stderr), newest last; trimmed to the last 2,000. */
  lines: string[];
  /** Resolves with the first line for which `match` is true (past lines included). */
  waitLine(match: (line: string) => boolean, timeoutMs: number, what?: string): Promise<string>;
  exited: Promise<number | string>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the child exited. */
  stop(graceMs?: number): Promise<void>;
  kill(): void;
}

/**
 * Spawns `cmd` detached (its own process group, so grandchildren die with it) with stdout and stderr
 * read line by line. `echo` decides which lines are copied to our stderr.
 */
export function spawnChild(
  cmd: string[],
  opts: { env?: Record<string, string>; cwd?: string; name: string; echo?: (line: string) => boolean },
): Child {
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TMPDIR: process.env.TMPDIR ?? "/tmp", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pid = child.pid!;
  groups.add(pid);
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const exited = new Promise<number | string>((r) =>
    child.on("exit", (code, signal) => {
      try {
        process.kill(-pid, "SIGKILL"); // whatever it left behind
      } catch {
        // none
      }
      groups.delete(pid);
      r(code ?? signal ?? -1);
    })
  );
  const onData = () => {
    let buf = "";
    return (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (lines.length > 2000) lines.splice(0, 1000);
        if (opts.echo?.(line)) process.stderr.write(`  [${opts.name}] ${line}\n`);
        for (const w of [...waiters]) {
          if (w.match(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
  };
  child.stdout!.on("data", onData());
  child.stderr!.on("data", onData());
  const kill = () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  };
  return {
    child,
    pid,
    lines,
    exited,
    kill,
    waitLine(match, timeoutMs, what = "line") {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => reject(new Error(`${opts.name}: no ${what} within ${timeoutMs} ms; last output:\n${lines.slice(-20).join("\n")}`)), timeoutMs);
        const w = {
          match,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolveLine(l);
          },
        };
        waiters.push(w);
        void exited.then((code) => {
          if (!waiters.includes(w)) return;
          clearTimeout(timer);
          reject(new Error(`${opts.name} exited (${code}) before printing its ${what}; last output:\n${lines.slice(-20).join("\n")}`));
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (!groups.has(pid)) return;
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        return;
      }
      const t = setTimeout(kill, graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The last line of a child's output that parses as a JSON object. */
export function lastJson(lines: string[]): Record<string, any> | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (!l.startsWith("{")) continue;
    try {
      return JSON.parse(l);
    } catch {
      // not JSON
    }
  }
  return null;
}

// --- tock ---------------------------------------------------------------------------------------

export interface Tock extends Child {
  url: string;
  spawnedAt: number;
  servingAt: number;
  env: Record<string, string>;
}

/** Every TOCK_* variable of our environment (lets a user tune tock for a bench run), then `env`. */
function tockEnv(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith("TOCK_") && v !== undefined) out[k] = v;
  return { TOCK_SERVER_PORT: "0", TOCK_SCHEDULER_NODE_ID: "bench-node", ...out, ...env };
}

/**
 * BENCH_SECURE=1 (npm run bench -- api-secure drain-secure): tock as it would be exposed, API keys required
 * ([auth] mode = keys; the rate per key off, as a rate is a policy, not a cost), every callback signed
 * ([callbacks] signing_secret) and secret values sealed ([secrets] key). `key` makes an admin key on the
 * database before tock starts (tock keys create) and returns it, for the load generator.
 */
export const secure = process.env.BENCH_SECURE === "1";
export const SECURE_ENV: Record<string, string> = {
  TOCK_AUTH_MODE: "keys",
  TOCK_LIMITS_RATE: "off",
  TOCK_CALLBACKS_SIGNING_SECRET: `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
  TOCK_SECRETS_KEY: Buffer.alloc(32, 9).toString("base64"),
};

export function makeKey(dbUrl: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, "src/main.ts"), "keys", "create", "--role", "admin", "--all-namespaces", "--name", "bench", "--db", dbUrl], {
    encoding: "utf8",
    env: { ...process.env, TOCK_LOG_LEVEL: "warn" },
  });
  if (r.status !== 0) throw new Error(`tock keys create failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** The TOCK_* settings a benchmark overrides, plus those the user exported, for the JSON line. */
export function tockOverrides(env: Record<string, string> = {}): Record<string, string> {
  const all = tockEnv(env);
  delete all.TOCK_DATABASE_URL;
  delete all.TOCK_SERVER_PORT;
  return all;
}

/**
 * Starts `bun src/main.ts serve` as a child process and resolves once it logs "tock serving".
 * BENCH_PROFILE=<dir> runs it under `bun --cpu-prof --cpu-prof-md` with the profiles written to <dir>
 * when it stops (the figures are then not representative). `name` labels its echoed lines (several nodes
 * on one database each get their own, with their own TOCK_SCHEDULER_NODE_ID in `env`).
 */
export async function startTock(dbUrl: string, env: Record<string, string> = {}, timeoutMs = 30_000, name = "tock"): Promise<Tock> {
  const fullEnv = { ...tockEnv(env), TOCK_DATABASE_URL: dbUrl };
  const prof = process.env.BENCH_PROFILE;
  const profArgs = prof ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${resolve(prof)}`] : [];
  const spawnedAt = Date.now();
  const c = spawnChild([process.execPath, ...profArgs, join(ROOT, "src/main.ts"), "serve"], {
    env: fullEnv,
    name,
    echo: (l) => /"level":"(warn|error)"/.test(l) || !l.startsWith("{"),
  });
  const line = await c.waitLine((l) => l.includes('"tock serving"'), timeoutMs, '"tock serving" log line');
  const servingAt = Date.now();
  return { ...c, url: JSON.parse(line).url, spawnedAt, servingAt, env: fullEnv };
}

/** VmRSS / VmHWM of a process in MB, from /proc. */
export function memoryOf(pid: number): { rssMB: number; hwmMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
  return { rssMB: round(kb("VmRSS") / 1024, 1), hwmMB: round(kb("VmHWM") / 1024, 1) };
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of a process's reaped children (cutime + cstime) in ms, from /proc/<pid>/stat. */
export function childCpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

export interface RunsSummary {
  /** Runs succeeded when the wait ended. */
  done: number;
  /** Peak of the tock processes' summed RSS. */
  peakMB: number;
  /** CPU time of the tock processes, summed. */
  tockCpuMs: number;
  childCpuMs: number;
  /** [ms since the (first) spawn, runs succeeded, summed tock RSS MB], every 100 ms. */
  progress: [number, number, number][];
  /** Per status: count, first started_at, last ended_at. */
  stats: { status: string; n: number; first: number; last: number }[];
}

/**
 * Polls tock's database file until `n` runs have succeeded (or `timeoutMs` from the spawn passed), then
 * stops tock and reads the run statuses. `inspect` reads more from the open database before it closes.
 * Several tock nodes on the one file: times count from the first spawn, RSS and CPU are summed.
 */
export async function awaitRuns(
  tocks: Tock | Tock[],
  dbFile: string,
  n: number,
  timeoutMs: number,
  inspect?: (db: Database) => void,
): Promise<RunsSummary> {
  const all = Array.isArray(tocks) ? tocks : [tocks];
  const spawnedAt = Math.min(...all.map((t) => t.spawnedAt));
  const db = new Database(dbFile, { readonly: true });
  const succeeded = db.query("SELECT count(*) AS n FROM runs WHERE status = 'succeeded'");
  const out: RunsSummary = { done: 0, peakMB: 0, tockCpuMs: 0, childCpuMs: 0, progress: [], stats: [] };
  try {
    for (;;) {
      out.done = (succeeded.get() as { n: number }).n;
      const rss = round(all.reduce((sum, t) => sum + memoryOf(t.pid).rssMB, 0), 1);
      out.peakMB = Math.max(out.peakMB, rss);
      out.progress.push([Date.now() - spawnedAt, out.done, rss]);
      if (out.done >= n || Date.now() - spawnedAt > timeoutMs) break;
      await sleep(100);
    }
  } finally {
    for (const t of all) {
      out.tockCpuMs += cpuMsOf(t.pid);
      out.childCpuMs += childCpuMsOf(t.pid);
    }
    await Promise.all(all.map((t) => t.stop()));
  }
  out.stats = db.query("SELECT status, count(*) AS n, min(started_at) AS first, max(ended_at) AS last FROM runs GROUP BY status").all() as RunsSummary["stats"];
  inspect?.(db);
  db.close();
  return out;
}

// --- the sink -------------------------------------------------------------------------------------

export interface Arrivals {
  /** Arrival times, epoch ms with sub-ms resolution (performance.timeOrigin + performance.now()). */
  hr: number[];
  /** Arrival times as Date.now() in the sink: the same integer-ms wall clock tock compares with. */
  wall: number[];
  /** The `webhook-id` header of each request ("" when absent). */
  ids: string[];
}

export interface Sink extends Child {
  url: string;
  count(): Promise<number>;
  reset(): Promise<void>;
  dump(): Promise<Arrivals>;
}

/** Starts bench/sink.ts in its own process (its own event loop, not tock's). */
export async function startSink(): Promise<Sink> {
  const c = spawnChild([process.execPath, join(BENCH, "sink.ts")], { name: "sink", echo: (l) => !l.startsWith("{") });
  const line = await c.waitLine((l) => l.includes('"sink"'), 15_000, "sink URL");
  const url: string = JSON.parse(line).sink;
  const ctl = async (path: string, method = "GET") => {
    const res = await fetch(`${url}${path}`, { method });
    if (!res.ok) throw new Error(`sink ${path}: HTTP ${res.status}`);
    return res;
  };
  return {
    ...c,
    url,
    count: async () => Number(await (await ctl("/__count")).text()),
    reset: async () => void (await (await ctl("/__reset", "POST")).text()),
    dump: async () => (await (await ctl("/__dump")).json()) as Arrivals,
  };
}

// --- the bare fetch client -------------------------------------------------------------------------

export interface FloodResult {
  n: number;
  concurrency: number;
  ok: number;
  errors: number;
  startedAt: number;
  endedAt: number;
  rate: number;
  /** ms between the start instant asked for and the first request actually sent (warm-up overrun). */
  startLagMs: number;
  warmMs: number;
}

/**
 * Runs bench/flood.ts in its own process: warms `concurrency` keep-alive connections to the sink, then at
 * epoch ms `at` (0: at once) sends `n` POSTs with `concurrency` in flight, each with its own webhook-id.
 */
export async function flood(url: string, n: number, concurrency: number, at: number, opts: { cold?: boolean; timeoutMs?: number } = {}): Promise<FloodResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const args = [url, String(n), String(concurrency), String(at), ...(opts.cold ? ["cold"] : [])];
  const c = spawnChild([process.execPath, join(BENCH, "flood.ts"), ...args], {
    name: "flood",
    echo: (l) => !l.startsWith("{"),
  });
  const timer = setTimeout(() => c.kill(), timeoutMs);
  const code = await c.exited;
  clearTimeout(timer);
  const out = lastJson(c.lines);
  if (code !== 0 || !out) throw new Error(`flood exited ${code}:\n${c.lines.slice(-20).join("\n")}`);
  return out as FloodResult;
}

// --- API client (in this process: the load generator is never tock's process) -------------------------

/** Runs `task(i)` for i in [0, n) with `concurrency` in flight. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

/** PUTs `n` jobs through tock's API; returns how many were created (201) and the elapsed ms. */
export async function createJobs(
  base: string,
  ns: string,
  n: number,
  body: (i: number) => unknown,
  opts: { concurrency?: number; name?: (i: number) => string } = {},
): Promise<{ created: number; failed: number; ms: number; firstError?: string }> {
  const t0 = performance.now();
  let created = 0;
  let failed = 0;
  let firstError: string | undefined;
  const name = opts.name ?? ((i: number) => `job-${i}`);
  await pool(n, opts.concurrency ?? 64, async (i) => {
    try {
      const res = await fetch(`${base}/api/v1/namespaces/${ns}/jobs/${name(i)}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body(i)),
      });
      const text = await res.text();
      if (res.status === 201) created++;
      else {
        failed++;
        firstError ??= `HTTP ${res.status} ${text.slice(0, 300)}`;
      }
    } catch (e) {
      failed++;
      firstError ??= String(e);
    }
  });
  return { created, failed, ms: performance.now() - t0, firstError };
}

// --- figures ------------------------------------------------------------------------------------------

export const round = (x: number, digits = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

/** Nearest-rank percentile of an ascending array. */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function sortedNumbers(xs: Iterable<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

/** Prints the benchmark's one JSON line of figures (stdout; everything else goes to stderr). */
export function report(figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** Runs a benchmark's main, prints a failure JSON line and exits 1 if it throws; cleans up either way. */
export function main(name: string, fn: () => Promise<Record<string, unknown>>, budgetMs = 180_000): void {
  const budget = setTimeout(() => {
    report({ bench: name, error: `over its time budget of ${budgetMs / 1000}s`, met: false });
    cleanupAll();
    process.exit(1);
  }, budgetMs);
  fn().then(
    (figures) => {
      clearTimeout(budget);
      report({ bench: name, ...figures });
      cleanupAll();
      process.exit(0);
    },
    (e) => {
      clearTimeout(budget);
      process.stderr.write(`${name} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      report({ bench: name, error: e instanceof Error ? e.message.split("\n")[0] : String(e), met: false });
      cleanupAll();
      process.exit(1);
    },
  );
}
