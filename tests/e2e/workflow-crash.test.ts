// A node killed (kill -9) in the middle of workflow instances, on a database file shared with another node:
// the other node finishes every instance, and no step of any instance runs as a second run of its own (a
// step in flight at the kill is recovered like any run: lost, then its recovery attempt, same webhook-id).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../src/store/client.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-wf-crash-");
const procs: Proc[] = [];
// Each step's call takes a moment, so that the kill lands with steps in flight and steps between.
const sink = startSink(async () => {
  await new Promise((r) => setTimeout(r, 30));
  return new Response("ok");
});
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

const node = async (id: string) => {
  const p = await startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
    cwd: dir,
    env: {
      TOCK_DATABASE_URL: `file:${join(dir, "wf.db")}`,
      TOCK_SCHEDULER_NODE_ID: id,
      TOCK_SCHEDULER_POLL_INTERVAL: "100ms",
      TOCK_SCHEDULER_HEARTBEAT: "200ms",
      TOCK_SCHEDULER_NODE_TIMEOUT: "1s",
    },
  });
  procs.push(p);
  return p;
};

test("kill -9 of a node mid-instance: the other node finishes every instance, each step once", async () => {
  const n1 = await node("n1");
  const n2 = await node("n2");
  const step = (id: string, after?: string) => ({ id, ...(after ? { dependsOn: [after] } : {}), target: { http: { url: `${sink.url}/wf/${id}` } } });
  const put = await api(n1.url, "PUT", "/api/v1/namespaces/c/workflows/chain", { overlap: "allow", steps: [step("a"), step("b", "a"), step("c", "b"), step("d", "c")] });
  expect(put.status).toBe(201);
  const N = 20;
  const ids: number[] = [];
  for (let i = 0; i < N; i++) ids.push((await api(i % 2 ? n2.url : n1.url, "POST", "/api/v1/namespaces/c/workflows/chain/trigger")).body.id);
  // Killed once about a third of the steps have been called.
  await waitUntil(() => sink.requests.length >= (N * 4) / 3, "a third of the steps called");
  n1.child.kill("SIGKILL");
  await n1.exited;

  const store = await openStore({ url: `file:${join(dir, "wf.db")}` }, { migrate: false });
  try {
    await waitUntil(async () => (await read(store, "SELECT count(*) AS n FROM workflow_instances WHERE status = 'succeeded'"))[0].n === N, "every instance succeeded", 30_000);
    // Every step of every instance has exactly one run that succeeded, and its runs are one slot (one key).
    const steps = await read(store, `SELECT instance_id, step_id, count(*) AS runs, sum(status = 'succeeded') AS ok, count(DISTINCT coalesce(key, id)) AS keys
                                     FROM runs WHERE instance_id != 0 GROUP BY instance_id, step_id`);
    expect(steps.length).toBe(N * 4);
    for (const s of steps) expect({ step: `${s.instance_id}/${s.step_id}`, ok: Number(s.ok), keys: Number(s.keys) }).toEqual({ step: `${s.instance_id}/${s.step_id}`, ok: 1, keys: 1 });
    // At the receiver: one webhook-id per step of each instance; a step called twice was in flight at the kill.
    const byKey = new Map<string, number>();
    for (const r of sink.requests) byKey.set(r.headers["webhook-id"], (byKey.get(r.headers["webhook-id"]) ?? 0) + 1);
    expect(byKey.size).toBe(N * 4);
    const twice = [...byKey.values()].filter((n) => n > 1).length;
    const lost = Number((await read(store, "SELECT count(*) AS n FROM runs WHERE instance_id != 0 AND status = 'lost'"))[0].n);
    expect(twice).toBeLessThanOrEqual(lost);
    // Each child started after its parent ended.
    const order = await read(store, `SELECT c.started_at AS child, p.ended_at AS parent FROM runs c JOIN runs p ON p.instance_id = c.instance_id AND p.status = 'succeeded'
                                       AND p.step_id = CASE c.step_id WHEN 'b' THEN 'a' WHEN 'c' THEN 'b' WHEN 'd' THEN 'c' END WHERE c.instance_id != 0 AND c.status = 'succeeded'`);
    expect(order.length).toBe(N * 3);
    for (const o of order) expect(Number(o.child)).toBeGreaterThanOrEqual(Number(o.parent));
    for (const id of ids) expect((await api(n2.url, "GET", `/api/v1/workflow-instances/${id}`)).body.status).toBe("succeeded");
  } finally {
    store.close();
    n2.child.kill("SIGTERM");
    await n2.exited;
  }
}, 60_000);
