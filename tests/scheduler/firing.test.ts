// Schedule behaviour through the real scheduler, database and sink, with time moved by a TestClock.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { putJob } from "../../src/domain/jobs.ts";
import { TestClock } from "../../src/clock.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, type TestEnv, testEnv } from "../helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const sink = startSink();
afterAll(() => sink.stop());

let env: TestEnv;
let clock: TestClock;
beforeEach(async () => {
  sink.requests.length = 0;
  clock = new TestClock(T0);
  env = await testEnv({ clock, config: { scheduler: { lookahead: 2000, pollInterval: 1000, misfireThreshold: 5000 } } });
  await env.deps.scheduler.start();
});
afterEach(() => env.close());

async function runsOf(name: string) {
  return read(env.deps.store, { sql: "SELECT * FROM runs WHERE job_name = ? ORDER BY scheduled_at, attempt", args: [name] });
}

/** Moves the clock to `at` and lets the scheduler claim, fire and record everything due. */
async function moveTo(at: number) {
  clock.set(at);
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
}

const http = (path = "/hook") => ({ http: { url: `${sink.url}${path}` } });

describe("firing on schedule", () => {
  test("an @every job fires at each slot, never early, with webhook-id = run id", async () => {
    await putJob(env.deps, "ns", "tick", { schedule: "@every 10s", target: http() });
    await moveTo(T0 + 9_999);
    expect(sink.requests).toHaveLength(0); // claimed ahead, but not fired before its slot
    await moveTo(T0 + 10_000);
    expect(sink.requests).toHaveLength(1);
    await moveTo(T0 + 20_000);
    await moveTo(T0 + 30_000);
    const runs = await runsOf("tick");
    expect(runs.map((r) => [Number(r.scheduled_at) - T0, r.status])).toEqual([
      [10_000, "succeeded"],
      [20_000, "succeeded"],
      [30_000, "succeeded"],
    ]);
    expect(sink.requests.map((r) => r.headers["webhook-id"])).toEqual(runs.map((r) => String(r.id)));
    for (const r of runs) expect(Number(r.started_at)).toBeGreaterThanOrEqual(Number(r.scheduled_at));
  });

  test("a clock that jumps back fires no slot twice", async () => {
    await putJob(env.deps, "ns", "back", { schedule: "@every 10s", target: http() });
    await moveTo(T0 + 10_000);
    await moveTo(T0 + 20_000);
    await moveTo(T0 + 5_000); // back in time
    await moveTo(T0 + 10_000);
    await moveTo(T0 + 20_000);
    const slots = (await runsOf("back")).map((r) => Number(r.scheduled_at) - T0);
    expect(slots).toEqual([10_000, 20_000]);
    expect(sink.requests).toHaveLength(2);
  });

  test("a one-shot fires once at its dueTime; repeats caps a series", async () => {
    await putJob(env.deps, "ns", "once", { dueTime: "15s", target: http() });
    await putJob(env.deps, "ns", "thrice", { schedule: "@every 5s", repeats: 3, target: http("/t") });
    for (let t = 5_000; t <= 40_000; t += 5_000) await moveTo(T0 + t);
    expect((await runsOf("once")).map((r) => Number(r.scheduled_at) - T0)).toEqual([15_000]);
    expect((await runsOf("thrice")).map((r) => Number(r.scheduled_at) - T0)).toEqual([5_000, 10_000, 15_000]);
    const [job] = await read(env.deps.store, "SELECT fired_count, next_fire_at FROM jobs WHERE name = 'thrice'");
    expect(job).toMatchObject({ fired_count: 3, next_fire_at: null });
  });

  test("a paused job does not fire; resumed, it fires again", async () => {
    const { pauseJob, resumeJob } = await import("../../src/domain/jobs.ts");
    await putJob(env.deps, "ns", "p", { schedule: "@every 10s", target: http() });
    await moveTo(T0 + 9_000); // the 10s slot is claimed into memory ahead of time
    await pauseJob(env.deps, "ns", "p");
    await moveTo(T0 + 10_000);
    await moveTo(T0 + 30_000);
    expect(sink.requests).toHaveLength(0);
    await resumeJob(env.deps, "ns", "p");
    await moveTo(T0 + 40_000);
    expect((await runsOf("p")).map((r) => [Number(r.scheduled_at) - T0, r.status])).toEqual([[40_000, "succeeded"]]);
  });

  test("a cron job follows its timezone", async () => {
    await putJob(env.deps, "ns", "ny", { schedule: "0 9 * * *", timezone: "America/New_York", target: http() });
    const [job] = await read(env.deps.store, "SELECT next_fire_at FROM jobs WHERE name = 'ny'");
    expect(new Date(Number(job.next_fire_at)).toISOString()).toBe("2026-06-01T13:00:00.000Z");
  });
});

describe("misfire after downtime", () => {
  for (const [policy, expected] of [
    ["skip", { fired: [] as number[], skipped: 1 }],
    ["once", { fired: [50_000], skipped: 1 }], // one row records the four slots coalesced
    ["all", { fired: [10_000, 20_000, 30_000, 40_000, 50_000], skipped: 0 }],
  ] as const) {
    test(`misfire ${policy}`, async () => {
      await putJob(env.deps, "ns", `m-${policy}`, { schedule: "@every 10s", misfire: policy, target: http() });
      await env.deps.scheduler.stop(); // the node is down while five slots pass
      const { Scheduler } = await import("../../src/scheduler/scheduler.ts");
      clock.set(T0 + 55_000);
      const s2 = new Scheduler({ ...env.deps, config: env.deps.config.scheduler });
      env.deps.scheduler = s2;
      await s2.start();
      await s2.idle();
      const runs = await runsOf(`m-${policy}`);
      expect(runs.filter((r) => r.status === "succeeded").map((r) => Number(r.scheduled_at) - T0)).toEqual([...expected.fired]);
      expect(runs.filter((r) => r.status === "skipped")).toHaveLength(expected.skipped);
      const [job] = await read(env.deps.store, { sql: "SELECT next_fire_at FROM jobs WHERE name = ?", args: [`m-${policy}`] });
      expect(Number(job.next_fire_at) - T0).toBe(60_000);
    });
  }
});

describe("manual trigger", () => {
  test("a manual-only job fires only when triggered", async () => {
    const { triggerJob } = await import("../../src/domain/jobs.ts");
    await putJob(env.deps, "ns", "man", { target: http() });
    await moveTo(T0 + 60_000);
    expect(sink.requests).toHaveLength(0);
    const run = await triggerJob(env.deps, "ns", "man");
    await env.deps.scheduler.tick();
    await env.deps.scheduler.idle();
    expect(sink.requests).toHaveLength(1);
    expect(sink.requests[0].headers["webhook-id"]).toBe(String(run.id));
    const [row] = await runsOf("man");
    expect(row).toMatchObject({ trigger: "manual", status: "succeeded" });
  });
});
