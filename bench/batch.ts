// Batch: jobs/s created through POST /api/v1/namespaces/{ns}/jobs:batch, 10,000 jobs a request.
//
// tock runs as a child process (fresh database file, default config unless TOCK_* variables are exported).
// This process builds the bodies first (the realistic job of bench/jobs.ts, with distinct names), sends one
// batch to warm up, then BATCH_COUNT batches (default 10: 100,000 jobs), one after another, each into its own
// namespace, timing each request from send to answer. Every answer must be 200 with every job created.
//
// Target: >= 50,000 jobs/s.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { realisticJob } from "./jobs.ts";
import { cpuMsOf, log, main, memoryOf, pct, round, sortedNumbers, startSink, startTock, tempDir, tockOverrides } from "./lib.ts";

const SIZE = 10_000;
const COUNT = Number(process.env.BATCH_COUNT ?? 10);

main("batch", async () => {
  const sink = await startSink();
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const tock = await startTock(`file:${dbFile}`);
  try {
    const bodies = Array.from({ length: COUNT + 1 }, (_, b) => JSON.stringify({ jobs: Array.from({ length: SIZE }, (_, i) => ({ name: `job-${i}`, ...realisticJob(b * SIZE + i, sink.url) })) }));
    const send = async (b: number) => {
      const t = performance.now();
      const res = await fetch(`${tock.url}/api/v1/namespaces/batch-${b}/jobs:batch`, { method: "POST", headers: { "content-type": "application/json" }, body: bodies[b] });
      const answer = (await res.json()) as { created?: number; error?: unknown };
      if (res.status !== 200 || answer.created !== SIZE) throw new Error(`batch ${b}: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      return performance.now() - t;
    };
    await send(COUNT); // warm-up, into a namespace of its own
    const cpu0 = cpuMsOf(tock.pid);
    const t0 = performance.now();
    const times: number[] = [];
    for (let b = 0; b < COUNT; b++) times.push(await send(b));
    const elapsed = performance.now() - t0;
    const tockCpuMs = cpuMsOf(tock.pid) - cpu0;
    const db = new Database(dbFile, { readonly: true });
    const stored = (db.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n;
    db.close();
    const jobsPerSec = Math.round((COUNT * SIZE * 1000) / elapsed);
    const s = sortedNumbers(times);
    log(`batch: ${jobsPerSec} jobs/s, ${SIZE} a request in ${round(pct(s, 50))} ms (p50), ${stored} stored`);
    const target = { minJobsPerSec: 50_000 };
    return {
      tockMode: "child process",
      config: tockOverrides({}),
      batchSize: SIZE,
      batches: COUNT,
      jobsPerSec,
      requestMs: { p50: round(pct(s, 50)), max: round(s[s.length - 1]) },
      jobsStored: stored,
      tockCpuMs,
      tockCpuPerJobUs: round((tockCpuMs * 1000) / (COUNT * SIZE)),
      tockRssMB: memoryOf(tock.pid).rssMB,
      target,
      met: stored === (COUNT + 1) * SIZE && jobsPerSec >= target.minJobsPerSec,
    };
  } finally {
    await tock.stop();
    await sink.stop();
    cleanup();
  }
});
