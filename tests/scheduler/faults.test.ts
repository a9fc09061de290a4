// Faults: runs are never stranded by a failed write, retries follow the job, and a
// changed job or a stopping node does not start runs it should not.
import { afterAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { pauseJob, putJob, removeJob, resumeJob, triggerJob } from "../../src/domain/jobs.ts";
import { MARK_LEAD_MS } from "../../src/scheduler/dispatch.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, testEnv, waitUntil } from "../helpers.ts";

const ok = startSink();
let failing = true;
const flaky = startSink(async (req) => {
  if (req.path === "/slow") await new Promise((r) => setTimeout(r, 300));
  return new Response(failing ? "down" : "up", { status: failing ? 500 : 200 });
});
afterAll(() => {
  ok.stop();
  flaky.stop();
});

// Retries 100 ms apart are allowed here (min_every bounds retry intervals too).
const fast = { pollInterval: 50, lease: 600, minEvery: 100 };
const rows = (env: Awaited<ReturnType<typeof testEnv>>, name: string) =>
  read(env.deps.store, { sql: "SELECT id, status, trigger, attempt, node_id FROM runs WHERE job_name = ? ORDER BY id", args: [name] });

test("a run whose marking failed is not stranded: its lease lapses and it fires", async () => {
  let failures = 1;
  const env = await testEnv({ config: { scheduler: fast }, start: true, failWrite: (sql) => sql.includes("SET status = 'running'") && failures-- > 0 });
  await putJob(env.deps, "ns", "m", { target: { http: { url: `${ok.url}/m` } } });
  await triggerJob(env.deps, "ns", "m");
  await waitUntil(async () => (await rows(env, "m"))[0]?.status === "succeeded", "the run to fire after its lease lapsed", 5000);
  expect(ok.requests.filter((r) => r.path === "/m")).toHaveLength(1);
  await env.close();
});

test("a run whose end could not be recorded is recovered, not left running", async () => {
  let failures = 1;
  const env = await testEnv({ config: { scheduler: fast }, start: true, failWrite: (sql) => sql.includes("UPDATE runs SET ended_at = e.ended_at") && failures-- > 0 });
  await putJob(env.deps, "ns", "e", { target: { http: { url: `${ok.url}/e` } } });
  await triggerJob(env.deps, "ns", "e");
  await waitUntil(async () => (await rows(env, "e")).some((r) => r.trigger === "recovery" && r.status === "succeeded"), "recovery", 5000);
  expect((await rows(env, "e")).map((r) => [r.status, r.trigger])).toEqual([
    ["lost", "manual"],
    ["succeeded", "recovery"],
  ]);
  await env.close();
});

test("a retry due beyond the lookahead is left in the queue for any node, not held in memory", async () => {
  failing = true;
  const env = await testEnv({ config: { scheduler: { ...fast, lookahead: 1000 } }, start: true });
  await putJob(env.deps, "ns", "far", { retry: { times: 1, interval: "1h" }, target: { http: { url: flaky.url } } });
  await triggerJob(env.deps, "ns", "far");
  await waitUntil(async () => (await rows(env, "far")).length === 2, "the retry row");
  const [, retry] = await rows(env, "far");
  expect(retry).toMatchObject({ status: "queued", trigger: "retry", node_id: null });
  expect(env.deps.scheduler.stats.held).toBe(0);
  await env.close();
});

test("a job removed, paused or replaced while its run is in flight is not retried", async () => {
  failing = true;
  const env = await testEnv({ config: { scheduler: fast }, start: true });
  const retry = { times: 3, interval: "100ms", backoff: "fixed" };
  for (const name of ["del", "pause", "replace"]) await putJob(env.deps, "ns", name, { retry, target: { http: { url: `${flaky.url}/slow` } } });
  const started = ["del", "pause", "replace"].map((n) => env.deps.scheduler.events.next("run:started", (e) => e.jobName === n));
  for (const name of ["del", "pause", "replace"]) await triggerJob(env.deps, "ns", name);
  await Promise.all(started);
  await removeJob(env.deps, "ns", "del");
  await pauseJob(env.deps, "ns", "pause");
  await putJob(env.deps, "ns", "replace", { retry, target: { http: { url: `${ok.url}/new` } } });
  await env.deps.scheduler.idle();
  await new Promise((r) => setTimeout(r, 400)); // a retry would be due within 100 ms
  expect(flaky.requests.filter((r) => r.path === "/slow")).toHaveLength(3);
  for (const name of ["pause", "replace"]) expect((await rows(env, name)).map((r) => r.trigger)).toEqual(["manual"]);
  await env.close();
});

test("a held retry of a paused job fires after the job is resumed", async () => {
  failing = true;
  const env = await testEnv({ config: { scheduler: fast }, start: true });
  await putJob(env.deps, "ns", "r", { retry: { times: 1, interval: "200ms", backoff: "fixed" }, target: { http: { url: flaky.url } } });
  await pauseJob(env.deps, "ns", "r");
  await triggerJob(env.deps, "ns", "r"); // a paused job may still be triggered
  await waitUntil(async () => (await rows(env, "r")).length === 2, "the retry row");
  failing = false;
  await resumeJob(env.deps, "ns", "r");
  await waitUntil(async () => (await rows(env, "r"))[1]?.status === "succeeded", "the retry to fire", 5000);
  await env.close();
});

/**
 * A node on a test clock with a run of job `name` due in 3 s, claimed, then marked running a little before it
 * is due (the clock stands there: the run cannot start until it is moved on, however slow the machine).
 */
async function markedNotStarted(name: string, scheduler: Partial<typeof fast> & { shutdownGrace?: number } = {}) {
  const clock = new TestClock(Date.now());
  // (Leases long enough that moving the clock lets none lapse.)
  const env = await testEnv({ clock, config: { scheduler: { ...fast, lease: 60_000, ...scheduler } }, start: true });
  const due = clock.now() + 3000;
  const ready = env.deps.scheduler.events.next("run:ready", (e) => e.jobName === name);
  await putJob(env.deps, "ns", name, { dueTime: new Date(due).toISOString(), target: { http: { url: `${ok.url}/${name}` } } });
  await env.deps.scheduler.tick();
  clock.set(due - MARK_LEAD_MS);
  await ready;
  return { env, clock, due };
}

test("pausing a job stops a run already marked running that has not started", async () => {
  const { env, clock, due } = await markedNotStarted("p");
  await pauseJob(env.deps, "ns", "p");
  clock.set(due + 200);
  await env.deps.scheduler.idle();
  expect(ok.requests.filter((r) => r.path === "/p")).toHaveLength(0);
  expect((await rows(env, "p"))[0].status).toBe("skipped");
  await env.close();
});

test("stopping starts nothing more, and puts runs marked but not started back in the queue", { timeout: 15_000 }, async () => {
  const { env, clock, due } = await markedNotStarted("later", { shutdownGrace: 1000 });
  const stopped = env.deps.scheduler.stop();
  clock.set(due + 1200); // past the due time and the grace
  await stopped;
  expect(ok.requests.filter((r) => r.path === "/later")).toHaveLength(0);
  expect((await rows(env, "later"))[0]).toMatchObject({ status: "queued", node_id: null });
  await env.close();
});

test("resuming a job keeps the retries of a run in flight", async () => {
  failing = true;
  const env = await testEnv({ config: { scheduler: fast }, start: true });
  await putJob(env.deps, "ns", "rr", { retry: { times: 1, interval: "100ms", backoff: "fixed" }, target: { http: { url: `${flaky.url}/slow` } } });
  await pauseJob(env.deps, "ns", "rr");
  const started = env.deps.scheduler.events.next("run:started", (e) => e.jobName === "rr");
  await triggerJob(env.deps, "ns", "rr");
  await started;
  await resumeJob(env.deps, "ns", "rr"); // while the run is in flight; it then fails
  await waitUntil(async () => (await rows(env, "rr")).length === 2, "the retry row", 5000);
  expect((await rows(env, "rr")).map((r) => r.trigger)).toEqual(["manual", "retry"]);
  await env.close();
});
