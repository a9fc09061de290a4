// Scale: 1,000,000 stored cron jobs; start-up time and memory of `tock serve` on them.
//
// Setup (bench/seed.ts, tock not running): a fresh database file gets 1,000,000 daily cron jobs, job i at
// second i % 86400 of the day ("s m h * * *", UTC), so next_fire_at is spread evenly over the next 24 h
// (~12 due per second, ~58 within the 5 s lookahead): a template made by putJob cloned in SQL, checked
// column by column against putJob on 200 samples, WAL checkpointed.
// Then `bun src/main.ts serve` starts on that file as a child process (default config unless TOCK_*
// variables are exported); we time spawn -> GET /readyz 200 and read VmRSS from /proc/<pid>/status once
// ready and again after 10 s of running (jobs that come due meanwhile fire at a sink process).
//
// Target: RSS <= 200 MB (both readings), ready <= 1 s.
import { statSync } from "node:fs";
import { join } from "node:path";
import { cpuMsOf, log, main, memoryOf, sleep, startSink, startTock, tempDir, tockOverrides } from "./lib.ts";
import { seedDailyCrons } from "./seed.ts";

const N = Number(process.env.SCALE_N ?? 1_000_000);
const RUN_MS = 10_000;

main("scale", async () => {
  const sink = await startSink();
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const dbUrl = `file:${dbFile}`;
  try {
    const t0 = performance.now();
    await seedDailyCrons(dbUrl, "scale", N, `${sink.url}/scale`);
    const seedMs = Math.round(performance.now() - t0);
    const dbMB = Math.round(statSync(dbFile).size / 2 ** 20);
    log(`scale: ${N} cron jobs stored in ${seedMs} ms (${dbMB} MB)`);

    const tock = await startTock(dbUrl);
    let readyAt = 0;
    let polls = 0;
    for (;;) {
      polls++;
      const res = await fetch(`${tock.url}/readyz`).catch(() => null);
      if (res) await res.text();
      if (res?.status === 200) {
        readyAt = Date.now();
        break;
      }
      if (Date.now() - tock.spawnedAt > 30_000) throw new Error("tock not ready after 30 s");
      await sleep(5);
    }
    const readyMs = readyAt - tock.spawnedAt;
    const atReady = memoryOf(tock.pid);
    await sleep(RUN_MS);
    const after = memoryOf(tock.pid);
    const cpuMs = cpuMsOf(tock.pid);
    const fired = await sink.count();
    await tock.stop();
    log(`scale: ready in ${readyMs} ms, RSS ${atReady.rssMB} MB at ready, ${after.rssMB} MB after ${RUN_MS / 1000} s`);
    const target = { maxRssMB: 200, maxReadyMs: 1000 };
    return {
      tockMode: "child process",
      config: tockOverrides(),
      jobs: N,
      seedMs,
      dbMB,
      readyMs,
      servingLogMs: tock.servingAt - tock.spawnedAt,
      readyzPolls: polls,
      rssAtReadyMB: atReady.rssMB,
      rssAfter10sMB: after.rssMB,
      peakRssMB: after.hwmMB,
      cpuMsFirst10s: cpuMs,
      runsFiredIn10s: fired,
      target,
      met: readyMs <= target.maxReadyMs && atReady.rssMB <= target.maxRssMB && after.rssMB <= target.maxRssMB,
    };
  } finally {
    await sink.stop();
    cleanup();
  }
});
