// What an operator sees in the log: a line per finished run ([log] runs), failures at warn, and a line per
// refused API request at info with its reason.
import { afterAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { memoryLogger, startSink, type TestEnv, testEnv } from "../helpers.ts";

const sink = startSink((req) => new Response("no", { status: req.path === "/fail" ? 500 : 200 }));
const envs: TestEnv[] = [];
afterAll(async () => {
  for (const e of envs) await e.close();
  sink.stop();
});

async function runBoth(runs: "all" | "failures" | "none") {
  const clock = new TestClock(Date.UTC(2026, 5, 1, 12));
  const log = memoryLogger();
  const env = await testEnv({ clock, log, start: true, config: { log: { level: "debug", format: "json", runs } } });
  envs.push(env);
  for (const [name, path] of [["ok", "/ok"], ["bad", "/fail"]]) {
    const due = new Date(clock.now() + 1000).toISOString();
    expect((await env.call("PUT", `/api/v1/namespaces/logs/jobs/${name}`, { dueTime: due, target: { http: { url: `${sink.url}${path}` } } })).status).toBe(201);
  }
  await env.deps.scheduler.tick();
  clock.advance(1250);
  await env.deps.scheduler.idle();
  return log.lines.filter((l) => String(l.msg).startsWith("run "));
}

test('runs = "failures" (the default): a failed run at warn with what an operator needs, a success only at debug', async () => {
  const lines = await runBoth("failures");
  const failed = lines.find((l) => l.job === "bad");
  expect(failed).toMatchObject({ level: "warn", msg: "run failed", namespace: "logs", trigger: "schedule", attempt: 1, status: "failed", latenessMs: 250 });
  expect(failed!.run).toEqual(expect.any(Number));
  expect(failed!.durationMs).toEqual(expect.any(Number));
  expect(String(failed!.error)).toContain("500");
  expect(lines.find((l) => l.job === "ok")).toMatchObject({ level: "debug", msg: "run finished", status: "succeeded" });
});

test('runs = "all" logs successes at info; "none" logs no run at all', async () => {
  expect((await runBoth("all")).find((l) => l.job === "ok")).toMatchObject({ level: "info", msg: "run finished", status: "succeeded" });
  expect(await runBoth("none")).toEqual([]);
});

test("a refused API request is logged at info with its status and reason, in any API's shape", async () => {
  const log = memoryLogger();
  const env = await testEnv({ log });
  envs.push(env);
  await env.call("PUT", "/api/v1/namespaces/logs/jobs/x", { schedule: "every 10s", target: { http: { url: "http://127.0.0.1:9/" } } });
  await env.call("PUT", "/jobs/logs/y", { expr: "* * * * *" }); // DCS: no callback
  const refused = log.lines.filter((l) => l.msg === "request refused");
  expect(refused[0]).toMatchObject({ level: "info", method: "PUT", path: "/api/v1/namespaces/logs/jobs/x", status: 400 });
  expect(String(refused[0].reason)).toContain("schedule");
  expect(refused[1]).toMatchObject({ level: "info", path: "/jobs/logs/y", status: 400, reason: expect.any(String) });
});
