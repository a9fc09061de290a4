// Stopping is idempotent and bounded: runs in flight get the shutdown grace (time on the scheduler's clock,
// moved here by a TestClock), the rest are released for the next start or another node.
import { afterAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, testEnv } from "../helpers.ts";

/** Requests are answered only when the test releases their path. */
const answers = new Map<string, () => void>();
const sink = startSink((req) => new Promise((resolve) => answers.set(req.path, () => resolve(new Response("ok")))));
afterAll(() => {
  for (const answer of answers.values()) answer();
  sink.stop();
});

/** A few turns of the event loop: time for anything already set off to happen. */
const settle = () => new Promise((r) => setTimeout(r, 20));

test("stop lets runs finish within the grace, releases the rest as lost with a recovery queued, and is idempotent", async () => {
  const clock = new TestClock();
  const env = await testEnv({ clock, config: { scheduler: { shutdownGrace: 5_000 } }, start: true });
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
  await sink.waitFor(2);

  const a = env.deps.scheduler.stop();
  const b = env.deps.scheduler.stop();
  expect(a).toBe(b);
  let stopped = false;
  void a.then(() => (stopped = true));
  expect(env.deps.scheduler.running).toBe(false);

  // A run that ends within the grace is recorded as it ended.
  const quickEnded = env.deps.scheduler.events.next("run:finished", (e) => e.jobName === "quick");
  answers.get("/quick")!();
  await quickEnded;
  clock.advance(4_999);
  await settle();
  expect(stopped).toBe(false); // the slow run still has its grace…
  clock.advance(1);
  await a; // …and not a moment more

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

test("stop returns at once when nothing is in flight, whatever the grace", async () => {
  const clock = new TestClock();
  const env = await testEnv({ clock, config: { scheduler: { shutdownGrace: 30_000 } }, start: true });
  await env.deps.scheduler.stop(); // the clock never moves: only an empty runner lets this return
  expect(env.deps.scheduler.running).toBe(false);
  await env.close();
});
