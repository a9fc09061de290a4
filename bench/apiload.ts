// The API load generator, in its own process: `concurrency` workers (one keep-alive connection each) PUT
// jobs with distinct names and a realistic body (cron schedule, time zone, http target with headers, retry
// policy, payload, labels) for `warmupMs`, then for `durationMs` while recording each request's latency.
// Usage: apiload.ts <base url> <sink url> <concurrency> <warmupMs> <durationMs>; prints one JSON line.
import { realisticJob } from "./jobs.ts";

const [base, sinkUrl, cText, wText, dText] = process.argv.slice(2);
const concurrency = Number(cText);
const warmupMs = Number(wText);
const durationMs = Number(dText);
/** An API key for every request (bench/api.ts with BENCH_SECURE=1). */
const KEY = process.env.BENCH_API_KEY || "";

const body = (i: number) => JSON.stringify(realisticJob(i, sinkUrl));

const t0 = performance.now();
const warmEnd = t0 + warmupMs;
const end = warmEnd + durationMs;
const lat: number[] = [];
let measured = 0;
let errors = 0;
let warm = 0;
let firstError: string | undefined;
const statuses: Record<string, number> = {};
let seq = 0;
let measureStart = 0;
let measureEnd = 0;

const worker = async (w: number) => {
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const i = seq++;
    const start = performance.now();
    let status = 0;
    try {
      const res = await fetch(`${base}/api/v1/namespaces/bench/jobs/job-${w}-${i}`, {
        method: "PUT",
        headers: KEY ? { "content-type": "application/json", authorization: `Bearer ${KEY}` } : { "content-type": "application/json" },
        body: body(i),
      });
      status = res.status;
      const text = await res.text();
      if (status !== 201) firstError ??= `HTTP ${status} ${text.slice(0, 200)}`;
    } catch (e) {
      firstError ??= String(e);
    }
    const done = performance.now();
    if (start >= warmEnd && done <= end) {
      if (!measureStart) measureStart = start;
      measureEnd = done;
      lat.push(done - start);
      measured++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 201) errors++;
    } else warm++;
  }
};
await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
lat.sort((a, b) => a - b);
const p = (q: number) => Math.round(lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((q / 100) * lat.length) - 1))] * 100) / 100;
const windowMs = durationMs;
console.log(
  JSON.stringify({
    concurrency,
    measured,
    warmupRequests: warm,
    windowMs,
    createsPerSec: Math.round(((measured - errors) / windowMs) * 1000),
    p50: p(50),
    p90: p(90),
    p99: p(99),
    max: p(100),
    errors,
    statuses,
    firstError,
  }),
);
process.exit(0);

export {};
