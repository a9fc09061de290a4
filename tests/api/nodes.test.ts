// The nodes sharing a database, as the API lists them (what each can run, what it runs now), and the node
// each run was started by.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSink, type TestEnv, tempDir, testEnv, waitUntil, withProcesses } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-nodes-");
let a: TestEnv;
let b: TestEnv;
let release = () => {};
// /hang answers once released: a run in flight on node a.
const sink = startSink((req) => (req.path === "/hang" ? new Promise<Response>((r) => (release = () => r(new Response("ok")))) : new Response("ok")));
beforeAll(async () => {
  a = await testEnv({ dir, start: true, config: { scheduler: { nodeId: "node-a", pollInterval: 200 } } });
  b = await testEnv({ dir, start: true, config: { scheduler: { nodeId: "node-b", pollInterval: 200 }, executors: withProcesses({}, { container: { cli: undefined, runArgs: [] } }) } });
});
afterAll(async () => {
  release();
  await a.close();
  await b.close();
  sink.stop();
  cleanup();
});

test("GET /api/v1/nodes lists every node with its version, times, the kinds of target it runs and its runs in flight", async () => {
  // Either node may take it: both run HTTP.
  await a.call("PUT", "/api/v1/namespaces/n/jobs/hang", { target: { http: { url: `${sink.url}/hang` } } });
  const run = (await a.call("POST", "/api/v1/namespaces/n/jobs/hang/trigger")).body;
  await waitUntil(async () => (await a.call("GET", `/api/v1/runs/${run.id}`)).body.status === "running", "the run running", 10_000);
  const runner = (await a.call("GET", `/api/v1/runs/${run.id}`)).body.nodeId;

  const r = await a.call("GET", "/api/v1/nodes");
  expect(r.status).toBe(200);
  expect(r.body.nextCursor).toBeNull();
  expect(r.body.items.map((n: { id: string }) => n.id)).toEqual(["node-a", "node-b"]);
  for (const n of r.body.items) {
    expect(n).toMatchObject({ version: "test", startedAt: expect.any(String), heartbeatAt: expect.any(String) });
    expect(n.running).toBe(n.id === runner ? 1 : 0);
  }
  const byId = Object.fromEntries(r.body.items.map((n: { id: string; executors: string[] }) => [n.id, n.executors]));
  expect(byId["node-a"]).toEqual(["http", "tcp"]);
  expect(byId["node-b"]).toEqual(["http", "tcp", "process", "script"]);
  release();
});

test("a run says which node started it: none while queued or when it ended without starting", async () => {
  const fire = async (name: string) => {
    await a.call("PUT", `/api/v1/namespaces/n/jobs/${name}`, { target: { http: { url: `${sink.url}/ok` } } });
    return (await a.call("POST", `/api/v1/namespaces/n/jobs/${name}/trigger`)).body;
  };
  const queued = await fire("quick");
  expect(queued.node).toBeNull();
  await waitUntil(async () => (await a.call("GET", `/api/v1/runs/${queued.id}`)).body.status === "succeeded", "the run to end", 10_000);
  const ended = (await a.call("GET", `/api/v1/runs/${queued.id}`)).body;
  expect(["node-a", "node-b"]).toContain(ended.node);
  expect(ended.node).toBe(ended.nodeId);

  // On a node whose scheduler is not running, a triggered run stays queued; killed, it ends unstarted.
  const idle = await testEnv();
  try {
    await idle.call("PUT", "/api/v1/namespaces/n/jobs/never", { target: { http: { url: `${sink.url}/ok` } } });
    const held = (await idle.call("POST", "/api/v1/namespaces/n/jobs/never/trigger")).body;
    const killed = (await idle.call("POST", `/api/v1/runs/${held.id}/kill`)).body;
    expect(killed).toMatchObject({ status: "killed", node: null });
  } finally {
    await idle.close();
  }
});
