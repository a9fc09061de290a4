// Spawn: 10,000 one-shot process jobs (`/bin/true`) already due, history and logs kept.
//
// Setup (tock not running, bench/seed.ts): one job is created by the domain verb putJob in this process
// (the code path of PUT /api/v1/namespaces/spawn/jobs/job-0 with target {"process": {"command":
// ["/bin/true"]}}, validated against a config with executors.process.enabled = true, dueTime a moment
// ago), then cloned in SQL into job-1 … job-(N-1) with every column copied from it except id and name.
// misfire_threshold is 1h, as in drain, so these slots are ordinary due slots whatever the drain takes.
//
// Then tock starts as a child process (`bun src/main.ts serve`, process jobs enabled, default config
// otherwise: max_in_flight_per_host 64 for host "local", max_in_flight 1024, history and run_logs as
// configured by default) and the clock runs from the spawn until every run is `succeeded` in the
// database: runs/s = N / (last ended_at - spawn time).
//
// The bare figure, measured in the same run after tock stopped: this file in "bare" mode, as its own
// process (not sharing tock's event loop), started with the same bun binary. It calls
// Bun.spawn({ cmd: ["/bin/true"], stdout: "pipe", stderr: "pipe", stdin: "ignore" }) with 16 and with 64
// in flight (64 = tock's per-host limit), each awaiting the exit and reading both pipes to their end, for
// a fixed time after a short warm-up; the best of the two is the reference. The same with detached: true
// (a process group of its own, as tock spawns) is reported as extra figures, not the reference.
//
// Target: >= 50% of the bare spawn rate, every run succeeded.
import { join } from "node:path";
import { awaitRuns, lastJson, log, main, round, spawnChild, startTock, tempDir, tockOverrides } from "./lib.ts";
import { seedOneShotTargets } from "./seed.ts";

const N = Number(process.env.SPAWN_N ?? 10_000);
/** Measured time of each bare trial (after its warm-up), ms. */
const BARE_MS = Number(process.env.SPAWN_BARE_MS ?? 3000);
const BARE_WARM_MS = 500;
const TIMEOUT_MS = 120_000;
const COMMAND = ["/bin/true"];
const ENV = { TOCK_EXECUTORS_PROCESS_ENABLED: "true", TOCK_SCHEDULER_MISFIRE_THRESHOLD: "1h" };

// --- bare mode: `bun bench/spawn.ts bare <concurrency> <ms> <warmMs> [detached]` --------------------------

interface BareResult {
  concurrency: number;
  detached: boolean;
  spawns: number;
  errors: number;
  ms: number;
  rate: number;
  /** CPU time of the bare process itself (user + system) over the measured part, ms. */
  cpuMs: number;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  while (!(await reader.read()).done) {
    // drained
  }
}

async function bare(concurrency: number, ms: number, warmMs: number, detached: boolean): Promise<BareResult> {
  let measuring = false;
  let stopAt = performance.now() + warmMs;
  let spawns = 0;
  let errors = 0;
  const one = async () => {
    const p = Bun.spawn({ cmd: COMMAND, stdout: "pipe", stderr: "pipe", stdin: "ignore", detached });
    const [code] = await Promise.all([p.exited, readAll(p.stdout), readAll(p.stderr)]);
    if (!measuring) return;
    if (code === 0) spawns++;
    else errors++;
  };
  const worker = async () => {
    while (performance.now() < stopAt) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker)); // warm-up
  measuring = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  stopAt = t0 + ms;
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    concurrency,
    detached,
    spawns,
    errors,
    ms: Math.round(elapsed),
    rate: Math.round((spawns / elapsed) * 1000),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  };
}

/** Runs the bare mode of this file in its own process (the same bun binary) and returns its figures. */
async function bareTrial(concurrency: number, detached: boolean): Promise<BareResult> {
  const args = ["bare", String(concurrency), String(BARE_MS), String(BARE_WARM_MS), ...(detached ? ["detached"] : [])];
  const c = spawnChild([process.execPath, import.meta.path, ...args], { name: "bare", echo: (l) => !l.startsWith("{") });
  const timer = setTimeout(() => c.kill(), BARE_MS + BARE_WARM_MS + 30_000);
  const code = await c.exited;
  clearTimeout(timer);
  const out = lastJson(c.lines);
  if (code !== 0 || !out) throw new Error(`bare spawn exited ${code}:\n${c.lines.slice(-20).join("\n")}`);
  if (out.errors) throw new Error(`bare spawn: ${out.errors} non-zero exits`);
  return out as BareResult;
}


// --- the benchmark ------------------------------------------------------------------------------------

if (process.argv[2] === "bare") {
  const [c, ms, warm, flag] = process.argv.slice(3);
  const r = await bare(Number(c), Number(ms), Number(warm), flag === "detached");
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}

main("spawn", async () => {
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const dbUrl = `file:${dbFile}`;
  try {
    const s0 = performance.now();
    await seedOneShotTargets(dbUrl, "spawn", N, new Date(Date.now() - 1000).toISOString(), { process: { command: COMMAND } }, ENV);
    const seedMs = performance.now() - s0;
    log(`spawn: ${N} due process jobs stored in ${Math.round(seedMs)} ms`);

    const tock = await startTock(dbUrl, ENV);
    const t0 = tock.spawnedAt;
    let logLines = 0;
    let withExitCode = 0;
    const { done, peakMB, tockCpuMs, childCpuMs, progress, stats } = await awaitRuns(tock, dbFile, N, TIMEOUT_MS, (db) => {
      logLines = (db.query("SELECT count(*) AS n FROM run_logs").get() as { n: number }).n;
      withExitCode = (db.query("SELECT count(*) AS n FROM runs WHERE status = 'succeeded' AND result->>'exitCode' = 0").get() as { n: number }).n;
    });
    const ok = stats.find((s) => s.status === "succeeded");
    const failed = stats.find((s) => s.status === "failed")?.n ?? 0;
    const other = stats.filter((s) => s.status !== "succeeded" && s.status !== "failed").reduce((a, s) => a + s.n, 0);
    const lastEnded = ok?.last ?? Date.now();
    const elapsedMs = lastEnded - t0;
    const runsPerSec = Math.round(((ok?.n ?? 0) / elapsedMs) * 1000);
    log(`spawn: tock ${ok?.n ?? 0} succeeded in ${elapsedMs} ms from spawn: ${runsPerSec}/s (failed ${failed}, other ${other})`);

    // The bare runtime, in its own process, after tock stopped.
    const trials: BareResult[] = [];
    for (const [c, detached] of [[16, false], [64, false], [16, true], [64, true]] as const) {
      const r = await bareTrial(c, detached);
      log(`spawn: bare ${c} in flight${detached ? ", detached" : ""}: ${r.rate}/s (${r.spawns} in ${r.ms} ms)`);
      trials.push(r);
    }
    const fig = (r: BareResult) => ({ rate: r.rate, spawns: r.spawns, ms: r.ms, cpuMs: r.cpuMs });
    const reference = trials.filter((r) => !r.detached);
    const best = reference.reduce((a, b) => (b.rate > a.rate ? b : a));
    const ratio = round(runsPerSec / best.rate, 3);
    log(`spawn: bare best ${best.rate}/s at ${best.concurrency} in flight; tock at ${ratio} of it`);
    const target = ">= 50% of bare spawn rate";
    return {
      tockMode: "child process",
      config: tockOverrides(ENV),
      n: N,
      seedMs: Math.round(seedMs),
      runsPerSec,
      bareSpawnPerSec: best.rate,
      bare: Object.fromEntries(trials.map((r) => [`c${r.concurrency}${r.detached ? "Detached" : ""}`, fig(r)])),
      ratio,
      succeeded: ok?.n ?? 0,
      failed,
      other,
      runStatuses: Object.fromEntries(stats.map((s) => [s.status, s.n])),
      succeededWithExitCode0: withExitCode,
      runLogLines: logLines,
      elapsedMsFromSpawn: elapsedMs,
      servingMsAfterSpawn: tock.servingAt - t0,
      perSecFromFirstStart: ok ? Math.round((ok.n / (lastEnded - ok.first)) * 1000) : 0,
      tockCpuMs,
      tockChildrenCpuMs: childCpuMs,
      peakRssMB: peakMB,
      progress: progress.filter((_, i) => i % 10 === 0 || i === progress.length - 1),
      target,
      met: done >= N && failed === 0 && other === 0 && ratio >= 0.5,
    };
  } finally {
    cleanup();
  }
});
