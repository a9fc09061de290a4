// Sub-second @every on the real clock, as Dapr's precision test runs it: the gaps between a job's
// deliveries are its period, no delivery comes before its slot, and each slot is delivered once.
import { afterAll, expect, test } from "bun:test";
import { read } from "../../../src/store/sql.ts";
import { startSink, testEnv, waitUntil } from "../../helpers.ts";

const app = startSink();
afterAll(() => app.stop());

test("@every 100ms: ten deliveries 100 ms apart by slot, none early, none twice", async () => {
  const env = await testEnv({ start: true, config: { compat: { ...(await import("../../../src/config.ts")).parseConfig(null, {}).compat, daprAppUrl: app.url }, scheduler: { pollInterval: 200 } } });
  try {
    expect((await env.call("POST", "/v1.0-alpha1/jobs/tick", { schedule: "@every 100ms", repeats: 10 })).status).toBe(202);
    await waitUntil(() => app.requests.length >= 10, "ten deliveries", 20_000);
    await waitUntil(async () => (await read(env.deps.store, "SELECT count(*) AS n FROM runs WHERE status = 'succeeded'"))[0].n === 10, "ten runs recorded");
    const runs = await read(env.deps.store, "SELECT id, scheduled_at, started_at FROM runs ORDER BY scheduled_at");
    const slots = runs.map((r) => Number(r.scheduled_at));
    expect(slots.slice(1).map((s, i) => s - slots[i])).toEqual(Array(9).fill(100));
    for (const r of runs) expect(Number(r.started_at)).toBeGreaterThanOrEqual(Number(r.scheduled_at));
    // Each delivery is one slot's run, once (webhook-id is the run's id), and none came before its slot.
    const byId = new Map(runs.map((r) => [String(r.id), Number(r.scheduled_at)]));
    expect(new Set(app.requests.map((r) => r.headers["webhook-id"])).size).toBe(10);
    for (const req of app.requests) expect(req.at).toBeGreaterThanOrEqual(byId.get(req.headers["webhook-id"])!);
  } finally {
    await env.close();
  }
});
