// Stopping is idempotent and bounded (STYLE rule 10): runs in flight get the grace period, the rest are
// released for the next start or another node.
import { afterAll, expect, test } from "bun:test";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, testEnv } from "../helpers.ts";

const sink = startSink(async (req) => {
  await new Promise((r) => setTimeout(r, req.path === "/quick" ? 100 : 2_000));
  return new Response("ok");
});
afterAll(() => sink.stop());

test("stop lets runs finish within the grace, releases the rest as lost with a recovery queued, and is idempotent", async () => {
  const env = await testEnv({ config: { scheduler: { shutdownGrace: 400, pollInterval: 50 } }, start: true });
  await putJob(env.deps, "ns", "quick", { target: { http: { url: `${sink.url}/quick` } } });
  await putJob(env.deps, "ns", "slow", { target: { http: { url: `${sink.url}/slow` } } });
  await putJob(env.deps, "ns", "later", { dueTime: "1h", target: { http: { url: `${sink.url}/later` } } });
  const started = Promise.all([
    env.deps.scheduler.events.next("run:started", (e) => e.jobName === "quick"),
    env.deps.scheduler.events.next("run:started", (e) => e.jobName === "slow"),
  ]);
  await triggerJob(env.deps, "ns", "quick");
  await triggerJob(env.deps, "ns", "slow");
  await started;

  const t0 = Date.now();
  const a = env.deps.scheduler.stop();
  const b = env.deps.scheduler.stop();
  expect(a).toBe(b);
  await a;
  const took = Date.now() - t0;
  expect(took).toBeGreaterThanOrEqual(350); // waited for the grace…
  expect(took).toBeLessThan(1_900); // …not for the slow run
  expect(env.deps.scheduler.running).toBe(false);

  const runs = await read(env.deps.store, "SELECT job_name, status, trigger, attempt, node_id FROM runs ORDER BY id");
  expect(runs.map((r) => [r.job_name, r.status, r.trigger, r.attempt])).toEqual([
    ["quick", "succeeded", "manual", 1],
    ["slow", "lost", "manual", 1],
    ["slow", "queued", "recovery", 2],
  ]);
  expect(runs[2].node_id).toBeNull(); // released: any node may take it
  const [node] = await read(env.deps.store, "SELECT count(*) AS n FROM nodes");
  expect(node.n).toBe(0);
  await env.close();
});
