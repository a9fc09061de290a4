// Workflows end to end on one node: definitions through the API, instances run as ordinary runs, steps
// started as their parents end, with what the parents gave them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSink, type TestEnv, testEnv, waitUntil, withProcesses } from "../helpers.ts";

let env: TestEnv;
const sink = startSink((req) => (req.path.startsWith("/fail") ? new Response("no", { status: 500 }) : Response.json({ path: req.path })));
beforeAll(async () => {
  env = await testEnv({ start: true, config: { executors: withProcesses(), scheduler: { pollInterval: 200 } } });
});
afterAll(async () => {
  await env.close();
  sink.stop();
});

const sh = (script: string) => ({ process: { command: ["/bin/sh", "-c", script] } });
const http = (path: string) => ({ http: { url: `${sink.url}${path}` } });

async function finished(id: number) {
  let last: any;
  await waitUntil(async () => {
    last = (await env.call("GET", `/api/v1/workflow-instances/${id}`)).body;
    return last.status !== "running";
  }, `instance ${id} to end`);
  return last;
}

const stepsOf = (inst: any) => Object.fromEntries(inst.steps.map((s: any) => [s.id, s.status]));

describe("workflow definitions", () => {
  test("a PUT creates (201), a second replaces (200); GET and the list show it; DELETE removes it", async () => {
    const body = { steps: [{ id: "a", target: http("/a") }, { id: "b", dependsOn: ["a"], target: http("/b") }] };
    const put = await env.call("PUT", "/api/v1/namespaces/defs/workflows/two", body);
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ name: "two", namespace: "defs", version: 1, overlap: "forbid", enabled: true });
    expect(typeof put.body.id).toBe("number");
    expect(put.body.steps).toEqual([
      { id: "a", dependsOn: [], when: "success", target: { http: { url: `${sink.url}/a`, method: "POST" } } },
      { id: "b", dependsOn: ["a"], when: "success", target: { http: { url: `${sink.url}/b`, method: "POST" } } },
    ]);
    const again = await env.call("PUT", "/api/v1/namespaces/defs/workflows/two", body);
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(2);
    expect(again.body.id).toBe(put.body.id);
    expect((await env.call("GET", "/api/v1/namespaces/defs/workflows/two")).body.version).toBe(2);
    expect((await env.call("GET", "/api/v1/namespaces/defs/workflows")).body.items.map((w: any) => w.name)).toEqual(["two"]);
    // Its steps' jobs are the workflow's: no job list shows them.
    expect((await env.call("GET", "/api/v1/namespaces/defs/jobs")).body.items).toEqual([]);
    expect((await env.call("DELETE", "/api/v1/namespaces/defs/workflows/two")).status).toBe(204);
    expect((await env.call("GET", "/api/v1/namespaces/defs/workflows/two")).status).toBe(404);
    expect((await env.call("DELETE", "/api/v1/namespaces/defs/workflows/two")).status).toBe(404);
  });

  test.each([
    [{ steps: [] }, "steps"],
    [{ steps: [{ id: "a", target: http("/a") }, { id: "a", target: http("/a") }] }, "steps[1].id"],
    [{ steps: [{ id: "a", target: http("/a") }, { id: "b", dependsOn: ["zz"], target: http("/b") }] }, "steps[1].dependsOn[0]"],
    [{ steps: [{ id: "a", dependsOn: ["b"], target: http("/a") }, { id: "b", dependsOn: ["a"], target: http("/b") }] }, "steps[0].dependsOn"],
    [{ steps: [{ id: "a" }] }, "steps[0]"],
    [{ steps: [{ id: "a", job: "nope" }] }, "steps[0].job"],
    [{ steps: [{ id: "a", target: { http: { url: "ftp://x" } } }] }, "steps[0].target.http.url"],
    [{ steps: [{ id: "a", target: http("/a"), when: "sometimes" }] }, "steps[0].when"],
    [{ steps: [{ id: "a", target: http("/a") }], overlap: "queue" }, "overlap"],
    [{ steps: [{ id: "a", target: http("/a") }], extra: 1 }, "extra"],
  ])("a bad workflow is a 400 naming the field and stores nothing: %j", async (body, field) => {
    const res = await env.call("PUT", "/api/v1/namespaces/bad/workflows/w", body);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe(field);
    expect((await env.call("GET", "/api/v1/namespaces/bad/workflows/w")).status).toBe(404);
  });
});

describe("instances", () => {
  test("a diamond of processes: each step after its parents, and a child sees its parents' results", async () => {
    const body = {
      steps: [
        { id: "a", target: sh("echo from-a") },
        { id: "b", dependsOn: ["a"], target: sh("echo from-b") },
        { id: "c", dependsOn: ["a"], target: sh("echo from-c") },
        { id: "d", dependsOn: ["b", "c"], target: sh('printf "%s" "$TOCK_UPSTREAM"') },
      ],
    };
    expect((await env.call("PUT", "/api/v1/namespaces/wf/workflows/diamond", body)).status).toBe(201);
    const trig = await env.call("POST", "/api/v1/namespaces/wf/workflows/diamond/trigger");
    expect(trig.status).toBe(202);
    expect(trig.body).toMatchObject({ workflow: "diamond", namespace: "wf", status: "running" });
    expect(stepsOf(trig.body)).toEqual({ a: "running", b: "waiting", c: "waiting", d: "waiting" });
    const done = await finished(trig.body.id);
    expect(done.status).toBe("succeeded");
    expect(stepsOf(done)).toEqual({ a: "succeeded", b: "succeeded", c: "succeeded", d: "succeeded" });
    const runs = await Promise.all(done.steps.map(async (s: any) => (await env.call("GET", `/api/v1/runs/${s.runId}`)).body));
    const [a, b, c, d] = runs;
    expect(Date.parse(b.startedAt)).toBeGreaterThanOrEqual(Date.parse(a.endedAt));
    expect(Date.parse(d.startedAt)).toBeGreaterThanOrEqual(Math.max(Date.parse(b.endedAt), Date.parse(c.endedAt)));
    expect(runs.map((r: any) => r.trigger)).toEqual(["workflow", "workflow", "workflow", "workflow"]);
    const upstream = JSON.parse(d.outputTail);
    expect(Object.keys(upstream).sort()).toEqual(["b", "c"]);
    expect(upstream.b).toMatchObject({ status: "succeeded", output: "from-b" });
    expect(upstream.c.output).toBe("from-c");
  });

  test("an HTTP step without a body gets its parents' results as its JSON body", async () => {
    const body = { steps: [{ id: "first", target: http("/first") }, { id: "second", dependsOn: ["first"], target: http("/second") }] };
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/hooks", body);
    const inst = (await env.call("POST", "/api/v1/namespaces/wf/workflows/hooks/trigger")).body;
    expect((await finished(inst.id)).status).toBe("succeeded");
    const second = sink.requests.find((r) => r.path === "/second")!;
    // An HTTP step's result is its answer's status and body; it has no output of a process.
    expect(JSON.parse(second.body)).toEqual({ upstream: { first: { status: "succeeded", result: { status: 200, body: '{"path":"/first"}' }, output: null } } });
    expect(second.headers["webhook-id"]).toBeDefined();
  });

  test("a failure branch: the handler runs, the success path is skipped with its reason, the instance succeeds", async () => {
    const body = {
      steps: [
        { id: "work", target: sh("exit 3") },
        { id: "next", dependsOn: ["work"], target: sh("true") },
        { id: "cleanup", dependsOn: ["work"], when: "failure", target: sh("true") },
        { id: "report", dependsOn: ["next", "cleanup"], when: "always", target: sh("true") },
      ],
    };
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/branch", body);
    const done = await finished((await env.call("POST", "/api/v1/namespaces/wf/workflows/branch/trigger")).body.id);
    expect(stepsOf(done)).toEqual({ work: "failed", next: "skipped", cleanup: "succeeded", report: "succeeded" });
    expect(done.steps.find((s: any) => s.id === "next").reason).toBe('parent "work" failed');
    expect(done.status).toBe("succeeded");
  });

  test("HTTP steps: a fan-out and fan-in with a failing branch, its handler, and a step that always runs", async () => {
    const body = {
      steps: [
        { id: "start", target: http("/h/start") },
        { id: "left", dependsOn: ["start"], target: http("/h/left") },
        { id: "right", dependsOn: ["start"], target: http("/fail/right") },
        { id: "join", dependsOn: ["left", "right"], target: http("/h/join") },
        { id: "repair", dependsOn: ["right"], when: "failure", target: http("/h/repair") },
        { id: "report", dependsOn: ["join", "repair"], when: "always", target: http("/h/report") },
      ],
    };
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/web", body);
    const done = await finished((await env.call("POST", "/api/v1/namespaces/wf/workflows/web/trigger")).body.id);
    expect(stepsOf(done)).toEqual({ start: "succeeded", left: "succeeded", right: "failed", join: "skipped", repair: "succeeded", report: "succeeded" });
    expect(done.status).toBe("succeeded");
    expect(done.steps.find((s: any) => s.id === "join").reason).toBe('parent "right" failed');
    // The handler was given the failed parent's answer; the report both of its parents' ends.
    const repair = JSON.parse(sink.requests.find((r) => r.path === "/h/repair")!.body);
    expect(repair.upstream.right).toMatchObject({ status: "failed", result: { status: 500, body: "no" } });
    const report = JSON.parse(sink.requests.find((r) => r.path === "/h/report")!.body);
    expect(Object.keys(report.upstream).sort()).toEqual(["join", "repair"]);
    expect(report.upstream.join.status).toBe("skipped");
  });

  test("an unhandled failure fails the instance; a step's retry runs before its children decide", async () => {
    const body = {
      steps: [
        { id: "flaky", target: sh(`test -f "${env.dir}/flaky-$TOCK_WEBHOOK_ID" || { touch "${env.dir}/flaky-$TOCK_WEBHOOK_ID"; exit 1; }`), retry: { times: 1, interval: "1s" } },
        { id: "broken", dependsOn: ["flaky"], target: sh("exit 1") },
        { id: "never", dependsOn: ["broken"], target: sh("true") },
      ],
    };
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/retrying", body);
    const done = await finished((await env.call("POST", "/api/v1/namespaces/wf/workflows/retrying/trigger")).body.id);
    expect(stepsOf(done)).toEqual({ flaky: "succeeded", broken: "failed", never: "skipped" });
    expect(done.status).toBe("failed");
    const flaky = (await env.call("GET", `/api/v1/runs/${done.steps[0].runId}`)).body;
    expect(flaky.attempt).toBe(2);
    expect(flaky.trigger).toBe("retry");
  });

  test("a trigger's variables and arguments reach every process step; bad ones are a 400 that starts nothing", async () => {
    const echo = { process: { shell: 'printf "%s|%s" "$DAY" "$1"' } };
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/params", { steps: [{ id: "one", target: echo }, { id: "two", dependsOn: ["one"], target: echo }] });
    const bad = await env.call("POST", "/api/v1/namespaces/wf/workflows/params/trigger", { env: { DAY: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("env.DAY");
    expect((await env.call("GET", "/api/v1/namespaces/wf/workflows/params/instances")).body.items).toEqual([]);
    const inst = (await env.call("POST", "/api/v1/namespaces/wf/workflows/params/trigger", { env: { DAY: "monday" }, args: ["full"] })).body;
    const done = await finished(inst.id);
    for (const step of done.steps) expect((await env.call("GET", `/api/v1/runs/${step.runId}`)).body.outputTail).toBe("monday|full");
  });

  test("a step may run a job of the namespace, with its own timeout", async () => {
    await env.call("PUT", "/api/v1/namespaces/wf/jobs/slow", { target: sh("sleep 5") });
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/uses-job", { steps: [{ id: "s", job: "slow", timeout: "200ms" }] });
    const done = await finished((await env.call("POST", "/api/v1/namespaces/wf/workflows/uses-job/trigger")).body.id);
    expect(done.status).toBe("failed");
    const run = (await env.call("GET", `/api/v1/runs/${done.steps[0].runId}`)).body;
    expect(run).toMatchObject({ jobName: "slow", status: "timed_out" });
  });

  test("cancel kills the running step and cancels the rest; the list shows the instance", async () => {
    await env.call("PUT", "/api/v1/namespaces/wf/workflows/long", { steps: [{ id: "wait", target: sh("sleep 30") }, { id: "after", dependsOn: ["wait"], target: sh("true") }] });
    const inst = (await env.call("POST", "/api/v1/namespaces/wf/workflows/long/trigger")).body;
    const runId = inst.steps[0].runId;
    await waitUntil(async () => (await env.call("GET", `/api/v1/runs/${runId}`)).body.status === "running", "the step running");
    const cancelled = await env.call("POST", `/api/v1/workflow-instances/${inst.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    await waitUntil(async () => stepsOf((await env.call("GET", `/api/v1/workflow-instances/${inst.id}`)).body).wait === "cancelled", "the step cancelled");
    const after = (await env.call("GET", `/api/v1/workflow-instances/${inst.id}`)).body;
    expect(stepsOf(after)).toEqual({ wait: "cancelled", after: "cancelled" });
    expect((await env.call("GET", `/api/v1/runs/${runId}`)).body.status).toBe("killed");
    expect((await env.call("POST", `/api/v1/workflow-instances/${inst.id}/cancel`)).status).toBe(409);
    const list = (await env.call("GET", "/api/v1/namespaces/wf/workflows/long/instances")).body;
    expect(list.items.map((i: any) => i.id)).toEqual([inst.id]);
  });
});
