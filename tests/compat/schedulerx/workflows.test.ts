// SchedulerX's workflow endpoints over native workflows: a workflow made with the native API in namespace
// <namespace>:<groupId> is executed (its instance runs to the end, instanceParameters reaching its process
// steps), disabled, enabled and deleted through the vendor's endpoints; bad ids, other groups' workflows,
// oversized parameters and other methods are refused in the vendor's envelope and change nothing.
import { describe, expect, test } from "bun:test";
import type { TestEnv } from "../../helpers.ts";
import { waitUntil } from "../../helpers.ts";
import { closeEnvs, env, expectError, expectOk, type How, NATIVE_NS, NS, sx } from "./helpers.ts";

closeEnvs();

const VERBS = ["execute", "enable", "disable", "delete"] as const;
const path = (verb: (typeof VERBS)[number]) => `/openapi/v1/workflow/${verb}`;
const echo = { process: { shell: 'printf "%s|%s|%s" "$SCHEDULERX_INSTANCE_PARAMETERS" "$#" "$1"' } };

/** A workflow made through the native API; its `id` is SchedulerX's workflowId. */
async function workflow(e: TestEnv, name: string, body: Record<string, unknown> = {}, ns = NATIVE_NS): Promise<number> {
  const steps = [
    { id: "first", target: echo },
    { id: "second", dependsOn: ["first"], target: echo },
  ];
  const r = await e.call("PUT", `/api/v1/namespaces/${ns}/workflows/${name}`, { steps, ...body });
  expect(r.status).toBe(201);
  return r.body.id;
}

const nativeGet = (e: TestEnv, name: string, ns = NATIVE_NS) => e.call("GET", `/api/v1/namespaces/${ns}/workflows/${name}`);
const instancesOf = async (e: TestEnv, name: string, ns = NATIVE_NS) => (await e.call("GET", `/api/v1/namespaces/${ns}/workflows/${name}/instances`)).body.items as any[];

/** The instance once it has ended. */
async function ended(e: TestEnv, id: number) {
  let last: any;
  await waitUntil(async () => {
    last = (await e.call("GET", `/api/v1/workflow-instances/${id}`)).body;
    return last.status !== "running";
  }, `workflow instance ${id} to end`);
  return last;
}

/** What each step's process printed: the variable, the argument count and the last argument. */
async function outputs(e: TestEnv, instance: any): Promise<string[]> {
  return Promise.all(instance.steps.map(async (s: any) => (await e.call("GET", `/api/v1/runs/${s.runId}`)).body.outputTail));
}

describe("workflows", () => {
  test.each<How>(["form", "query", "json"])("execute (%s) answers the instance id; the instance runs to succeeded with instanceParameters", async (how) => {
    const e = await env();
    const workflowId = await workflow(e, "flow");
    const given = "day=monday 周一";
    const r = await sx(e, path("execute"), { ...NS, namespaceSource: "schedulerx", workflowId, instanceParameters: given }, how);
    expectOk(r, expect.any(Number));
    const done = await ended(e, r.body.data);
    expect(done).toMatchObject({ id: r.body.data, workflow: "flow", namespace: NATIVE_NS, status: "succeeded", trigger: "api" });
    expect(done.steps.map((s: any) => [s.id, s.status])).toEqual([
      ["first", "succeeded"],
      ["second", "succeeded"],
    ]);
    expect(await outputs(e, done)).toEqual([`${given}|1|${given}`, `${given}|1|${given}`]);
  });

  test("execute without instanceParameters (or with an empty value) sets neither the variable nor an argument; 1000 bytes are taken", async () => {
    const e = await env();
    const workflowId = await workflow(e, "flow");
    for (const params of [{}, { instanceParameters: "" }]) {
      const r = await sx(e, path("execute"), { ...NS, workflowId, ...params });
      expectOk(r, expect.any(Number));
      expect(await outputs(e, await ended(e, r.body.data))).toEqual(["|0|", "|0|"]);
    }
    const full = "é".repeat(500); // 1000 bytes
    const r = await sx(e, path("execute"), { ...NS, workflowId, instanceParameters: full }, "json");
    expectOk(r, expect.any(Number));
    const done = await ended(e, r.body.data);
    expect(done.status).toBe("succeeded");
    expect(await outputs(e, done)).toEqual([`${full}|1|${full}`, `${full}|1|${full}`]);
  });

  test("disable and enable pause and resume the workflow's schedule; a disabled workflow still executes", async () => {
    const e = await env();
    const workflowId = await workflow(e, "hourly", { schedule: "@every 1h" });
    expect((await nativeGet(e, "hourly")).body).toMatchObject({ id: workflowId, enabled: true, nextFireAt: expect.any(String) });
    expectOk(await sx(e, path("disable"), { ...NS, workflowId }));
    expect((await nativeGet(e, "hourly")).body).toMatchObject({ enabled: false, nextFireAt: null });
    // Disabling twice is no error, as in SchedulerX.
    expectOk(await sx(e, path("disable"), { ...NS, workflowId }, "json"));
    const r = await sx(e, path("execute"), { ...NS, workflowId });
    expectOk(r, expect.any(Number));
    expect((await ended(e, r.body.data)).status).toBe("succeeded");
    expectOk(await sx(e, path("enable"), { ...NS, workflowId }, "query"));
    expect((await nativeGet(e, "hourly")).body).toMatchObject({ enabled: true, nextFireAt: expect.any(String) });
  });

  test("delete removes the workflow; it is then not found", async () => {
    const e = await env();
    const workflowId = await workflow(e, "gone");
    const r = await sx(e, path("execute"), { ...NS, workflowId });
    await ended(e, r.body.data);
    expectOk(await sx(e, path("delete"), { ...NS, workflowId }));
    expect((await nativeGet(e, "gone")).status).toBe(404);
    expect((await e.call("GET", `/api/v1/workflow-instances/${r.body.data}`)).status).toBe(404);
    for (const verb of VERBS) expectError(await sx(e, path(verb), { ...NS, workflowId }), 404, `workflowId=${workflowId} is not existed`);
  });
});

describe("workflow refusals", () => {
  test("workflowId must be a positive integer of at most 2^53 - 1; unknown ids are not found", async () => {
    const e = await env({ start: false });
    const workflowId = await workflow(e, "flow");
    for (const verb of VERBS) {
      for (const bad of ["abc", "1.5", "-3", "0", "1e3", "9007199254740992"]) {
        expectError(await sx(e, path(verb), { ...NS, workflowId: bad }), 400, "parameter workflowId must be a positive integer");
      }
      expectError(await sx(e, path(verb), NS), 400, "parameter workflowId is required");
      expectError(await sx(e, path(verb), { ...NS, workflowId: "" }), 400, "parameter workflowId is required");
      expectError(await sx(e, path(verb), { groupId: NS.groupId, workflowId }), 400, "parameter namespace is required");
      expectError(await sx(e, path(verb), { ...NS, workflowId: 9007199254740991 }, "json"), 404, "workflowId=9007199254740991 is not existed");
    }
    // Nothing changed or ran.
    expect((await nativeGet(e, "flow")).body).toMatchObject({ enabled: true, version: 1 });
    expect(await instancesOf(e, "flow")).toEqual([]);
  });

  test("another group's or namespace's workflow is not found, and nothing changes", async () => {
    const e = await env({ start: false });
    const mine = await workflow(e, "flow");
    const otherNs = `${NS.namespace}:otherGroup`;
    const theirs = await workflow(e, "flow", {}, otherNs);
    const elsewhere = [
      { namespace: "other", groupId: NS.groupId },
      { namespace: NS.namespace, groupId: "otherGroup" },
    ];
    for (const verb of VERBS) {
      expectError(await sx(e, path(verb), { ...NS, workflowId: theirs }), 404, `workflowId=${theirs} is not existed`);
      for (const scope of elsewhere) expectError(await sx(e, path(verb), { ...scope, workflowId: mine }), 404, `workflowId=${mine} is not existed`);
    }
    for (const [ns, id] of [
      [NATIVE_NS, mine],
      [otherNs, theirs],
    ] as const) {
      expect((await nativeGet(e, "flow", ns)).body).toMatchObject({ id, enabled: true, version: 1 });
      expect(await instancesOf(e, "flow", ns)).toEqual([]);
    }
  });

  test("instanceParameters over 1000 bytes, or with NUL, are a 400 naming the parameter and start nothing", async () => {
    const e = await env({ start: false });
    const workflowId = await workflow(e, "flow");
    for (const [given, ...words] of [
      ["x".repeat(1001), "parameter instanceParameters must be at most 1000 bytes"],
      ["é".repeat(501), "parameter instanceParameters must be at most 1000 bytes"], // 501 characters, 1002 bytes
      ["x".repeat(40_000), "parameter instanceParameters must be at most 1000 bytes"],
      ["a\u0000b", "parameter instanceParameters", "NUL"],
    ]) {
      for (const how of ["form", "json"] as const) expectError(await sx(e, path("execute"), { ...NS, workflowId, instanceParameters: given }, how), 400, ...words);
    }
    expectError(await sx(e, path("execute"), { ...NS, workflowId, instanceParameters: 5 }, "json"), 400, "parameter instanceParameters must be a string");
    expect(await instancesOf(e, "flow")).toEqual([]);
  });

  test("other methods are a 405 in the vendor's envelope and change nothing", async () => {
    const e = await env({ start: false });
    const workflowId = await workflow(e, "flow");
    const qs = new URLSearchParams({ ...NS, workflowId: String(workflowId) });
    for (const verb of VERBS) {
      expectError(await e.call("GET", `${path(verb)}?${qs}`), 405, "GET is not allowed", "POST only");
      expectError(await e.call("PUT", path(verb), { ...NS, workflowId }), 405, "PUT is not allowed");
      expect((await e.app.request(`${path(verb)}?${qs}`, { method: "HEAD" })).status).toBe(405);
    }
    expect((await nativeGet(e, "flow")).body).toMatchObject({ enabled: true, version: 1 });
    expect(await instancesOf(e, "flow")).toEqual([]);
  });
});
