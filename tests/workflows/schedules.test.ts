// Scheduled workflows, on a clock the test moves: an instance per slot, never before it, once per slot
// across two nodes on one file, the misfire policy for slots missed while no node ran, pause and resume.
import { afterAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { setWorkflowEnabled } from "../../src/domain/workflows.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, tempDir, testEnv, waitUntil } from "../helpers.ts";

const sink = startSink();
afterAll(() => sink.stop());

const START = Date.UTC(2026, 5, 1, 12, 0, 0);
const flow = (extra: Record<string, unknown> = {}) => ({ schedule: "*/10 * * * *", steps: [{ id: "call", target: { http: { url: `${sink.url}/wf` } } }], ...extra });

async function instances(env: Awaited<ReturnType<typeof testEnv>>, name: string) {
  return (await env.call("GET", `/api/v1/namespaces/s/workflows/${name}/instances`)).body.items as { id: number; trigger: string; status: string; startedAt: string }[];
}

test("a scheduled workflow starts an instance at each slot, never before it; paused, none; resumed, from then on", async () => {
  const clock = new TestClock(START + 1000);
  const env = await testEnv({ clock, start: true, config: { scheduler: { pollInterval: 60_000, maxClockSkew: 0 } } });
  try {
    const put = await env.call("PUT", "/api/v1/namespaces/s/workflows/tick", flow({ timezone: "Europe/Rome" }));
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ schedule: "*/10 * * * *", timezone: "Europe/Rome", misfire: "once", nextFireAt: new Date(START + 600_000).toISOString() });
    clock.set(START + 600_000 - 1);
    await env.deps.scheduler.tick();
    expect(await instances(env, "tick")).toEqual([]);
    // The slot's timer wakes the node at its instant (a poll is a minute away).
    clock.set(START + 600_000);
    await waitUntil(async () => (await instances(env, "tick")).length === 1, "the first instance");
    const [first] = await instances(env, "tick");
    expect(first).toMatchObject({ trigger: "schedule" });
    expect(Date.parse(first.startedAt)).toBe(START + 600_000);
    await waitUntil(async () => (await instances(env, "tick"))[0].status === "succeeded", "the instance to succeed");

    await setWorkflowEnabled(env.deps, "s", "tick", false);
    expect((await env.call("GET", "/api/v1/namespaces/s/workflows/tick")).body).toMatchObject({ enabled: false, nextFireAt: null });
    clock.set(START + 1_800_000 + 1);
    await env.deps.scheduler.tick();
    expect((await instances(env, "tick")).length).toBe(1);
    // Resumed: from now on, the slots that passed meanwhile are not made up.
    const resumed = await setWorkflowEnabled(env.deps, "s", "tick", true);
    expect(resumed.nextFireAt).toBe(new Date(START + 2_400_000).toISOString());
  } finally {
    await env.close();
  }
});

test("slots missed while no node ran follow misfire: once starts one instance, for the latest", async () => {
  const clock = new TestClock(START + 1000);
  const env = await testEnv({ clock, config: { scheduler: { pollInterval: 60_000, maxClockSkew: 0, misfireThreshold: 5000 } } });
  try {
    await env.call("PUT", "/api/v1/namespaces/s/workflows/late", flow());
    // Nobody ran for an hour: six slots passed.
    clock.set(START + 3_600_000 + 5000);
    await env.deps.scheduler.start();
    await env.deps.scheduler.tick();
    const list = await instances(env, "late");
    expect(list.length).toBe(1);
    const rows = await read(env.deps.store, "SELECT scheduled_at FROM workflow_instances");
    expect(rows.map((r) => Number(r.scheduled_at))).toEqual([START + 3_600_000]);
    expect((await env.call("GET", "/api/v1/namespaces/s/workflows/late")).body.nextFireAt).toBe(new Date(START + 4_200_000).toISOString());
  } finally {
    await env.close();
  }
});

test("two nodes on one file fire each slot once", async () => {
  const { dir, cleanup } = tempDir();
  const clock = new TestClock(START + 1000);
  const cfg = (id: string) => ({ scheduler: { nodeId: id, pollInterval: 60_000, maxClockSkew: 0 } });
  const a = await testEnv({ clock, dir, start: true, config: cfg("a") });
  const b = await testEnv({ clock, dir, start: true, config: cfg("b") });
  try {
    await a.call("PUT", "/api/v1/namespaces/s/workflows/both", flow({ schedule: "@every 1m", misfire: "all" }));
    for (let i = 1; i <= 5; i++) {
      clock.set(START + 1000 + i * 60_000);
      await Promise.all([a.deps.scheduler.tick(), b.deps.scheduler.tick()]);
    }
    const rows = await read(a.deps.store, "SELECT scheduled_at FROM workflow_instances ORDER BY scheduled_at");
    expect(rows.map((r) => Number(r.scheduled_at) - START)).toEqual([61_000, 121_000, 181_000, 241_000, 301_000]);
  } finally {
    await a.close();
    await b.close();
    cleanup();
  }
});

test("a schedule's fields are checked as a job's: a 400 naming the field", async () => {
  const env = await testEnv();
  try {
    for (const [body, field] of [
      [flow({ schedule: "61 * * * *" }), "schedule"],
      [flow({ timezone: "Mars/Olympus" }), "timezone"],
      [{ ...flow(), schedule: undefined, timezone: "UTC" }, "timezone"],
      [flow({ misfire: "sometimes" }), "misfire"],
    ] as const) {
      const res = await env.call("PUT", "/api/v1/namespaces/s/workflows/bad", body);
      expect({ status: res.status, field: res.body.error?.field }).toEqual({ status: 400, field });
    }
  } finally {
    await env.close();
  }
});
