// Juice's completion callbacks: when a task's run ends, however it ends, its result is POSTed to the task's
// callbackUrl; a delivery that fails is logged and changes nothing else.
import { describe, expect, test } from "bun:test";
import { juiceHooks } from "../../../src/compat/juice/callbacks.ts";
import { silentLogger } from "../../../src/log.ts";
import { startSink, testEnv, waitUntil, withProcesses } from "../../helpers.ts";
import { afterTest, cleanUpAfterEach, env, itemOf, run } from "./helpers.ts";

cleanUpAfterEach();

describe("completion callbacks", () => {
  test("a callback that cannot be delivered is logged, and the task still ends; the hook's unsubscribe stops callbacks", async () => {
    const warnings: string[] = [];
    const e = await env({ log: { ...silentLogger, warn: (msg: string) => void warnings.push(msg) } });
    const id = await run(e, { commands: "true", callbackUrl: "http://127.0.0.1:9/closed" });
    await waitUntil(() => warnings.includes("juice callback failed"), "the warning", 5000);
    expect((await itemOf(e, id)).taskStatus).toBe(2);

    const sink = startSink();
    try {
      const off = juiceHooks(e.deps); // a second subscription: two callbacks per run while both are on
      await run(e, { commands: "true", callbackUrl: sink.url });
      await sink.waitFor(2);
      off();
      await run(e, { commands: "true", callbackUrl: sink.url });
      await sink.waitFor(3);
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.requests).toHaveLength(3);
    } finally {
      sink.stop();
    }
  }, 15_000);

  test("a task killed while still queued gets its callback, like one killed while running", async () => {
    const e = await testEnv({
      start: true,
      config: { executors: withProcesses(), scheduler: { maxInFlight: 1, pollInterval: 200 } },
    });
    afterTest(() => e.close());
    const sink = startSink();
    afterTest(() => sink.stop());
    const H = { "X-Tenant-Id": "t" };
    const blocker = await e.call("POST", "/v1/tasks", { taskName: "blocker", commands: "sleep 5" }, H);
    const status = async (id: number) => (await e.call("GET", `/v1/tasks?taskIds=${id}`, undefined, H)).body.data[0];
    await waitUntil(async () => (await status(blocker.body.data.taskId)).taskStatus === 1, "the blocker running", 5000);
    const queued = await e.call("POST", "/v1/tasks", { taskName: "queued", callbackUrl: `${sink.url}/q`, commands: "echo hi" }, H);
    expect((await status(queued.body.data.taskId)).taskStatus).toBe(-1);
    const k = await e.call("POST", `/v1/tasks/kill?taskId=${queued.body.data.taskId}`, undefined, H);
    expect(k.body.data).toMatchObject({ submitKill: true, currentStatus: 6 });
    await waitUntil(() => sink.requests.some((r) => r.path === "/q"), "the killed task's callback", 5000);
    expect(JSON.parse(sink.requests.find((r) => r.path === "/q")!.body)).toMatchObject({ taskId: queued.body.data.taskId, result: "KILLED" });
    await e.call("POST", `/v1/tasks/kill?taskId=${blocker.body.data.taskId}`, undefined, H);
  });
});
