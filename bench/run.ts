// npm run bench [-- burst drain …]: runs each benchmark as its own child process, in sequence, streaming
// its output; every benchmark ends with one JSON line of figures ("target" fields and a boolean "met").
// Prints a summary and exits non-zero if any benchmark crashed (not merely missed its target).
// BENCH_TIMEOUT_S bounds each benchmark (default 240 s, 480 s for cluster; each keeps its own budget below that).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const BENCH = resolve(import.meta.dir);
const ALL = ["burst", "drain", "workflow", "drain-secure", "api", "api-secure", "batch", "scale", "spawn", "cluster", "locked"];
/** Benchmarks that need longer than the default bound (cluster waits out a dead node's lease). */
const LONGER_S: Record<string, number> = { cluster: 480 };
/** A "-secure" benchmark is its base file with BENCH_SECURE=1 (keys required, callbacks signed, secrets sealed). */
const fileOf = (name: string) => name.replace(/-secure$/, "");
const names = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const timeoutMsOf = (name: string) => Number(process.env.BENCH_TIMEOUT_S ?? LONGER_S[name] ?? 240) * 1000;

for (const n of names) {
  if (!ALL.includes(n) || !existsSync(join(BENCH, `${fileOf(n)}.ts`))) {
    process.stderr.write(`unknown benchmark "${n}"; choose from ${ALL.join(", ")}\n`);
    process.exit(2);
  }
}

let current: number | null = null;
const killCurrent = () => {
  if (current === null) return;
  try {
    process.kill(-current, "SIGKILL");
  } catch {
    // gone
  }
};
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    // The benchmark cleans up on SIGTERM (temp dirs, its own children); then make sure of it.
    if (current !== null) {
      try {
        process.kill(-current, "SIGTERM");
      } catch {
        // gone
      }
      setTimeout(() => {
        killCurrent();
        process.exit(130);
      }, 3000);
    } else process.exit(130);
  });
}

function runOne(name: string): Promise<{ code: number | string; json: Record<string, unknown> | null; ms: number }> {
  const t0 = performance.now();
  const env = name.endsWith("-secure") ? { ...process.env, BENCH_SECURE: "1" } : process.env;
  const timeoutMs = timeoutMsOf(name);
  const child = spawn(process.execPath, [join(BENCH, `${fileOf(name)}.ts`)], { stdio: ["ignore", "pipe", "inherit"], detached: true, env });
  current = child.pid!;
  let json: Record<string, unknown> | null = null;
  let buf = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line.startsWith("{")) {
        try {
          json = JSON.parse(line);
        } catch {
          // not the figures line
        }
      }
    }
  });
  const timer = setTimeout(() => {
    process.stderr.write(`\n${name}: over ${timeoutMs / 1000} s, killed\n`);
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // gone
    }
    setTimeout(killCurrent, 5000);
  }, timeoutMs);
  return new Promise((resolveRun) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      killCurrent(); // anything the benchmark left in its group
      current = null;
      resolveRun({ code: code ?? signal ?? -1, json, ms: performance.now() - t0 });
    })
  );
}

const summary: { name: string; status: string; met: unknown; seconds: number }[] = [];
let crashed = 0;
for (const name of names) {
  process.stderr.write(`\n=== ${name} ===\n`);
  const r = await runOne(name);
  const ok = r.code === 0 && r.json !== null && !("error" in r.json);
  if (!ok) crashed++;
  summary.push({ name, status: ok ? "ran" : `CRASHED (exit ${r.code}${r.json && "error" in r.json ? `: ${r.json.error}` : ""})`, met: r.json?.met ?? null, seconds: Math.round(r.ms / 1000) });
}

process.stderr.write("\n=== summary ===\n");
for (const s of summary) process.stderr.write(`${s.name.padEnd(12)} ${s.status.padEnd(10)} met=${String(s.met).padEnd(5)} ${s.seconds}s\n`);
process.exit(crashed ? 1 : 0);
