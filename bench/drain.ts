// Drain: 100,000 one-shot runs already due to a local sink, history kept.
//
// Setup (tock not running, bench/seed.ts): one job is created by the domain verb putJob in this process
// (the code path of PUT /api/v1/namespaces/drain/jobs/job-0, dueTime a moment ago), then cloned in SQL
// into jobs job-1 … job-99999 with every column copied from it except id and name, so the table holds
// exactly what the API would have left (created_at/updated_at equal rather than spread over the setup).
// misfire_threshold is set to 1h so these slots are ordinary due slots (misfire "once" would fire them too).
//
// Then tock starts as a child process (`bun src/main.ts serve`, default config otherwise) and the clock
// runs from the spawn until every run is `succeeded` in the database: executions/s = N / (last ended_at -
// spawn time). The bare figure: bench/flood.ts in its own process sending N POSTs to the same sink at
// tock's max_in_flight (1024), 256 and 64 in flight; the best rate is the reference.
//
// Target: >= 20,000 executions/s and >= 30% of the bare rate.
import { join } from "node:path";
import { awaitRuns, flood, log, main, round, SECURE_ENV, secure, startSink, startTock, tempDir, tockOverrides } from "./lib.ts";
import { seedOneShots } from "./seed.ts";

const N = Number(process.env.DRAIN_N ?? 100_000);
const TIMEOUT_MS = 120_000;
// BENCH_SECURE=1 (`drain-secure`): every callback signed, keys required and sealing on (lib.ts SECURE_ENV).
const ENV = { TOCK_SCHEDULER_MISFIRE_THRESHOLD: "1h", ...(secure ? SECURE_ENV : {}) };

async function seed(dbUrl: string, sinkUrl: string): Promise<number> {
  const t0 = performance.now();
  await seedOneShots(dbUrl, "drain", N, new Date(Date.now() - 1000).toISOString(), `${sinkUrl}/drain`);
  return performance.now() - t0;
}

main(secure ? "drain-secure" : "drain", async () => {
  const sink = await startSink();
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const dbUrl = `file:${dbFile}`;
  try {
    const seedMs = await seed(dbUrl, sink.url);
    log(`drain: ${N} due jobs stored in ${Math.round(seedMs)} ms`);
    await sink.reset();

    const tock = await startTock(dbUrl, ENV);
    const t0 = tock.spawnedAt;
    const { done, peakMB, tockCpuMs, progress, stats } = await awaitRuns(tock, dbFile, N, TIMEOUT_MS);
    const ok = stats.find((s) => s.status === "succeeded");
    const lastEnded = ok?.last ?? Date.now();
    const elapsedMs = lastEnded - t0;
    const arrivals = await sink.dump();
    const distinct = new Set(arrivals.ids).size;
    const firstArrival = Math.min(...arrivals.hr);
    const rate = Math.round(((ok?.n ?? 0) / elapsedMs) * 1000);
    log(`drain: tock ${ok?.n ?? 0} succeeded in ${elapsedMs} ms from spawn: ${rate}/s`);

    // The bare client against the same sink.
    const bare: { concurrency: number; rate: number }[] = [];
    for (const c of [1024, 256, 64]) {
      await sink.reset();
      const r = await flood(`${sink.url}/bare`, N, c, 0);
      if (r.errors) throw new Error(`bare client: ${r.errors} errors`);
      bare.push({ concurrency: c, rate: r.rate });
    }
    const best = bare.reduce((a, b) => (b.rate > a.rate ? b : a));
    log(`drain: bare best ${best.rate}/s at ${best.concurrency} in flight`);
    const target = { minPerSec: 20_000, minFractionOfBare: 0.3 };
    return {
      tockMode: "child process",
      config: tockOverrides(ENV),
      n: N,
      seedMs: Math.round(seedMs),
      tock: {
        executionsPerSec: rate,
        elapsedMsFromSpawn: elapsedMs,
        servingMsAfterSpawn: tock.servingAt - t0,
        perSecFromFirstArrival: Math.round(((ok?.n ?? 0) / (lastEnded - firstArrival)) * 1000),
        succeeded: ok?.n ?? 0,
        runStatuses: Object.fromEntries(stats.map((s) => [s.status, s.n])),
        sinkArrivals: arrivals.ids.length,
        duplicates: arrivals.ids.length - distinct,
        cpuMs: tockCpuMs,
        peakRssMB: peakMB,
        progress: progress.filter((_, i) => i % 10 === 0 || i === progress.length - 1),
      },
      bare: { best, trials: bare },
      fractionOfBare: round(rate / best.rate, 3),
      target,
      met: done >= N && rate >= target.minPerSec && rate / best.rate >= target.minFractionOfBare,
    };
  } finally {
    await sink.stop();
    cleanup();
  }
});
