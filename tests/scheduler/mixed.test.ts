// Mixed nodes: each claims only runs whose target it can run (process, script and container jobs turned
// on, the script's interpreter present, the container CLI present). A run no live node can run waits in
// the queue and says why, until a node that can run it joins.
import { afterAll, expect, test } from "bun:test";
import { DEFAULT_INTERPRETERS } from "../../src/config/executors.ts";
import { type TestEnv, tempDir, testEnv, waitUntil, withProcesses } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-mixed-");
const envs: TestEnv[] = [];
afterAll(async () => {
  for (const e of envs) await e.close();
  cleanup();
});

const scheduler = (nodeId: string) => ({ nodeId, pollInterval: 100, lookahead: 500, heartbeat: 200, nodeTimeout: 1000 });
const start = async (nodeId: string, processes: boolean) => {
  const interpreters = { ...DEFAULT_INTERPRETERS, ghost: ["/nonexistent/ghost-interpreter"] };
  const e = await testEnv({ dir, start: true, config: { scheduler: scheduler(nodeId), executors: processes ? withProcesses({}, { script: { interpreters, tempDir: undefined }, container: { cli: "/nonexistent/docker", runArgs: [] } }) : undefined } });
  envs.push(e);
  return e;
};

const run = async (e: TestEnv, id: number) => (await e.call("GET", `/api/v1/runs/${id}`)).body;

test("a node with process jobs turned off never claims them; one with them on runs them; with none left, they wait and say why", async () => {
  const a = await start("http-only", false);
  const b = await start("with-processes", true);
  // Jobs are written through b (a would refuse process targets: its config turns them off).
  expect((await b.call("PUT", "/api/v1/namespaces/m/jobs/true", { overlap: "allow", target: { process: { command: ["/bin/true"] } } })).status).toBe(201);
  expect((await b.call("PUT", "/api/v1/namespaces/m/jobs/sh", { overlap: "allow", target: { script: { language: "shell", content: "exit 0" } } })).status).toBe(201);
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) {
    // Triggered through a: the run is queued for any node, and only b may take it.
    ids.push((await a.call("POST", "/api/v1/namespaces/m/jobs/true/trigger")).body.id);
    ids.push((await a.call("POST", "/api/v1/namespaces/m/jobs/sh/trigger")).body.id);
  }
  await waitUntil(async () => (await Promise.all(ids.map((id) => run(a, id)))).every((r) => r.status === "succeeded"), "every run succeeded");
  for (const id of ids) expect((await run(a, id)).node).toBe("with-processes");

  // Nodes list what each can run: kinds, and script languages whose interpreter is here (not "ghost").
  const nodes = (await a.call("GET", "/api/v1/nodes")).body.items;
  const byId = Object.fromEntries(nodes.map((n: { id: string }) => [n.id, n]));
  expect(byId["http-only"]).toMatchObject({ executors: ["http", "tcp"], scriptLanguages: [] });
  expect(byId["with-processes"].executors).toEqual(["http", "tcp", "process", "script"]); // no container: its CLI is missing
  expect(byId["with-processes"].scriptLanguages).toContain("shell");
  expect(byId["with-processes"].scriptLanguages).not.toContain("ghost");

  // A script whose interpreter no node has, and a container job (no node has the CLI): they wait, saying why.
  expect((await b.call("PUT", "/api/v1/namespaces/m/jobs/ghost", { target: { script: { language: "ghost", content: "x" } } })).status).toBe(201);
  const ghost = (await a.call("POST", "/api/v1/namespaces/m/jobs/ghost/trigger")).body.id;
  // b stops: process runs are left to nobody.
  await b.close();
  await waitUntil(async () => (await a.call("GET", "/api/v1/nodes")).body.items.length === 1, "b gone");
  const waiting = (await a.call("POST", "/api/v1/namespaces/m/jobs/true/trigger")).body.id;
  await a.deps.scheduler.tick();
  await a.deps.scheduler.idle();
  const r = await run(a, waiting);
  expect(r.status).toBe("queued");
  expect(r.waiting).toBe("no live node can run process jobs: each needs [executors.process] enabled");
  expect((await run(a, ghost)).waiting).toMatch(/^no live node can run script jobs in "ghost": each needs/);
  const listed = (await a.call("GET", "/api/v1/namespaces/m/jobs/true/runs?status=queued")).body.items;
  expect(listed.map((x: { id: number; waiting: string }) => [x.id, x.waiting])).toEqual([[waiting, r.waiting]]);

  // A node that can run them joins: they run, and nothing says waiting any more.
  const c = await start("with-processes-2", true);
  await waitUntil(async () => (await run(c, waiting)).status === "succeeded", "the waiting run ran on the new node");
  expect((await run(c, waiting)).waiting).toBeUndefined();
  expect((await run(c, ghost)).status).toBe("queued"); // still nobody with that interpreter
}, 60_000);

test("a recurring job's due slot that no live node can run is not taken, and the job says why", async () => {
  const [a] = envs;
  const c = envs[envs.length - 1];
  expect((await c.call("PUT", "/api/v1/namespaces/m/jobs/every", { schedule: "@every 1s", target: { process: { command: ["/bin/true"] } } })).status).toBe(201);
  await waitUntil(async () => (await c.call("GET", "/api/v1/namespaces/m/jobs/every/runs")).body.items.some((x: { status: string }) => x.status === "succeeded"), "it runs on c");
  expect((await a.call("GET", "/api/v1/namespaces/m/jobs/every")).body.waiting).toBeUndefined();
  await c.close();
  await waitUntil(async () => (await a.call("GET", "/api/v1/namespaces/m/jobs/every")).body.waiting !== undefined, "the job says why", 10_000);
  expect((await a.call("GET", "/api/v1/namespaces/m/jobs/every")).body.waiting).toBe("no live node can run process jobs: each needs [executors.process] enabled");
  const runs = (await a.call("GET", "/api/v1/namespaces/m/jobs/every/runs")).body.items;
  expect(runs.some((x: { nodeId: string | null }) => x.nodeId === "http-only")).toBe(false); // a never took one
}, 30_000);
