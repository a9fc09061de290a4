// Retries, timeouts, overlap and TCP acknowledgements through the real scheduler and real servers.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { TestClock } from "../../src/clock.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, startTcpServer, type TestEnv, testEnv } from "../helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
let env: TestEnv;
let clock: TestClock;
beforeEach(async () => {
  clock = new TestClock(T0);
  env = await testEnv({ clock, config: { scheduler: { lookahead: 2000, defaultRetry: { times: 0, interval: 1000, backoff: "fixed", maxInterval: 60_000, jitter: 0 } } } });
  await env.deps.scheduler.start();
});
afterEach(() => env.close());

const runsOf = (name: string) =>
  read(env.deps.store, { sql: "SELECT * FROM runs WHERE job_name = ? ORDER BY id", args: [name] });

async function moveTo(at: number) {
  clock.set(at);
  await env.deps.scheduler.tick();
  await env.deps.scheduler.idle();
}

describe("retries", () => {
  const flaky = startSink((_req, n) => new Response(n <= 2 ? "down" : "ok", { status: n <= 2 ? 500 : 200 }));
  afterAll(() => flaky.stop());

  test("a failing callback is retried with backoff until it succeeds; every attempt shares the webhook-id", async () => {
    flaky.requests.length = 0;
    await putJob(env.deps, "ns", "flaky", {
      dueTime: "10s",
      retry: { times: 3, interval: "2s", backoff: "exponential" },
      target: { http: { url: `${flaky.url}/x` } },
    });
    await moveTo(T0 + 10_000); // attempt 1 fails (500)
    await moveTo(T0 + 11_999); // the retry is due 2s later: not yet
    expect(flaky.requests).toHaveLength(1);
    await moveTo(T0 + 12_000); // attempt 2 fails
    await moveTo(T0 + 15_999); // exponential: 4s after attempt 2
    expect(flaky.requests).toHaveLength(2);
    await moveTo(T0 + 16_000); // attempt 3 succeeds
    const runs = await runsOf("flaky");
    expect(runs.map((r) => [r.attempt, r.trigger, r.status])).toEqual([
      [1, "schedule", "failed"],
      [2, "retry", "failed"],
      [3, "retry", "succeeded"],
    ]);
    expect(runs.every((r) => Number(r.scheduled_at) === T0 + 10_000)).toBe(true);
    const ids = new Set(flaky.requests.map((r) => r.headers["webhook-id"]));
    expect([...ids]).toEqual([String(runs[0].id)]);
    expect(JSON.parse(String(runs[0].result))).toMatchObject({ status: 500, body: "down" });
    expect(runs[0].error).toBe("HTTP 500");
  });

  test("Retry-After on 429 is honoured within the retry budget", async () => {
    const busy = startSink((_r, n) => (n === 1 ? new Response("slow down", { status: 429, headers: { "retry-after": "7" } }) : new Response("ok")));
    await putJob(env.deps, "ns", "busy", { dueTime: "1s", retry: { times: 1, interval: "1s" }, target: { http: { url: busy.url } } });
    await moveTo(T0 + 1_000);
    await moveTo(T0 + 7_999);
    expect(busy.requests).toHaveLength(1);
    await moveTo(T0 + 8_000);
    expect(busy.requests).toHaveLength(2);
    busy.stop();
  });

  test("a 3xx is not followed and fails the attempt", async () => {
    const redirect = startSink(() => new Response(null, { status: 302, headers: { location: "http://127.0.0.1:9/" } }));
    await putJob(env.deps, "ns", "redir", { dueTime: "1s", target: { http: { url: redirect.url } } });
    await moveTo(T0 + 1_000);
    const [run] = await runsOf("redir");
    expect(run).toMatchObject({ status: "failed", error: "redirect 302 not followed" });
    expect(redirect.requests).toHaveLength(1);
    redirect.stop();
  });
});

describe("timeouts and overlap", () => {
  const slow = startSink(async () => {
    await new Promise((r) => setTimeout(r, 400));
    return new Response("late");
  });
  afterAll(() => slow.stop());

  test("an attempt ends timed_out once its timeout has passed on the clock, not before", async () => {
    let answer!: () => void;
    const held = startSink(() => new Promise((resolve) => (answer = () => resolve(new Response("late")))));
    await putJob(env.deps, "ns", "held", { dueTime: "1s", timeout: "10s", target: { http: { url: held.url } } });
    const started = env.deps.scheduler.events.next("run:started", (e) => e.jobName === "held");
    clock.set(T0 + 1_000);
    await env.deps.scheduler.tick();
    await started;
    await held.waitFor(1);
    let finished = false;
    const ended = env.deps.scheduler.events.next("run:finished", (e) => e.jobName === "held").then(() => (finished = true));
    clock.advance(9_999);
    await new Promise((r) => setTimeout(r, 20)); // time for an abort, had there been one, to be recorded
    expect(finished).toBe(false);
    clock.advance(1);
    await ended;
    const [run] = await runsOf("held");
    expect(run).toMatchObject({ status: "timed_out", error: "timed out after 10000 ms" });
    answer();
    held.stop();
  });

  test("overlap forbid skips a run while the previous one is in flight; allow runs both", async () => {
    await putJob(env.deps, "ns", "forbid", { target: { http: { url: slow.url } } });
    await putJob(env.deps, "ns", "allow", { overlap: "allow", target: { http: { url: slow.url } } });
    for (const name of ["forbid", "allow"]) {
      await triggerJob(env.deps, "ns", name);
      await env.deps.scheduler.tick();
      await triggerJob(env.deps, "ns", name);
      await env.deps.scheduler.tick();
    }
    await env.deps.scheduler.idle();
    expect((await runsOf("forbid")).map((r) => r.status)).toEqual(["succeeded", "skipped"]);
    expect((await runsOf("allow")).map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
  });

  test("overlap queue runs the second after the first; replace kills the first", async () => {
    await putJob(env.deps, "ns", "queue", { overlap: "queue", target: { http: { url: slow.url } } });
    await putJob(env.deps, "ns", "replace", { overlap: "replace", target: { http: { url: slow.url } } });
    for (const name of ["queue", "replace"]) {
      await triggerJob(env.deps, "ns", name);
      await env.deps.scheduler.tick();
      await triggerJob(env.deps, "ns", name);
      await env.deps.scheduler.tick();
    }
    await env.deps.scheduler.idle();
    const q = await runsOf("queue");
    expect(q.map((r) => r.status)).toEqual(["succeeded", "succeeded"]);
    expect(Number(q[1].started_at)).toBeGreaterThanOrEqual(Number(q[0].ended_at));
    const r = await runsOf("replace");
    expect(r.map((x) => x.status)).toEqual(["killed", "succeeded"]);
    expect(String(r[0].error)).toContain(`replaced by run ${r[1].id}`);
  });
});

describe("TCP", () => {
  test("succeeds when the peer answers the ack, fails on another answer", async () => {
    const good = await startTcpServer({ expect: 5, reply: (d) => (d.toString() === "hello" ? Buffer.from("ok") : Buffer.from("no")) });
    await putJob(env.deps, "ns", "tcp-ok", { dueTime: "1s", target: { tcp: { addr: `127.0.0.1:${good.port}`, body: btoa("hello"), ack: btoa("ok") } } });
    await putJob(env.deps, "ns", "tcp-bad", { dueTime: "1s", target: { tcp: { addr: `127.0.0.1:${good.port}`, body: btoa("HELLO"), ack: btoa("ok") } } });
    await putJob(env.deps, "ns", "tcp-noack", { dueTime: "1s", target: { tcp: { addr: `127.0.0.1:${good.port}`, body: btoa("fire!") } } });
    await moveTo(T0 + 1_000);
    expect((await runsOf("tcp-ok"))[0]).toMatchObject({ status: "succeeded" });
    const bad = (await runsOf("tcp-bad"))[0];
    expect(bad.status).toBe("failed");
    expect(String(bad.error)).toContain("ack mismatch");
    expect((await runsOf("tcp-noack"))[0]).toMatchObject({ status: "succeeded" });
    expect(good.received.map((b) => b.toString()).sort()).toEqual(["HELLO", "fire!", "hello"]);
    await good.stop();
  });

  test("fails when the peer closes before the whole ack arrived, or nothing listens", async () => {
    const short = await startTcpServer({ expect: 1, reply: () => Buffer.from("o") });
    await putJob(env.deps, "ns", "tcp-short", { dueTime: "1s", target: { tcp: { addr: `127.0.0.1:${short.port}`, body: btoa("x"), ack: btoa("ok") } } });
    await short.stop().then(() => {});
    await putJob(env.deps, "ns", "tcp-refused", { dueTime: "1s", target: { tcp: { addr: "127.0.0.1:1", body: btoa("x") } } });
    await moveTo(T0 + 1_000);
    expect((await runsOf("tcp-short"))[0].status).toBe("failed");
    expect((await runsOf("tcp-refused"))[0].status).toBe("failed");
  });
});
