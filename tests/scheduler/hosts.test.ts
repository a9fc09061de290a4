// The per-host limit: one host gets at most max_in_flight_per_host runs at once; other hosts go ahead.
import { afterAll, expect, test } from "bun:test";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, testEnv } from "../helpers.ts";

let now = 0;
let peak = 0;
const slow = startSink(async () => {
  peak = Math.max(peak, ++now);
  await new Promise((r) => setTimeout(r, 150));
  now--;
  return new Response("slow");
});
const fast = startSink();
afterAll(() => {
  slow.stop();
  fast.stop();
});

test("a host gets at most max_in_flight_per_host runs at once, and does not hold up other hosts", async () => {
  const env = await testEnv({ config: { scheduler: { maxInFlightPerHost: 2, maxInFlight: 100 } }, start: true });
  for (let i = 0; i < 6; i++) await putJob(env.deps, "ns", `slow-${i}`, { target: { http: { url: slow.url } } });
  for (let i = 0; i < 3; i++) await putJob(env.deps, "ns", `fast-${i}`, { target: { http: { url: fast.url } } });
  for (let i = 0; i < 6; i++) await triggerJob(env.deps, "ns", `slow-${i}`);
  for (let i = 0; i < 3; i++) await triggerJob(env.deps, "ns", `fast-${i}`);
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
  const runs = await read(env.deps.store, "SELECT job_name, status, started_at, ended_at FROM runs ORDER BY id");
  expect(runs.every((r) => r.status === "succeeded")).toBe(true);
  expect(slow.requests).toHaveLength(6);
  expect(peak).toBe(2);
  // The fast host's runs all ended before the slow host's third run could start.
  const slowStarts = runs.filter((r) => String(r.job_name).startsWith("slow")).map((r) => Number(r.started_at)).sort((a, b) => a - b);
  const fastEnds = runs.filter((r) => String(r.job_name).startsWith("fast")).map((r) => Number(r.ended_at));
  expect(Math.max(...fastEnds)).toBeLessThan(slowStarts[2]);
  await env.close();
});
