// Advancing an instance from what is stored, whoever does it: an end written by a node that died before
// advancing is advanced by another node's poll, and two advances at once start each step once.
import { expect, test } from "bun:test";
import { advanceInstance } from "../../src/domain/workflow-instances.ts";
import { read, write } from "../../src/store/sql.ts";
import { testEnv } from "../helpers.ts";

const http = (id: string, parents: string[] = []) => ({ id, dependsOn: parents, target: { http: { url: `http://127.0.0.1:9/${id}` } } });

test("a step's end that no node advanced (its node died at once) is advanced by the next poll of another", async () => {
  const env = await testEnv({ config: { scheduler: { pollInterval: 60_000 } } });
  try {
    await env.call("PUT", "/api/v1/namespaces/a/workflows/w", { steps: [http("first"), http("second", ["first"])] });
    const inst = (await env.call("POST", "/api/v1/namespaces/a/workflows/w/trigger")).body;
    // The first step's run ends as a node would record it, and that node dies before advancing.
    await write(env.deps.store, [{ sql: "UPDATE runs SET status = 'succeeded', started_at = 1, ended_at = 2, result = '{\"status\":200}' WHERE id = ?", args: [inst.steps[0].runId] }]);
    const [row] = await read(env.deps.store, { sql: "SELECT seq, advanced FROM workflow_instances WHERE id = ?", args: [inst.id] });
    expect(Number(row.seq)).toBeGreaterThan(Number(row.advanced));
    await env.deps.scheduler.start(); // its first claim cycle advances what is left
    const after = (await env.call("GET", `/api/v1/workflow-instances/${inst.id}`)).body;
    expect(after.steps.map((s: any) => s.status)).toEqual(["succeeded", "running"]);
    const [done] = await read(env.deps.store, { sql: "SELECT seq, advanced FROM workflow_instances WHERE id = ?", args: [inst.id] });
    expect(Number(done.advanced)).toBe(Number(done.seq));
  } finally {
    await env.close();
  }
});

test("advances of one instance at once (two nodes seeing one end) start each step once", async () => {
  const env = await testEnv();
  try {
    await env.call("PUT", "/api/v1/namespaces/a/workflows/fan", { steps: [http("root"), http("x", ["root"]), http("y", ["root"]), http("z", ["x", "y"])] });
    const inst = (await env.call("POST", "/api/v1/namespaces/a/workflows/fan/trigger")).body;
    await write(env.deps.store, [{ sql: "UPDATE runs SET status = 'succeeded', started_at = 1, ended_at = 2 WHERE id = ?", args: [inst.steps[0].runId] }]);
    await Promise.all([advanceInstance(env.deps, inst.id), advanceInstance(env.deps, inst.id), advanceInstance(env.deps, inst.id)]);
    const runs = await read(env.deps.store, { sql: "SELECT step_id, count(*) AS n FROM runs WHERE instance_id = ? GROUP BY step_id ORDER BY step_id", args: [inst.id] });
    expect(runs.map((r) => [r.step_id, Number(r.n)])).toEqual([["root", 1], ["x", 1], ["y", 1]]);
    const view = (await env.call("GET", `/api/v1/workflow-instances/${inst.id}`)).body;
    expect(view.steps.map((s: any) => s.status)).toEqual(["succeeded", "running", "running", "waiting"]);
  } finally {
    await env.close();
  }
});
