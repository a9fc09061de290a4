// API: job creates/s through the REST API at 64 concurrent connections.
//
// tock runs as a child process (`bun src/main.ts serve`, fresh database file, default config unless
// TOCK_* variables are exported); the load generator (bench/apiload.ts) is another process: 64 workers,
// each PUTs jobs with distinct names and a realistic body (cron schedule, time zone, http target with
// headers, retry policy, payload, labels) to /api/v1/namespaces/bench/jobs/{name}; 2 s of warm-up, then
// 10 s measured. Only responses that both started and ended in the window count; anything but 201 is an
// error. The targets point at a sink process, in case a schedule comes due during the run.
//
// [limits] max_jobs is raised to 10,000,000: at 10,000 creates/s the window alone stores more than the
// default 100,000 jobs a namespace may hold, and the quota's 403s are not what is measured.
//
// Target: >= 12,000 creates/s and p99 <= 15 ms. BENCH_SECURE=1 (`api-secure`): the same with an API key on
// every request, signing and sealing on (lib.ts SECURE_ENV).
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { BENCH, cpuMsOf, lastJson, log, main, makeKey, memoryOf, SECURE_ENV, secure, spawnChild, startSink, startTock, tempDir, tockOverrides } from "./lib.ts";

const CONCURRENCY = 64;
const WARMUP_MS = 2000;
const DURATION_MS = Number(process.env.API_DURATION_MS ?? 10_000);

main(secure ? "api-secure" : "api", async () => {
  const sink = await startSink();
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const env = { TOCK_LIMITS_MAX_JOBS: "10000000", ...(secure ? SECURE_ENV : {}) };
  const key = secure ? makeKey(`file:${dbFile}`) : "";
  const tock = await startTock(`file:${dbFile}`, env);
  try {
    const cpu0 = cpuMsOf(tock.pid);
    const load = spawnChild([process.execPath, join(BENCH, "apiload.ts"), tock.url, sink.url, String(CONCURRENCY), String(WARMUP_MS), String(DURATION_MS)], {
      env: { BENCH_API_KEY: key },
      name: "apiload",
      echo: (l) => !l.startsWith("{"),
    });
    const timer = setTimeout(() => load.kill(), WARMUP_MS + DURATION_MS + 60_000);
    const code = await load.exited;
    clearTimeout(timer);
    const tockCpuMs = cpuMsOf(tock.pid) - cpu0;
    const mem = memoryOf(tock.pid);
    const r = lastJson(load.lines);
    if (code !== 0 || !r) throw new Error(`load generator exited ${code}:\n${load.lines.slice(-20).join("\n")}`);
    const db = new Database(dbFile, { readonly: true });
    const stored = (db.query("SELECT count(*) AS n FROM jobs WHERE namespace = 'bench'").get() as { n: number }).n;
    db.close();
    log(`api: ${r.createsPerSec} creates/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.errors} errors`);
    const target = { minCreatesPerSec: 12_000, maxP99Ms: 15 };
    return {
      tockMode: "child process",
      config: tockOverrides(env),
      ...r,
      jobsStored: stored,
      tockCpuMs,
      tockCpuPerCreateUs: Math.round((tockCpuMs * 1000) / Math.max(1, r.measured + r.warmupRequests)),
      tockRssMB: mem.rssMB,
      target,
      met: r.errors === 0 && r.createsPerSec >= target.minCreatesPerSec && r.p99 <= target.maxP99Ms,
    };
  } finally {
    await tock.stop();
    await sink.stop();
    cleanup();
  }
});
