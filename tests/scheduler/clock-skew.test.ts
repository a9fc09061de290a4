// A node whose clock disagrees with the database's by more than max_clock_skew claims nothing (it would fire
// slots early or late, or take over runs whose leases had not lapsed), says why on /readyz and in its log, and
// claims again by itself once the clocks agree.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { memoryLogger, startSink, type TestEnv, testEnv } from "../helpers.ts";

const sink = startSink();
const log = memoryLogger();
// Ten seconds ahead of the real time, which is the database's.
const clock = new TestClock(Date.now() + 10_000);
let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ clock, log, start: true, config: { scheduler: { maxClockSkew: 2000, pollInterval: 1000, lookahead: 30_000 } } });
});
afterAll(async () => {
  await env.close();
  sink.stop();
});

const runsOf = async () => (await env.call("GET", "/api/v1/namespaces/c/jobs/tick/runs")).body.items;

test("a clock 10 s ahead of the database's claims nothing and is not ready; back in step, it claims again", async () => {
  // Due 15 s from now in real time: within the lookahead by either clock, so a node in step claims it.
  const dueTime = new Date(Date.now() + 15_000).toISOString();
  expect((await env.call("PUT", "/api/v1/namespaces/c/jobs/tick", { dueTime, target: { http: { url: `${sink.url}/tick` } } })).status).toBe(201);
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
  expect(await runsOf()).toEqual([]);
  const ready = await env.call("GET", "/readyz");
  expect(ready.status).toBe(503);
  expect(ready.body.scheduler).toMatch(/^this node's clock is 1\d\.\d s ahead of the database's \(more than \[scheduler\] max_clock_skew\)/);
  expect(log.lines.filter((l) => l.msg === "clock disagrees with the database")).toHaveLength(1);

  clock.set(Date.now()); // the clock is put right: the next heartbeat finds it so
  await env.deps.scheduler.beat();
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
  expect((await runsOf()).map((r: { status: string }) => r.status)).toEqual(["queued"]); // claimed, held until due
  expect((await env.call("GET", "/readyz")).status).toBe(200);
  expect(log.lines.some((l) => l.msg === "clock agrees with the database again: claiming")).toBe(true);
});

test("max_clock_skew = 0 turns the check off", async () => {
  const off = await testEnv({ clock: new TestClock(Date.UTC(2020, 0, 1)), config: { scheduler: { maxClockSkew: 0 } }, start: true });
  try {
    await off.deps.scheduler.tick();
    expect(off.deps.scheduler.problem).toBeNull();
    expect((await off.call("GET", "/readyz")).status).toBe(200);
  } finally {
    await off.close();
  }
});
