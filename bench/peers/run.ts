// tock against BullMQ (Redis) and graphile-worker (PostgreSQL) on the same workloads, with a bare Bun
// fetch loop (../flood.ts) as the ceiling. Usage: bun bench/peers/run.ts [burst-1000] [burst-10000] [drain]
// (all three by default). PEERS_RUNS (default 3) runs per system, PEERS_SYSTEMS (default
// tock,bullmq,graphile,bare) which ones, PEERS_BURST_SIZES / PEERS_DRAIN_N change the sizes, PEERS_PG_ANALYZE=1
// runs ANALYZE after graphile-worker's drain jobs are stored.
//
// Scenarios take turns: for each run, for each scenario, every system once, so a slow minute of the machine
// hits all of them alike. Every figure is taken at the sink (../sink.ts, its own process): lateness is the
// arrival minus T, early arrivals are before T (by the sink's Date.now()), missing are ids never arrived by
// T + 30 s, duplicates are extra arrivals of one id; the drain rate counts from the first to the last
// arrival. CPU is that of every process involved, from /proc, over the measured window. Progress goes to
// stderr; one JSON line per scenario (every run and the medians) to stdout, then a Markdown table to stderr.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, flood, log, pct, report, ROOT, round, type Sink, sleep, sortedNumbers, startSink } from "../lib.ts";
import { PG_SETTINGS, REDIS_SETTINGS, type Service, startPostgres, startRedis, treeCpuMs } from "./services.ts";
import { BULLMQ_SETTINGS, GRAPHILE_SETTINGS } from "./settings.ts";
import { bullmqSystem, graphileSystem, type System, TOCK_BIN, tockSystem } from "./systems.ts";

const RUNS = Number(process.env.PEERS_RUNS ?? 3);
const SYSTEMS = (process.env.PEERS_SYSTEMS ?? "tock,bullmq,graphile,bare").split(",");
const BURST_SIZES = (process.env.PEERS_BURST_SIZES ?? "1000,10000").split(",").map(Number);
const DRAIN_N = Number(process.env.PEERS_DRAIN_N ?? 100_000);
const MISS_AFTER_MS = 30_000;
const DRAIN_TIMEOUT_MS = 300_000;

const asked = process.argv.slice(2);
const scenarios = [...BURST_SIZES.map((n) => `burst-${n}`), "drain"].filter((s) => asked.length === 0 || asked.includes(s) || asked.includes(s.split("-")[0]));
if (scenarios.length === 0) throw new Error(`no scenario matches ${asked.join(" ")}: burst, burst-<n>, drain`);

type Figures = Record<string, unknown>;

const cpuOf = (pids: Record<string, number>) => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, treeCpuMs(pid)]));
const cpuDelta = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]));

function lateness(hr: number[], t: number) {
  const s = sortedNumbers(hr.map((x) => x - t));
  return { p50: round(pct(s, 50)), p99: round(pct(s, 99)), max: round(s[s.length - 1] ?? NaN) };
}

async function waitArrivals(sink: Sink, n: number, deadline: number): Promise<void> {
  while ((await sink.count()) < n && Date.now() < deadline) await sleep(20);
}

async function burst(sys: System, sink: Sink, n: number): Promise<Figures> {
  await sys.reset();
  const run = await sys.start("burst");
  try {
    // T from the create rate just measured with jobs that never come due: 1.5 x the estimate + 3 s.
    const calN = Math.min(1000, Math.max(200, n / 10));
    const c0 = performance.now();
    await sys.calibrate(calN);
    const rate = (calN / (performance.now() - c0)) * 1000;
    const T = Date.now() + Math.ceil((n / rate) * 1500) + 3000;
    await sink.reset();
    const pids = { ...run.pids, ...sys.storePids, sink: sink.pid };
    const cpu0 = cpuOf(pids);
    const t0 = performance.now();
    await sys.create(n, T);
    const createMs = performance.now() - t0;
    const setupDoneBeforeTMs = T - Date.now();
    log(`${sys.name} burst ${n}: created in ${Math.round(createMs)} ms, ${setupDoneBeforeTMs} ms before T`);
    if (setupDoneBeforeTMs < 500) throw new Error(`${sys.name}: setup finished only ${setupDoneBeforeTMs} ms before T`);
    await waitArrivals(sink, n, T + MISS_AFTER_MS);
    const cpu1 = cpuOf(pids);
    await sleep(1000); // late duplicates
    const d = await sink.dump();
    const ids = new Set(d.ids);
    return {
      createsPerSec: Math.round((n / createMs) * 1000),
      setupDoneBeforeTMs,
      early: d.wall.filter((w) => w < T).length,
      missing: n - new Set(d.ids.filter((_, i) => d.hr[i] <= T + MISS_AFTER_MS)).size,
      duplicates: d.ids.length - ids.size,
      lateMs: lateness(d.hr, T),
      cpuMs: cpuDelta(cpu0, cpu1),
    };
  } finally {
    await run.stop();
  }
}

async function drain(sys: System, sink: Sink, n: number): Promise<Figures> {
  await sys.reset();
  const s0 = performance.now();
  await sys.seed(n);
  const seedMs = Math.round(performance.now() - s0);
  await sink.reset();
  const before = cpuOf({ ...sys.storePids, sink: sink.pid });
  const run = await sys.start("drain");
  try {
    await waitArrivals(sink, n, run.spawnedAt + DRAIN_TIMEOUT_MS);
    const cpu = { ...cpuOf(run.pids), ...cpuDelta(before, cpuOf({ ...sys.storePids, sink: sink.pid })) };
    await sleep(1000);
    const d = await sink.dump();
    const first = Math.min(...d.hr);
    const last = Math.max(...d.hr);
    const distinct = new Set(d.ids).size;
    log(`${sys.name} drain ${n}: ${distinct} arrived, ${Math.round((distinct / (last - first)) * 1000)}/s first to last`);
    return {
      seedMs,
      perSecFirstToLast: Math.round((distinct / (last - first)) * 1000),
      perSecFromSpawn: Math.round((distinct / (last - run.spawnedAt)) * 1000),
      firstArrivalAfterSpawnMs: Math.round(first - run.spawnedAt),
      missing: n - distinct,
      duplicates: d.ids.length - distinct,
      cpuMs: cpu,
    };
  } finally {
    await run.stop();
  }
}

/** The bare Bun fetch loop (../flood.ts, its own process) against the same sink: best of a few widths. */
async function bare(sink: Sink, scenario: string, n: number): Promise<Figures> {
  const widths = scenario === "drain" ? [1024, 256, 64] : [...new Set([64, 256, n])];
  const trials: Figures[] = [];
  for (const c of widths) {
    await sink.reset();
    const cpu0 = treeCpuMs(sink.pid);
    const at = scenario === "drain" ? 0 : Date.now() + 1500;
    const r = await flood(`${sink.url}/bare`, n, c, at);
    const d = await sink.dump();
    if (d.hr.length !== n || r.errors) throw new Error(`bare at ${c} in flight: ${d.hr.length} of ${n} arrived, ${r.errors} errors`);
    const sinkCpu = treeCpuMs(sink.pid) - cpu0;
    if (scenario === "drain") trials.push({ concurrency: c, perSecFirstToLast: Math.round((n / (Math.max(...d.hr) - Math.min(...d.hr))) * 1000), cpuMs: { sink: sinkCpu } });
    else trials.push({ concurrency: c, early: 0, missing: 0, duplicates: 0, lateMs: lateness(d.hr, at), cpuMs: { sink: sinkCpu } });
  }
  const key = (f: Figures) => (scenario === "drain" ? -(f.perSecFirstToLast as number) : (f.lateMs as { p99: number }).p99);
  return trials.reduce((a, b) => (key(b) < key(a) ? b : a));
}

/** Median of every numeric leaf across runs (the other leaves from the first run). */
function medians(runs: Figures[]): Figures {
  const out: Figures = {};
  for (const [k, v] of Object.entries(runs[0])) {
    if (typeof v === "number") out[k] = round(sortedNumbers(runs.map((r) => r[k] as number))[Math.floor((runs.length - 1) / 2)] ?? NaN);
    else if (v && typeof v === "object") out[k] = medians(runs.map((r) => r[k] as Figures));
    else out[k] = v;
  }
  return out;
}

function versions() {
  const pkg = (p: string) => JSON.parse(readFileSync(join(import.meta.dir, "node_modules", p, "package.json"), "utf8")).version;
  const tockV = spawnSync(TOCK_BIN, ["--version"], { encoding: "utf8" }).stdout.trim();
  return { tock: tockV || JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version, bun: Bun.version, bullmq: pkg("bullmq"), ioredis: pkg("ioredis"), "graphile-worker": pkg("graphile-worker"), pg: pkg("pg") };
}

async function main() {
  const sink = await startSink();
  let redis: (Service & { version: string }) | null = null;
  let pg: (Service & { version: string }) | null = null;
  const systems: System[] = [];
  try {
    if (SYSTEMS.includes("tock")) systems.push(tockSystem(sink));
    if (SYSTEMS.includes("bullmq")) {
      redis = await startRedis();
      systems.push(bullmqSystem(sink, redis));
    }
    if (SYSTEMS.includes("graphile")) {
      pg = await startPostgres();
      systems.push(graphileSystem(sink, pg));
    }
    const settings = {
      tock: "default config (fresh database file per scenario; drain: scheduler.misfire_threshold = 1h)",
      bullmq: BULLMQ_SETTINGS,
      graphile: GRAPHILE_SETTINGS,
      redis: { version: redis?.version, ...REDIS_SETTINGS },
      postgres: { version: pg?.version, ...PG_SETTINGS, analyzeAfterDrainSeed: process.env.PEERS_PG_ANALYZE === "1" },
    };
    const results: Record<string, Record<string, Figures[]>> = {};
    for (let r = 1; r <= RUNS; r++) {
      for (const sc of scenarios) {
        const n = sc === "drain" ? DRAIN_N : Number(sc.split("-")[1]);
        for (const name of SYSTEMS) {
          log(`run ${r}/${RUNS} ${sc}: ${name}`);
          const sys = systems.find((s) => s.name === name);
          const f = name === "bare" ? await bare(sink, sc, n) : sc === "drain" ? await drain(sys!, sink, n) : await burst(sys!, sink, n);
          ((results[sc] ??= {})[name] ??= []).push(f);
        }
      }
    }
    const table: string[] = ["| scenario | system | p50 ms | p99 ms | max ms | early | missing | dup | exec/s | CPU s (per process) |", "|---|---|---|---|---|---|---|---|---|---|"];
    for (const sc of scenarios) {
      const med = Object.fromEntries(Object.entries(results[sc]).map(([k, v]) => [k, medians(v)]));
      report({ bench: "peers", scenario: sc, n: sc === "drain" ? DRAIN_N : Number(sc.split("-")[1]), runs: RUNS, versions: versions(), settings, medians: med, all: results[sc] });
      for (const [name, m] of Object.entries(med)) {
        const l = m.lateMs as { p50: number; p99: number; max: number } | undefined;
        const cpu = Object.entries(m.cpuMs as Record<string, number>).map(([k, v]) => `${k} ${round(v / 1000, 1)}`).join(", ");
        table.push(`| ${sc} | ${name} | ${l?.p50 ?? ""} | ${l?.p99 ?? ""} | ${l?.max ?? ""} | ${m.early ?? ""} | ${m.missing ?? 0} | ${m.duplicates ?? 0} | ${m.perSecFirstToLast ?? ""} | ${cpu} |`);
      }
    }
    process.stderr.write(`\nMedians of ${RUNS} run(s):\n${table.join("\n")}\n`);
  } finally {
    for (const s of systems) await s.close().catch((e) => log(`closing ${s.name}: ${e}`));
    await redis?.stop();
    await pg?.stop();
    await sink.stop();
  }
}

main().then(
  () => {
    cleanupAll();
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`peers failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    report({ bench: "peers", error: e instanceof Error ? e.message.split("\n")[0] : String(e) });
    cleanupAll();
    process.exit(1);
  },
);
