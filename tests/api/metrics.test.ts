// GET /metrics: checked by Prometheus's own parser and linter (promtool check metrics), and by value: runs by
// target and status, lateness and duration, runs in flight, claim cycles, database calls, HTTP requests by
// route pattern, jobs by state, live nodes. Behind keys like the API, and absent when turned off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createKey } from "../../src/domain/keys.ts";
import { Metrics } from "../../src/metrics.ts";
import { write } from "../../src/store/sql.ts";
import { startSink, type TestEnv, testEnv, waitUntil } from "../helpers.ts";
import { checkMetrics, samples, value } from "../prometheus.ts";

let release: () => void = () => {};
const sink = startSink(async (req) => {
  if (req.path.startsWith("/hold")) await new Promise<void>((r) => (release = r));
  return new Response("x", { status: req.path.startsWith("/fail") ? 500 : 200 });
});
let env: TestEnv;
const put = (name: string, body: object) => env.call("PUT", `/api/v1/namespaces/m/jobs/${name}`, body);
const scrape = async () => {
  const r = await env.call("GET", "/metrics");
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return String(r.body);
};
const finished = async (n: number) => {
  await waitUntil(async () => {
    const runs = (await env.call("GET", "/api/v1/runs?namespace=m")).body.items as { status: string }[];
    return runs.filter((r) => !["queued", "running"].includes(r.status)).length >= n;
  }, `${n} runs to end`);
};

beforeAll(async () => {
  env = await testEnv({ start: true });
  expect((await put("ok", { target: { http: { url: `${sink.url}/ok` } } })).status).toBe(201);
  expect((await put("bad", { target: { http: { url: `${sink.url}/fail` } } })).status).toBe(201);
  expect((await put("hourly", { schedule: "@every 1h", target: { http: { url: `${sink.url}/h` } } })).status).toBe(201);
  expect((await put("off", { schedule: "@every 1h", enabled: false, target: { http: { url: `${sink.url}/p` } } })).status).toBe(201);
  for (const name of ["ok", "bad"]) expect((await env.call("POST", `/api/v1/namespaces/m/jobs/${name}/trigger`)).status).toBe(202);
  await finished(2);
  expect((await env.call("GET", "/api/v1/no-such-route")).status).toBe(404);
});
afterAll(async () => {
  release();
  await env.close();
  sink.stop();
});

describe("the exposition", () => {
  test("passes Prometheus's own parser and linter, every family with its help and type", async () => {
    const text = await scrape();
    expect(checkMetrics(text)).toEqual({ status: 0, out: "" });
    for (const family of ["tock_runs_finished_total", "tock_run_lateness_seconds", "tock_run_duration_seconds", "tock_runs_in_flight", "tock_runs_held", "tock_claim_cycle_seconds", "tock_claim_batch_size", "tock_db_call_seconds", "tock_http_requests_total", "tock_http_request_seconds", "tock_jobs", "tock_nodes_live", "tock_build_info"]) {
      expect(text).toContain(`# HELP ${family} `);
      expect(text).toContain(`# TYPE ${family} `);
    }
  });

  test("a broken exposition is refused by the same check (the check can fail)", async () => {
    const text = await scrape();
    expect(checkMetrics(text.replace(/^tock_nodes_live 1$/m, "tock_nodes_live one")).status).not.toBe(0);
    expect(checkMetrics(text.replace("# TYPE tock_runs_finished_total counter", "# TYPE tock_runs_finished_total summary\n# TYPE tock_runs_finished_total counter")).status).not.toBe(0);
  });
});

describe("the figures", () => {
  test("runs finished by target kind and status, with their lateness and duration", async () => {
    const all = samples(await scrape());
    expect(value(all, "tock_runs_finished_total", { target: "http", status: "succeeded" })).toBe(1);
    expect(value(all, "tock_runs_finished_total", { target: "http", status: "failed" })).toBe(1);
    expect(value(all, "tock_run_duration_seconds_count", { target: "http", status: "succeeded" })).toBe(1);
    expect(value(all, "tock_run_duration_seconds_count", { target: "http", status: "failed" })).toBe(1);
    expect(value(all, "tock_run_lateness_seconds_count", { target: "http" })).toBe(2);
    // Every run is in the +Inf bucket, and a sum of seconds is no negative number.
    expect(value(all, "tock_run_lateness_seconds_bucket", { target: "http", le: "+Inf" })).toBe(2);
    expect(value(all, "tock_run_duration_seconds_sum", { target: "http", status: "succeeded" })).toBeGreaterThanOrEqual(0);
  });

  test("a run in flight is counted while it runs, and not after; one that never started has no duration", async () => {
    expect((await put("held", { target: { http: { url: `${sink.url}/hold` } } })).status).toBe(201);
    expect((await env.call("POST", "/api/v1/namespaces/m/jobs/held/trigger")).status).toBe(202);
    await waitUntil(async () => value(samples(await scrape()), "tock_runs_in_flight") === 1, "the held run to be in flight");
    // Triggered again while its run is in flight: skipped (overlap forbid), never started.
    expect((await env.call("POST", "/api/v1/namespaces/m/jobs/held/trigger")).status).toBe(202);
    await finished(3);
    let all = samples(await scrape());
    expect(value(all, "tock_runs_finished_total", { target: "http", status: "skipped" })).toBe(1);
    expect(value(all, "tock_run_duration_seconds_count", { target: "http", status: "skipped" })).toBeUndefined();
    expect(value(all, "tock_runs_in_flight")).toBe(1);
    release();
    await finished(4);
    await waitUntil(async () => value((all = samples(await scrape())), "tock_runs_in_flight") === 0, "the run to end");
    expect(value(all, "tock_runs_finished_total", { target: "http", status: "succeeded" })).toBe(2);
  });

  test("claim cycles, database calls and HTTP requests by route pattern", async () => {
    const before = samples(await scrape());
    const puts = { method: "PUT", route: "/api/v1/namespaces/:ns/jobs/:name", status: "201" };
    const putsBefore = value(before, "tock_http_requests_total", puts) ?? 0;
    expect((await put("another", { schedule: "@every 1h", target: { http: { url: `${sink.url}/h` } } })).status).toBe(201);
    const all = samples(await scrape());
    expect(value(all, "tock_http_requests_total", puts)).toBe(putsBefore + 1);
    expect(value(all, "tock_http_request_seconds_count", { method: "PUT", route: puts.route })).toBe(putsBefore + 1);
    expect(value(all, "tock_http_requests_total", { method: "GET", route: "unmatched", status: "404" })).toBe(1);

    // Paths are not labels: a route has one series whatever job it names.
    expect(all.filter((s) => s.name === "tock_http_requests_total" && s.labels.route.includes("/m/"))).toEqual([]);
    expect(value(all, "tock_claim_cycle_seconds_count")).toBeGreaterThan(0);
    expect(value(all, "tock_claim_batch_size_sum")).toBeGreaterThanOrEqual(4); // the triggered runs were claimed
    expect(value(all, "tock_db_call_seconds_count", { kind: "read" })).toBeGreaterThan(0);
    expect(value(all, "tock_db_call_seconds_count", { kind: "write" })).toBeGreaterThan(value(before, "tock_db_call_seconds_count", { kind: "write" })!);
  });

  test("jobs by state, read from the database at each scrape; live nodes; build info", async () => {
    let all = samples(await scrape());
    const scheduled = value(all, "tock_jobs", { state: "scheduled" })!;
    expect(value(all, "tock_jobs", { state: "paused" })).toBe(1);
    expect(value(all, "tock_jobs", { state: "manual" })).toBe(3); // ok, bad, held: triggered only
    expect(value(all, "tock_jobs", { state: "finished" })).toBe(0);
    expect((await env.call("POST", "/api/v1/namespaces/m/jobs/hourly/pause")).status).toBe(200);
    all = samples(await scrape());
    expect(value(all, "tock_jobs", { state: "paused" })).toBe(2);
    expect(value(all, "tock_jobs", { state: "scheduled" })).toBe(scheduled - 1);
    expect(value(all, "tock_nodes_live")).toBe(1);
    expect(value(all, "tock_build_info", { version: "test" })).toBe(1);
  });
});

test("a run that waited for its job's earlier run (overlap queue) has a duration but no lateness of its own", async () => {
  const before = samples(await scrape());
  const count = (all: typeof before, name: string) => value(all, name, { target: "http", ...(name.includes("duration") ? { status: "succeeded" } : {}) }) ?? 0;
  const holds = () => sink.requests.filter((r) => r.path === "/hold/q").length;
  expect((await put("queued", { overlap: "queue", target: { http: { url: `${sink.url}/hold/q` } } })).status).toBe(201);
  expect((await env.call("POST", "/api/v1/namespaces/m/jobs/queued/trigger")).status).toBe(202);
  await waitUntil(() => holds() === 1, "the first run to be in flight");
  expect((await env.call("POST", "/api/v1/namespaces/m/jobs/queued/trigger")).status).toBe(202); // waits for its turn
  await waitUntil(() => env.deps.scheduler.stats.waiting === 1, "the second run to wait for its turn");
  expect(value(samples(await scrape()), "tock_runs_held")).toBe(1);
  release();
  await waitUntil(() => holds() === 2, "the second run to start");
  release();
  await waitUntil(async () => (await env.call("GET", "/api/v1/runs?namespace=m&status=queued,running")).body.items.length === 0, "both to end");
  const after = samples(await scrape());
  expect(count(after, "tock_run_duration_seconds_count") - count(before, "tock_run_duration_seconds_count")).toBe(2);
  expect(count(after, "tock_run_lateness_seconds_count") - count(before, "tock_run_lateness_seconds_count")).toBe(1);
}, 20_000);

test("the run and error counters an alert takes increase() of exist from the start, at 0", async () => {
  const e = await testEnv();
  try {
    const all = samples(String((await e.call("GET", "/metrics")).body));
    const runs = all.filter((s) => s.name === "tock_runs_finished_total");
    expect(runs.length).toBe(25); // 5 target kinds x 5 ends
    expect(runs.every((s) => s.value === 0)).toBe(true);
    expect(value(all, "tock_runs_finished_total", { target: "process", status: "failed" })).toBe(0);
    expect(value(all, "tock_db_call_errors_total", { kind: "write" })).toBe(0);
  } finally {
    await e.close();
  }
});

test("a method of the client's invention makes no series of its own (a client could otherwise make them without end)", async () => {
  const m = new Metrics({ version: "t", runtime: "bun", node: "n" });
  for (const method of ["BREW", "WHEN", "GET"]) m.httpRequest(method, "unmatched", 404, 1);
  const counted = samples(await m.text()).filter((s) => s.name === "tock_http_requests_total");
  expect(counted.map((s) => [s.labels.method, s.value])).toEqual([["other", 2], ["GET", 1]]);
});

test("a run left in flight by a previous process is counted lost when this node starts and recovers it (one being killed is not)", async () => {
  const e = await testEnv();
  try {
    const job = await e.call("PUT", "/api/v1/namespaces/m/jobs/x", { target: { http: { url: `${sink.url}/ok` } } });
    const t = Date.now() - 60_000;
    await write(e.deps.store, [
      {
        sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, lease_until, fence, started_at)
              VALUES (?, 'm', 'x', ?, ?, 'manual', 1, 'running', ?, ?, 1, ?)`,
        args: [Number(job.body.id), t, t, e.deps.config.scheduler.nodeId, t + 30_000, t],
      },
      {
        // And one whose kill was requested: it ends killed, not lost.
        sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, lease_until, fence, started_at, kill_requested_at)
              VALUES (?, 'm', 'x', ?, ?, 'manual', 1, 'running', ?, ?, 1, ?, ?)`,
        args: [Number(job.body.id), t + 1, t + 1, e.deps.config.scheduler.nodeId, t + 30_000, t, t],
      },
    ]);
    expect(value(samples(String((await e.call("GET", "/metrics")).body)), "tock_runs_lost_total")).toBe(0);
    await e.deps.scheduler.start();
    expect(value(samples(String((await e.call("GET", "/metrics")).body)), "tock_runs_lost_total")).toBe(1);
    const ended = (await e.call("GET", "/api/v1/runs?namespace=m&status=lost,killed")).body.items.map((r: { status: string }) => r.status).sort();
    expect(ended).toEqual(["killed", "lost"]);
  } finally {
    await e.close();
  }
});

describe("access", () => {
  test("where keys are required: 401 without one, 403 for a key of some namespaces, 200 for a reader of all", async () => {
    const e = await testEnv({ config: { auth: { mode: "keys" } as never } });
    try {
      expect((await e.call("GET", "/metrics")).status).toBe(401);
      const some = (await createKey(e.deps, { role: "admin", namespaces: ["m"] })).token;
      const all = (await createKey(e.deps, { role: "reader", allNamespaces: true })).token;
      await e.deps.keys.refresh();
      const r = await e.call("GET", "/metrics", undefined, { authorization: `Bearer ${some}` });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toContain("every namespace");
      expect((await e.call("GET", "/metrics", undefined, { authorization: `Bearer ${all}` })).status).toBe(200);
    } finally {
      await e.close();
    }
  });

  test("[metrics] enabled = false: no /metrics, nothing counted", async () => {
    const e = await testEnv({ config: { metrics: { enabled: false } } });
    try {
      expect((await e.call("GET", "/metrics")).status).toBe(404);
      expect(e.deps.metrics).toBeUndefined();
      expect(e.deps.store.observe).toBeUndefined();
    } finally {
      await e.close();
    }
  });
});
