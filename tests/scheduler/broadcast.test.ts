// Broadcast jobs: each slot runs once on every live node that can run it, one run per node, grouped by
// slot; a node that is gone before its run starts has that run end skipped, and never holds up the others.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type TestEnv, tempDir, testEnv, waitUntil, withProcesses } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-broadcast-");
const envs: TestEnv[] = [];
beforeAll(async () => {
  for (const nodeId of ["b1", "b2", "b3"]) {
    const e = await testEnv({ dir, start: true, config: { scheduler: { nodeId, pollInterval: 100, lookahead: 2000, heartbeat: 200, nodeTimeout: 1000 }, executors: withProcesses() } });
    envs.push(e);
  }
  // Each node has seen the others' heartbeats (nodes register as they start).
  await waitUntil(async () => (await envs[0].call("GET", "/api/v1/nodes")).body.items.length === 3, "three nodes");
});
afterAll(async () => {
  for (const e of envs) await e.close();
  cleanup();
});

type Run = { id: number; scheduledAt: string; status: string; node: string | null; forNode: string | null; nodeId: string | null; error: string | null };
const runsOf = async (name: string): Promise<Run[]> => (await envs[0].call("GET", `/api/v1/namespaces/b/jobs/${name}/runs`)).body.items;

test("a broadcast job's slot runs once on every live node: one run per node, each for and on its node", async () => {
  const [a] = envs;
  const dueTime = new Date(Date.now() + 1500).toISOString();
  const put = await a.call("PUT", "/api/v1/namespaces/b/jobs/everywhere", { dueTime, broadcast: true, target: { process: { command: ["/bin/true"] } } });
  expect(put.status).toBe(201);
  expect(put.body.broadcast).toBe(true);
  await waitUntil(async () => (await runsOf("everywhere")).filter((r) => r.status === "succeeded").length === 3, "three runs succeeded");
  const runs = await runsOf("everywhere");
  expect(runs).toHaveLength(3);
  expect(new Set(runs.map((r) => r.scheduledAt)).size).toBe(1); // one slot
  expect(runs.map((r) => r.forNode).sort()).toEqual(["b1", "b2", "b3"]);
  for (const r of runs) expect(r.node).toBe(r.forNode);
  expect(new Set(runs.map((r) => r.id)).size).toBe(3);
});

test("a recurring broadcast job: every slot on every node, each node's runs in turn (its overlap holds per node)", async () => {
  const [a] = envs;
  expect((await a.call("PUT", "/api/v1/namespaces/b/jobs/tick", { schedule: "@every 1s", broadcast: true, target: { script: { language: "shell", content: "sleep 0.2" } } })).status).toBe(201);
  await waitUntil(async () => {
    const done = (await runsOf("tick")).filter((r) => r.status === "succeeded");
    return new Set(done.map((r) => r.scheduledAt)).size >= 3 && done.length >= 9;
  }, "three slots on three nodes");
  await a.call("POST", "/api/v1/namespaces/b/jobs/tick/pause");
  const runs = await runsOf("tick");
  const bySlot = new Map<string, Run[]>();
  for (const r of runs) bySlot.set(r.scheduledAt, [...(bySlot.get(r.scheduledAt) ?? []), r]);
  for (const [, slot] of bySlot) {
    expect(new Set(slot.map((r) => r.forNode)).size).toBe(slot.length); // never two runs for one node
    for (const r of slot) if (r.status === "succeeded") expect(r.node).toBe(r.forNode);
  }
  // Listed newest slot first, the runs of one slot together, and a page boundary inside a slot loses nothing.
  const all: Run[] = [];
  let cursor = "";
  for (;;) {
    const page = (await a.call("GET", `/api/v1/namespaces/b/jobs/tick/runs?limit=2${cursor ? `&cursor=${cursor}` : ""}`)).body;
    all.push(...page.items);
    if (!page.nextCursor) break;
    cursor = encodeURIComponent(page.nextCursor);
  }
  expect(all.map((r) => r.id)).toEqual(runs.map((r) => r.id));
  const slots = all.map((r) => r.scheduledAt);
  expect(slots).toEqual([...slots].sort().reverse());
});

test("a trigger of a broadcast job queues a run for every live node; each runs on its node", async () => {
  const [a] = envs;
  expect((await a.call("PUT", "/api/v1/namespaces/b/jobs/manual", { broadcast: true, target: { process: { command: ["/bin/true"] } } })).status).toBe(201);
  const t = await a.call("POST", "/api/v1/namespaces/b/jobs/manual/trigger");
  expect(t.status).toBe(202);
  expect(t.body.broadcastRuns.map((r: { forNode: string }) => r.forNode).sort()).toEqual(["b1", "b2", "b3"]);
  expect(t.body.id).toBe(t.body.broadcastRuns[0].id);
  await waitUntil(async () => (await runsOf("manual")).filter((r) => r.status === "succeeded").length === 3, "three runs succeeded");
  for (const r of await runsOf("manual")) expect(r.node).toBe(r.forNode);
});

test("broadcast is for process, script and container jobs: on an http job it is refused naming the field", async () => {
  const r = await envs[0].call("PUT", "/api/v1/namespaces/b/jobs/web", { schedule: "@every 1h", broadcast: true, target: { http: { url: "http://127.0.0.1:9/" } } });
  expect(r.status).toBe(400);
  expect(r.body.error.field).toBe("broadcast");
  expect((await envs[0].call("GET", "/api/v1/namespaces/b/jobs/web")).status).toBe(404);
});

test("a node that stops before its run starts: its run ends skipped, the other nodes' runs go on", async () => {
  const [a, , c] = envs;
  // Due well after c has stopped, however busy the machine.
  const dueTime = new Date(Date.now() + 5000).toISOString();
  expect((await a.call("PUT", "/api/v1/namespaces/b/jobs/later", { dueTime, broadcast: true, target: { process: { command: ["/bin/true"] } } })).status).toBe(201);
  await waitUntil(async () => (await runsOf("later")).length === 3, "a run for each node");
  await c.close();
  await waitUntil(async () => {
    const runs = await runsOf("later");
    return runs.filter((r) => r.status === "succeeded").length === 2 && runs.some((r) => r.status === "skipped");
  }, "two ran, one skipped");
  const skipped = (await runsOf("later")).find((r) => r.status === "skipped")!;
  expect(skipped).toMatchObject({ forNode: "b3", error: "broadcast: node b3 left before this run started" });
}, 30_000);
