// Juice's completion callbacks: when a task's run ends, however it ends, its result is POSTed to the task's
// callbackUrl; a delivery is stored with the run's end and retried until it is taken (a node killed before
// it is sent: tests/e2e/outbox.test.ts).
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../../src/log.ts";
import { deliveriesOf } from "../../../src/store/deliveries.ts";
import { startSink, testEnv, waitUntil, withProcesses } from "../../helpers.ts";
import { afterTest, cleanUpAfterEach, env, itemOf, jobOf, run, TENANT } from "./helpers.ts";

cleanUpAfterEach();

describe("completion callbacks", () => {
  test("a callback its receiver refuses is logged and retried until it is taken; the task ends meanwhile", async () => {
    const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
    const e = await env({ log: { ...silentLogger, warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, fields: fields ?? {} }) } });
    let refuse = 2;
    const sink = startSink(() => (refuse-- > 0 ? new Response("down", { status: 503 }) : new Response("ok")));
    afterTest(() => sink.stop());
    const id = await run(e, { commands: "true", callbackUrl: `${sink.url}/cb` });
    expect((await itemOf(e, id)).taskStatus).toBe(2);
    await sink.waitFor(3, 15_000); // two refusals, backed off 1 s then 2 s, then taken
    const [first, , last] = sink.requests;
    expect(last.body).toBe(first.body); // the same callback each time
    expect(last.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(JSON.parse(last.body)).toMatchObject({ taskId: id, result: "FINISHED" });
    expect(warnings.filter((w) => w.msg === "juice callback failed").map((w) => w.fields.attempt)).toEqual([1, 2]);
    const run0 = (await e.call("GET", `/api/v1/namespaces/${TENANT}/jobs/${(await jobOf(e, id)).name}/runs`)).body.items[0];
    await waitUntil(async () => (await deliveriesOf(e.deps.store, run0.id))[0]?.status === "delivered", "the delivery recorded", 5000);
    expect((await deliveriesOf(e.deps.store, run0.id)).map((d) => [d.kind, d.status, d.attempts])).toEqual([["juice.callback", "delivered", 3]]);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.requests).toHaveLength(3); // nothing after it was taken
  }, 20_000);

  test("a task without a callbackUrl stores no delivery", async () => {
    const e = await env();
    const id = await run(e, { commands: "true" });
    const run0 = (await e.call("GET", `/api/v1/namespaces/${TENANT}/jobs/${(await jobOf(e, id)).name}/runs`)).body.items[0];
    expect(await deliveriesOf(e.deps.store, run0.id)).toEqual([]);
  });

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
