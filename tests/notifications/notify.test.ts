// Notifications end to end on one node: each event of a job's runs and of a workflow's instances reaches a
// receiver started by the test, signed, with its document; they are listed per namespace; bad rules are 400s.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { startSink, type TestEnv, testEnv, waitUntil, withProcesses } from "../helpers.ts";

const SECRET = `whsec_${Buffer.from("n".repeat(32)).toString("base64")}`;
const receiver = startSink();
const target = startSink((req) => (req.path.startsWith("/fail") ? new Response("down", { status: 500 }) : new Response("ok")));
let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({
    start: true,
    config: {
      executors: withProcesses(),
      scheduler: { pollInterval: 200 },
      callbacks: { signingSecret: SECRET, previousSigningSecret: undefined, namespaces: {} },
      notify: { minInterval: 0, namespaces: { ops: { on: ["failure"], http: { url: `${receiver.url}/ops` } } } },
    },
  });
});
afterAll(async () => {
  await env.close();
  receiver.stop();
  target.stop();
});

const ALL = ["failure", "timeout", "retries_exhausted", "recovered", "misfire", "killed"];
const rule = (path: string, on = ALL) => [{ on, http: { url: `${receiver.url}${path}`, headers: { "x-team": "payments" } } }];
const received = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

async function runOf(ns: string, job: string) {
  return (await env.call("POST", `/api/v1/namespaces/${ns}/jobs/${job}/trigger`)).body.id as number;
}
async function ended(id: number) {
  await waitUntil(async () => !["queued", "running"].includes((await env.call("GET", `/api/v1/runs/${id}`)).body.status), `run ${id} to end`);
}

describe("a job's notifications", () => {
  test("a failure, then the retries exhausted, then a recovery: each sent once, signed, with its document", async () => {
    const put = await env.call("PUT", "/api/v1/namespaces/n/jobs/flaky", { target: { http: { url: `${target.url}/fail` } }, retry: { times: 1, interval: "1s" }, notify: rule("/flaky") });
    expect(put.status).toBe(201);
    expect(put.body.notify).toEqual(rule("/flaky"));
    const first = await runOf("n", "flaky");
    await waitUntil(() => received("/flaky").length >= 3, "failure, failure and retries_exhausted");
    const docs = received("/flaky");
    expect(docs.map((d) => d.event)).toEqual(["failure", "failure", "retries_exhausted"]);
    expect(docs[0]).toMatchObject({ namespace: "n", job: "flaky", run: first, status: "failed", error: expect.stringContaining("500") });
    expect(Date.parse(docs[0].at)).toBeGreaterThan(0);
    // Signed as callbacks are, with the rule's own header.
    const req = receiver.requests.find((r) => r.path === "/flaky")!;
    expect(req.headers["x-team"]).toBe("payments");
    expect(() => new Webhook(SECRET).verify(req.body, req.headers)).not.toThrow();
    expect(req.headers["webhook-id"]).toMatch(/^notification-\d+$/);

    // The job fixed: its next success is a recovery, once.
    await env.call("PUT", "/api/v1/namespaces/n/jobs/flaky", { target: { http: { url: `${target.url}/ok` } }, notify: rule("/flaky") });
    await ended(await runOf("n", "flaky"));
    await waitUntil(() => received("/flaky").length >= 4, "the recovery");
    await ended(await runOf("n", "flaky"));
    const list = (await env.call("GET", "/api/v1/namespaces/n/notifications")).body.items;
    await waitUntil(async () => (await env.call("GET", "/api/v1/namespaces/n/notifications")).body.items.every((i: any) => i.status === "delivered"), "all delivered");
    expect(received("/flaky").map((d) => d.event)).toEqual(["failure", "failure", "retries_exhausted", "recovered"]);
    expect(list[0]).toMatchObject({ event: "recovered", url: `${receiver.url}/flaky`, document: { event: "recovered", job: "flaky", status: "succeeded" } });
  });

  test("a timeout and a kill", async () => {
    await env.call("PUT", "/api/v1/namespaces/n/jobs/slow", { target: { process: { command: ["sleep", "5"] } }, timeout: "200ms", notify: rule("/slow") });
    await ended(await runOf("n", "slow"));
    await waitUntil(() => received("/slow").length >= 1, "the timeout");
    expect(received("/slow")[0]).toMatchObject({ event: "timeout", status: "timed_out" });
    await env.call("PUT", "/api/v1/namespaces/n/jobs/slow", { target: { process: { command: ["sleep", "30"] } }, notify: rule("/slow") });
    const id = await runOf("n", "slow");
    await waitUntil(async () => (await env.call("GET", `/api/v1/runs/${id}`)).body.status === "running", "running");
    await env.call("POST", `/api/v1/runs/${id}/kill`);
    await waitUntil(() => received("/slow").length >= 2, "the kill");
    expect(received("/slow")[1]).toMatchObject({ event: "killed", run: id, status: "killed" });
  });

  test("a namespace's notification from [notify.namespaces] goes with the job's own", async () => {
    await env.call("PUT", "/api/v1/namespaces/ops/jobs/broken", { target: { http: { url: `${target.url}/fail` } } });
    await ended(await runOf("ops", "broken"));
    await waitUntil(() => received("/ops").length >= 1, "the namespace's notification");
    expect(received("/ops")[0]).toMatchObject({ event: "failure", namespace: "ops", job: "broken" });
  });

  test.each([
    [{ notify: [{ on: ["failure"], http: { url: "http://x/", headers: { Authorization: "Bearer s" } } }] }, "notify.0.http.headers"],
    [{ notify: [{ on: ["exploded"], http: { url: "http://x/" } }] }, "notify.0.on.0"],
    [{ notify: [{ on: [], http: { url: "http://x/" } }] }, "notify.0.on"],
    [{ notify: [{ on: ["failure"], http: { url: "ftp://x/" } }] }, "notify.0.http.url"],
  ])("a bad notification is a 400 naming the field: %j", async (extra, field) => {
    const res = await env.call("PUT", "/api/v1/namespaces/n/jobs/bad", { target: { http: { url: `${target.url}/ok` } }, ...extra });
    expect({ status: res.status, field: res.body.error?.field }).toEqual({ status: 400, field });
  });
});

describe("a workflow's notifications", () => {
  test("a failed instance is a failure, a cancelled one killed, the next success a recovery", async () => {
    const sh = (s: string) => ({ process: { command: ["/bin/sh", "-c", s] } });
    await env.call("PUT", "/api/v1/namespaces/n/workflows/wf", { overlap: "allow", notify: rule("/wf"), steps: [{ id: "a", target: sh("exit 1") }] });
    const failed = (await env.call("POST", "/api/v1/namespaces/n/workflows/wf/trigger")).body.id;
    await waitUntil(() => received("/wf").length >= 1, "the failure");
    expect(received("/wf")[0]).toMatchObject({ event: "failure", namespace: "n", workflow: "wf", instance: failed, status: "failed" });
    await env.call("PUT", "/api/v1/namespaces/n/workflows/wf", { overlap: "allow", notify: rule("/wf"), steps: [{ id: "a", target: sh("sleep 30") }] });
    const long = (await env.call("POST", "/api/v1/namespaces/n/workflows/wf/trigger")).body.id;
    await env.call("POST", `/api/v1/workflow-instances/${long}/cancel`);
    await waitUntil(() => received("/wf").length >= 2, "the kill");
    expect(received("/wf")[1]).toMatchObject({ event: "killed", instance: long, status: "cancelled" });
    await env.call("PUT", "/api/v1/namespaces/n/workflows/wf", { overlap: "allow", notify: rule("/wf"), steps: [{ id: "a", target: sh("true") }] });
    const ok = (await env.call("POST", "/api/v1/namespaces/n/workflows/wf/trigger")).body.id;
    await waitUntil(() => received("/wf").length >= 3, "the recovery");
    expect(received("/wf")[2]).toMatchObject({ event: "recovered", instance: ok, status: "succeeded" });
  });
});
