// Short @every periods: natively where the operator lowers [scheduler] min_every, and many slots of one job
// taken by one claim (a 10 ms job does not cost a claim write per slot), each slot still once and on time.
import { expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, testEnv, waitUntil } from "../helpers.ts";

test("with min_every 10ms, a native @every 20ms job takes the slots of the lookahead in few claims, and fires each once", async () => {
  const sink = startSink();
  const clock = new TestClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  const t0 = clock.now();
  const env = await testEnv({ clock, start: true, config: { scheduler: { minEvery: 10, lookahead: 1000, pollInterval: 60_000, maxClockSkew: 0 } } });
  let claimWrites = 0;
  const write = env.deps.store.sql.write.bind(env.deps.store.sql);
  env.deps.store.sql.write = (stmts) => {
    if (stmts.some((s) => /INSERT INTO runs .*'schedule'/s.test(typeof s === "string" ? s : s.sql))) claimWrites++;
    return write(stmts);
  };
  try {
    const put = await env.call("PUT", "/api/v1/namespaces/s/jobs/fast", { schedule: "@every 20ms", repeats: 40, overlap: "allow", target: { http: { url: `${sink.url}/fast` } } });
    expect(put.status).toBe(201);
    expect(put.body.nextFireAt).toBe(new Date(t0 + 20).toISOString());
    await env.deps.scheduler.tick();
    // The lookahead's 50 slots (1 s / 20 ms), capped at 64 a claim: one claim write.
    expect(claimWrites).toBe(1);
    const claimed = await read(env.deps.store, "SELECT scheduled_at FROM runs ORDER BY scheduled_at");
    expect(claimed.length).toBe(40); // repeats caps them
    expect(claimed.map((r) => Number(r.scheduled_at) - t0)).toEqual(Array.from({ length: 40 }, (_, i) => 20 * (i + 1)));
    for (let t = 0; t <= 900; t += 100) {
      clock.set(t0 + t);
      await env.deps.scheduler.idle();
    }
    await waitUntil(() => sink.requests.length >= 40, "forty deliveries");
    expect(new Set(sink.requests.map((r) => r.headers["webhook-id"])).size).toBe(40);
    const runs = await read(env.deps.store, "SELECT scheduled_at, started_at, status FROM runs");
    for (const r of runs) expect(Number(r.started_at)).toBeGreaterThanOrEqual(Number(r.scheduled_at));
  } finally {
    await env.close();
    sink.stop();
  }
});
