// Problems a review of the facades reproduced, each pinned by the behaviour that was wrong.
import { afterEach, expect, test } from "bun:test";
import { startSink, type TestEnv, testEnv, waitUntil, withProcesses } from "../helpers.ts";

let envs: TestEnv[] = [];
const sinks: { stop(): void }[] = [];
afterEach(async () => {
  await Promise.all(envs.map((e) => e.close()));
  envs = [];
  for (const s of sinks.splice(0)) s.stop();
});

test("DCS /his counts executions, not the slots the scheduler claimed ahead of their time", async () => {
  const e = await testEnv({ start: true, config: { scheduler: { lookahead: 5000, pollInterval: 200 } } });
  envs.push(e);
  const sink = startSink();
  sinks.push(sink);
  expect((await e.call("PUT", "/jobs/ns/t", { expr: "@every 1s", callback: { http: { url: sink.url } } })).status).toBe(200);
  await waitUntil(() => sink.requests.length >= 1, "the first call", 5000);
  const his = await e.call("GET", "/jobs/ns/t/his");
  // Up to five slots are claimed at once; at most the one being called back may not have reached the sink.
  expect(his.body.times).toBeGreaterThanOrEqual(1);
  expect(his.body.times - sink.requests.length).toBeLessThanOrEqual(1);
});

test("a Juice task killed while still queued gets its callback, like one killed while running", async () => {
  const e = await testEnv({
    start: true,
    config: { executors: withProcesses(), scheduler: { maxInFlight: 1, pollInterval: 200 } },
  });
  envs.push(e);
  const sink = startSink();
  sinks.push(sink);
  const H = { "X-Tenant-Id": "t" };
  const blocker = await e.call("POST", "/v1/tasks", { taskName: "blocker", commands: "sleep 5" }, H);
  const status = async (id: number) => (await e.call("GET", `/v1/tasks?taskIds=${id}`, undefined, H)).body.data[0];
  await waitUntil(async () => (await status(blocker.body.data.taskId)).taskStatus === 1, "the blocker running", 5000);
  const queued = await e.call("POST", "/v1/tasks", { taskName: "queued", callbackUrl: `${sink.url}/q`, commands: "echo hi" }, H);
  expect((await status(queued.body.data.taskId)).taskStatus).toBe(-1);
  const k = await e.call("POST", `/v1/tasks/kill?taskId=${queued.body.data.taskId}`, undefined, H);
  expect(k.body.data).toMatchObject({ submitKill: true, currentStatus: 6 });
  await waitUntil(() => sink.requests.some((r) => r.path === "/q"), "the killed task's callback", 5000);
  expect(JSON.parse(sink.requests.find((r) => r.path === "/q")!.body)).toMatchObject({ taskId: queued.body.data.taskId, result: "KILLED" });
  await e.call("POST", `/v1/tasks/kill?taskId=${blocker.body.data.taskId}`, undefined, H);
});

test("other methods and paths under /v1/tasks answer in Juice's shape, not the native one", async () => {
  const e = await testEnv();
  envs.push(e);
  const H = { "X-Tenant-Id": "t" };
  for (const [method, path, status] of [["GET", "/v1/tasks/kill?taskId=1", 405], ["PUT", "/v1/tasks", 405], ["DELETE", "/v1/tasks", 405], ["GET", "/v1/tasks/abc", 404]] as const) {
    const r = await e.call(method, path, undefined, H);
    expect({ path, method, status: r.status, keys: Object.keys(r.body) }).toEqual({ path, method, status, keys: ["status", "message"] });
  }
});

test("a Juice submission whose run cannot be queued leaves no task behind", async () => {
  const e = await testEnv({
    config: { executors: withProcesses() },
    failWrite: (sql) => sql.includes("INSERT INTO runs"),
  });
  envs.push(e);
  const r = await e.call("POST", "/v1/tasks", { taskName: "x", commands: "true" }, { "X-Tenant-Id": "t" });
  expect(r.status).toBe(500);
  expect((await e.call("GET", "/api/v1/namespaces/t/jobs")).body.items).toEqual([]);
});
