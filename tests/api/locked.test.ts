// Another process holds the database locked: the server stays responsive, API writes answer 503 with
// Retry-After after [database] busy_timeout and change nothing, /readyz says why, the scheduler's writes
// wait, and everything recovers by itself once the lock goes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { holdLock, startSink, type TestEnv, testEnv, waitUntil } from "../helpers.ts";

const sink = startSink();
let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ start: true, config: { database: { busyTimeout: 400 } as never, scheduler: { pollInterval: 100, lookahead: 300 } as never } });
});
afterAll(async () => {
  await env.close();
  sink.stop();
});

const job = (url: string) => ({ schedule: "@every 1h", target: { http: { url } } });

test("while the database is locked: /healthz answers at once, writes answer 503 with Retry-After and change nothing, /readyz says why", async () => {
  expect((await env.call("PUT", "/api/v1/namespaces/l/jobs/before", job(`${sink.url}/before`))).status).toBe(201);
  const lock = await holdLock(env.dbUrl);
  try {
    const put = env.call("PUT", "/api/v1/namespaces/l/jobs/a", job(`${sink.url}/a`));
    // The server answers while the write waits.
    const t0 = performance.now();
    const health = await env.call("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(300);

    const r = await put;
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(r.body.error.code).toBe("unavailable");
    expect(r.body.error.message).toMatch(/^the database cannot take requests now \(the database is locked by another process or node: waited 0\.4 s.*\); nothing was changed: retry shortly$/);

    // A trigger and a delete: 503 too, never a 500.
    for (const [method, path] of [
      ["POST", "/api/v1/namespaces/l/jobs/before/trigger"],
      ["DELETE", "/api/v1/namespaces/l/jobs/before"],
    ] as const) {
      const res = await env.call(method, path, method === "POST" ? {} : undefined);
      expect(res.status).toBe(503);
    }
    // A foreign API in its own shape: 503 as well.
    const dcs = await env.call("PUT", "/jobs/l/x", { expr: "* * * * *", callback: { http: { url: `${sink.url}/x` } } });
    expect(dcs.status).toBe(503);
    expect(dcs.body.msg).toMatch(/^the database cannot take requests now/);
    expect(dcs.headers.get("retry-after")).toBe("1");

    // Reads are served from the database as it was.
    expect((await env.call("GET", "/api/v1/namespaces/l/jobs/before")).status).toBe(200);
    const ready = await env.call("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.database).toMatch(/^writes fail since .*: the database is locked by another process or node/);
  } finally {
    lock.release();
    await lock.done;
  }
  // Ready again by itself, and nothing the 503s answered was written.
  await waitUntil(async () => (await env.call("GET", "/readyz")).status === 200, "ready again");
  expect((await env.call("GET", "/api/v1/namespaces/l/jobs/a")).status).toBe(404);
  expect((await env.call("GET", "/api/v1/namespaces/l/jobs/before")).status).toBe(200);
  const runs = await env.call("GET", "/api/v1/namespaces/l/jobs/before/runs");
  expect(runs.body.items).toEqual([]);
  expect((await env.call("PUT", "/api/v1/namespaces/l/jobs/a", job(`${sink.url}/a`))).status).toBe(201);
});

test("a run due while the database is locked fires once the lock goes, exactly once", async () => {
  const due = new Date(Date.now() + 300).toISOString();
  expect((await env.call("PUT", "/api/v1/namespaces/l/jobs/once", { dueTime: due, target: { http: { url: `${sink.url}/once` } } })).status).toBe(201);
  const lock = await holdLock(env.dbUrl);
  // Held past the due time and past busy_timeout: the scheduler's claims fail, and are retried.
  await new Promise((r) => setTimeout(r, 1000));
  expect(sink.requests.filter((r) => r.path === "/once")).toHaveLength(0);
  lock.release();
  await lock.done;
  await waitUntil(() => sink.requests.some((r) => r.path === "/once"), "the run fired");
  await waitUntil(async () => (await env.call("GET", "/api/v1/namespaces/l/jobs/once/runs")).body.items[0]?.status === "succeeded", "its run succeeded");
  expect(sink.requests.filter((r) => r.path === "/once")).toHaveLength(1);
  expect((await env.call("GET", "/api/v1/namespaces/l/jobs/once/runs")).body.items).toHaveLength(1);
});
