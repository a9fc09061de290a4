// Overlap forbid holds across nodes: a run is not started while the job runs on another node.
import { afterAll, expect, test } from "bun:test";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, tempDir, testEnv, waitUntil } from "../helpers.ts";

const sink = startSink(async () => {
  await new Promise((r) => setTimeout(r, 600));
  return new Response("ok");
});
const { dir, cleanup } = tempDir();
afterAll(() => {
  sink.stop();
  cleanup();
});

test("a run claimed by one node while the job runs on another is skipped (overlap forbid)", async () => {
  const a = await testEnv({ dir, config: { scheduler: { nodeId: "node-a", pollInterval: 60_000 } } });
  const b = await testEnv({ dir, config: { scheduler: { nodeId: "node-b", pollInterval: 60_000 } } });
  await a.deps.scheduler.start();
  await putJob(a.deps, "ns", "j", { target: { http: { url: sink.url } } });
  const started = a.deps.scheduler.events.next("run:started", (e) => e.jobName === "j");
  await triggerJob(a.deps, "ns", "j");
  await a.deps.scheduler.tick();
  await started;
  await b.deps.scheduler.start(); // its first claim takes the second trigger's run
  const second = await triggerJob(b.deps, "ns", "j");
  await b.deps.scheduler.tick();
  await waitUntil(async () => (await read(b.deps.store, { sql: "SELECT status FROM runs WHERE id = ?", args: [second.id] }))[0]?.status !== "queued", "node b to decide");
  const rows = await read(b.deps.store, "SELECT id, status, node_id, error FROM runs ORDER BY id");
  expect(rows.map((r) => [r.node_id, r.status])).toEqual([
    ["node-a", "running"],
    ["node-b", "skipped"],
  ]);
  expect(String(rows[1].error)).toContain("another node");
  await a.deps.scheduler.idle();
  expect(sink.requests).toHaveLength(1);
  await b.close();
  await a.close();
});
