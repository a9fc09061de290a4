// Burst: N one-shot jobs all due at the same instant T, HTTP to a local sink (N = 1,000 and 10,000).
//
// tock runs as a child process (`bun src/main.ts serve`, a fresh database file per N, default config
// unless TOCK_* variables are exported); the sink (bench/sink.ts) is another process; the jobs are created
// through the REST API from this process, 64 in flight, with one dueTime instant T chosen from the create
// rate measured just before (T = end of the estimated setup x1.5 + 3 s). Lateness is the sink's arrival
// time minus T. The floor is a bare Bun fetch client (bench/flood.ts) in its own process sending the same
// N requests at an instant T' to the same sink over warmed connections, at 64, 256 and N in flight; the
// best p99 is the floor.
//
// Target: 0 early, 0 missed (never arrived by T + 30 s), tock p50 <= 1.25 x floor p50 + 5 ms and
// p99 <= 1.25 x floor p99 + 5 ms.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { createJobs, flood, log, main, pct, round, sortedNumbers, startSink, startTock, tempDir, tockOverrides, type Sink, sleep, cpuMsOf } from "./lib.ts";

const SIZES = (process.env.BURST_SIZES ?? "1000,10000").split(",").map(Number);
const MISS_AFTER_MS = 30_000;

interface Lateness {
  p50: number;
  p99: number;
  max: number;
}

function lateness(hr: number[], t: number): Lateness {
  const s = sortedNumbers(hr.map((x) => x - t));
  return { p50: round(pct(s, 50)), p99: round(pct(s, 99)), max: round(s[s.length - 1] ?? NaN) };
}

async function tockBurst(sink: Sink, n: number) {
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const tock = await startTock(`file:${dbFile}`);
  try {
    const target = { http: { url: `${sink.url}/burst` } };
    // Calibrate the create rate with jobs that never come due during the run.
    const calN = Math.min(1000, Math.max(200, n / 10));
    const cal = await createJobs(tock.url, "calib", calN, () => ({ dueTime: "1h", target }));
    if (cal.failed) throw new Error(`calibration creates failed: ${cal.firstError}`);
    const rate = (calN / cal.ms) * 1000;
    const setupEstimate = (n / rate) * 1000;
    const T = Date.now() + Math.ceil(setupEstimate * 1.5) + 3000;
    const dueTime = new Date(T).toISOString();
    log(`burst ${n}: create rate ~${Math.round(rate)}/s, T = ${dueTime} (in ${T - Date.now()} ms)`);

    await sink.reset();
    const made = await createJobs(tock.url, "burst", n, () => ({ dueTime, target }));
    if (made.failed) throw new Error(`creating burst jobs: ${made.failed} failed: ${made.firstError}`);
    const setupDoneBeforeT = T - Date.now();
    log(`burst ${n}: ${made.created} jobs created in ${Math.round(made.ms)} ms, ${setupDoneBeforeT} ms before T`);
    if (setupDoneBeforeT < 500) throw new Error(`setup finished only ${setupDoneBeforeT} ms before T`);

    // Wait for all N (plus a moment for duplicates), or until T + 30 s.
    const cpu0 = cpuMsOf(tock.pid);
    const deadline = T + MISS_AFTER_MS;
    for (;;) {
      const c = await sink.count();
      if (c >= n || Date.now() >= deadline) break;
      await sleep(20);
    }
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
    const tockCpuMs = cpuMsOf(tock.pid) - cpu0;
    const d = await sink.dump();
    const ids = new Set(d.ids);
    const early = d.wall.filter((w) => w < T).length;
    const lat = lateness(d.hr, T);
    const lastArrivalAfterT = round(Math.max(...d.hr) - T);

    // What the database says: statuses, and when runs were marked running (started_at - T).
    const db = new Database(dbFile, { readonly: true });
    const statuses = Object.fromEntries(
      (db.query("SELECT status, count(*) AS n FROM runs WHERE namespace = 'burst' GROUP BY status").all() as { status: string; n: number }[]).map((r) => [r.status, r.n]),
    );
    const started = (db.query("SELECT started_at FROM runs WHERE namespace = 'burst' AND started_at IS NOT NULL").all() as { started_at: number }[]).map((r) => r.started_at - T);
    const ended = (db.query("SELECT ended_at FROM runs WHERE namespace = 'burst' AND ended_at IS NOT NULL").all() as { ended_at: number }[]).map((r) => r.ended_at - T);
    db.close();
    const s = sortedNumbers(started);
    const e = sortedNumbers(ended);
    return {
      n,
      createsPerSec: Math.round((n / made.ms) * 1000),
      setupDoneBeforeTMs: setupDoneBeforeT,
      arrivals: d.hr.length,
      early,
      missed: n - ids.size,
      duplicates: d.ids.length - ids.size,
      lateMs: lat,
      lastArrivalAfterTMs: lastArrivalAfterT,
      markedRunningAfterTMs: { p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] ?? null },
      endedAfterTMs: { p50: pct(e, 50), p99: pct(e, 99), max: e[e.length - 1] ?? null },
      runStatuses: statuses,
      tockCpuMsDuringBurst: tockCpuMs,
    };
  } finally {
    await tock.stop();
    cleanup();
  }
}

async function floor(sink: Sink, n: number) {
  const trials: { concurrency: number; p50: number; p99: number; max: number; arrivals: number; startLagMs: number }[] = [];
  for (const c of [...new Set([64, 256, n])]) {
    await sink.reset();
    const at = Date.now() + 1500;
    const r = await flood(`${sink.url}/floor`, n, c, at);
    const d = await sink.dump();
    if (d.hr.length !== n || r.errors) throw new Error(`floor at ${c} in flight: ${d.hr.length} of ${n} arrived, ${r.errors} errors`);
    trials.push({ concurrency: c, ...lateness(d.hr, at), arrivals: d.hr.length, startLagMs: r.startLagMs });
  }
  const best = trials.reduce((a, b) => (b.p99 < a.p99 ? b : a));
  return { best, trials };
}

main("burst", async () => {
  const sink = await startSink();
  const results: Record<string, unknown>[] = [];
  let met = true;
  try {
    for (const n of SIZES) {
      const tock = await tockBurst(sink, n);
      const fl = await floor(sink, n);
      const target = {
        early: 0,
        missed: 0,
        p50MaxMs: round(1.25 * fl.best.p50 + 5),
        p99MaxMs: round(1.25 * fl.best.p99 + 5),
      };
      const ok = tock.early === 0 && tock.missed === 0 && tock.lateMs.p50 <= target.p50MaxMs && tock.lateMs.p99 <= target.p99MaxMs;
      met &&= ok;
      log(`burst ${n}: tock p50 ${tock.lateMs.p50} p99 ${tock.lateMs.p99} ms; floor p50 ${fl.best.p50} p99 ${fl.best.p99} ms -> ${ok ? "met" : "MISSED"}`);
      results.push({ n, tock, floor: fl.best, floorTrials: fl.trials, target, met: ok });
    }
  } finally {
    await sink.stop();
  }
  return { tockMode: "child process", config: tockOverrides(), results, met };
});
