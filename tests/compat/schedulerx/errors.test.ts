// SchedulerX's OpenAPI refusals: every bad parameter is a 4xx in the vendor's envelope naming the
// parameter, and changes nothing.
import { describe, expect, test } from "bun:test";
import { findJobs } from "../../../src/domain/jobs.ts";
import { closeEnvs, create, env, expectError, expectOk, FULL, getInfo, NS, sx } from "./helpers.ts";

closeEnvs();

describe("bad requests", () => {
  const SHELL = { ...NS, jobType: "shell", content: "true", name: "n", executeMode: "standalone", timeType: 100 };

  test.each<[Record<string, unknown>, ...string[]]>([
    [{ ...SHELL, namespace: undefined }, "namespace is required"],
    [{ ...SHELL, groupId: "" }, "groupId is required"],
    [{ ...SHELL, namespace: "a:b" }, "parameter namespace must be"],
    [{ ...SHELL, groupId: "g/h" }, "parameter groupId must be"],
    [{ ...SHELL, jobType: undefined }, "jobType is required"],
    [{ ...SHELL, name: undefined }, "name is required"],
    [{ ...SHELL, name: "  " }, "name must not be empty"],
    [{ ...SHELL, executeMode: undefined }, "executeMode is required"],
    [{ ...SHELL, timeType: undefined }, "timeType is required"],
    [{ ...SHELL, content: undefined }, "content is required"],
    [{ ...SHELL, jobType: "ruby" }, "jobType must be one of java, shell, python, go"],
    [{ ...SHELL, timeType: 2 }, "timeType must be 1 (cron), 3 (fix_rate), 4 (second_delay) or 100 (api)"],
    [{ ...SHELL, timeType: "one" }, "timeType must be an integer"],
    [{ ...SHELL, timeType: 1 }, "timeExpression is required"],
    [{ ...SHELL, timeType: 1, timeExpression: "0 */5 * * *" }, "timeExpression", "has 5 fields"],
    [{ ...SHELL, timeType: 1, timeExpression: "0 0 12 * * ? 2027" }, "timeExpression", "year"],
    [{ ...SHELL, timeType: 1, timeExpression: "0 0 12 1 * MON" }, "timeExpression", "cannot both be set"],
    [{ ...SHELL, timeType: 3, timeExpression: "5" }, "timeExpression must be a whole number of seconds from 10"],
    [{ ...SHELL, timeType: 3, timeExpression: "1m" }, "timeExpression must be a whole number"],
    [{ ...SHELL, timeType: 4, timeExpression: "61" }, "from 1 to 60"],
    [{ ...SHELL, timeType: 4, timeExpression: "0" }, "from 1 to 60"],
    [{ ...SHELL, maxConcurrency: "abc" }, "maxConcurrency must be an integer"],
    [{ ...SHELL, maxConcurrency: "1.5" }, "maxConcurrency must be an integer"],
    [{ ...SHELL, maxConcurrency: 0 }, "maxConcurrency must be between 1 and 10000"],
    [{ ...SHELL, maxAttempt: -1 }, "maxAttempt must be between 0 and 1000"],
    [{ ...SHELL, attemptInterval: 0 }, "attemptInterval must be between 1 and 2073600"],
    [{ ...SHELL, dataOffset: "99999999999999999999" }, "dataOffset must be an integer"],
    [{ ...SHELL, timeout: 0 }, "timeout must be between 1"],
    [{ ...SHELL, timeout: 3_000_000, timeoutKillEnable: true }, "timeout must be at most 2073600"],
    [{ ...SHELL, timeoutEnable: "yes" }, "timeoutEnable must be true or false"],
    [{ ...SHELL, contactInfo: "{not json" }, "contactInfo must be a JSON list"],
    [{ ...SHELL, contactInfo: { userName: "a" } }, "contactInfo must be a list"],
    [{ ...SHELL, contactInfo: ["a"] }, "contactInfo[0] must be an object"],
    [{ ...SHELL, contactInfo: [{ userPhone: 5 }] }, "contactInfo[0].userPhone must be a string"],
    [{ ...SHELL, parameters: "a\u0000b" }, "parameter parameters", "NUL"],
    [{ ...SHELL, name: "x".repeat(201) }, "name must be at most 200 characters"],
  ])("create %# is a 400 naming the field and creates nothing", async (params, ...words: string[]) => {
    const e = await env({ start: false });
    const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    for (const how of ["form", "json"] as const) {
      expectError(await sx(e, "/openapi/v1/job/create", clean, how), 400, ...words);
    }
    expect((await findJobs(e.deps, { offset: 0, limit: 1 })).count).toBe(0);
  });

  test("JSON bodies of the wrong shape or types are 400s in the vendor's shape", async () => {
    const e = await env({ start: false });
    const post = (body: string) => e.call("POST", "/openapi/v1/job/create", body, { "content-type": "application/json" });
    expectError(await post("[1, 2]"), 400, "body must be a JSON object");
    expectError(await post("{not json"), 400, "not valid JSON");
    expectError(await post(JSON.stringify({ ...SHELL, name: 5 })), 400, "name must be a string");
    expectError(await post(JSON.stringify({ ...SHELL, maxAttempt: 1.5 })), 400, "maxAttempt must be an integer");
    expectError(await post(JSON.stringify({ ...SHELL, timeoutKillEnable: 1 })), 400, "timeoutKillEnable must be true or false");
    expectError(await post(`{"namespace": "n", "groupId": "g", "name": "\\ud800"}`), 400, "lone surrogate");
    expectError(await post(""), 400, "namespace is required");
    expect((await findJobs(e.deps, { offset: 0, limit: 1 })).count).toBe(0);
  });

  test("ids must be positive integers of at most 2^53 - 1; unknown ids and other groups' jobs are not found", async () => {
    const e = await env({ start: false });
    const jobId = await create(e, { jobType: "shell", content: "true", name: "x", timeType: 100 });
    for (const bad of ["abc", "1.5", "-3", "0", "1e3", "9007199254740992", "99999999999999999999"]) {
      expectError(await sx(e, "/openapi/job/v1/get", { ...NS, jobId: bad }), 400, "jobId must be a positive integer");
    }
    expectError(await sx(e, "/openapi/job/v1/get", { ...NS, jobId: 9007199254740992 }, "json"), 400, "jobId must be a positive integer");
    expectError(await sx(e, "/openapi/job/v1/get", NS), 400, "jobId is required");
    expectError(await sx(e, "/openapi/job/v1/get", { ...NS, jobId: 9007199254740991 }), 404, "jobId=9007199254740991 is not existed");
    const elsewhere = [
      { namespace: "other", groupId: NS.groupId },
      { namespace: NS.namespace, groupId: "otherGroup" },
    ];
    const paths = ["/openapi/job/v1/get", "/openapi/v1/job/update", "/openapi/v1/job/delete", "/openapi/v1/job/enable", "/openapi/v1/job/disable", "/openapi/v1/job/execute", "/openapi/v1/instance/getList"];
    for (const scope of elsewhere) {
      for (const path of paths) expectError(await sx(e, path, { ...scope, jobId, description: "x" }), 404, `jobId=${jobId} is not existed`);
      expectError(await sx(e, "/openapi/v1/instance/kill", { ...scope, jobId, instanceId: 1 }), 404, `jobId=${jobId} is not existed`);
      expectError(await sx(e, "/openapi/v1/instance/get", { ...scope, jobId, jobInstanceId: 1 }), 404, `jobId=${jobId} is not existed`);
    }
    // Nothing changed or ran.
    const info = await getInfo(e, jobId);
    expect(info).toMatchObject({ status: 1, description: "" });
    expect((await sx(e, "/openapi/v1/instance/getList", { jobId })).body.data).toEqual([]);
    expectError(await sx(e, "/openapi/v1/instance/get", { ...NS, jobId, jobInstanceId: "x" }), 400, "jobInstanceId must be a positive integer");
    expectError(await sx(e, "/openapi/v1/instance/get", { ...NS, jobId }), 400, "jobInstanceId is required");
    expectError(await sx(e, "/openapi/v1/instance/kill", { ...NS, jobId, instanceId: 12 }), 404, "instanceId=12");
  });

  test("an instance of another job is not found through this one", async () => {
    const e = await env();
    const a = await create(e, { jobType: "shell", content: "true", name: "a", timeType: 100 });
    const b = await create(e, { jobType: "shell", content: "true", name: "b", timeType: 100 });
    const finished = e.deps.scheduler.events.next("run:finished", () => true, 10_000);
    const run = (await sx(e, "/openapi/v1/job/execute", { ...NS, jobId: a })).body.data;
    await finished;
    expectError(await sx(e, "/openapi/v1/instance/get", { ...NS, jobId: b, jobInstanceId: run }), 404, `instanceId=${run} of jobId=${b}`);
    expectOk(await sx(e, "/openapi/v1/instance/get", { ...NS, jobId: a, jobInstanceId: run }), expect.objectContaining({ instanceId: run }));
  });

  test("update refusals change nothing", async () => {
    const e = await env({ start: false });
    const jobId = await create(e, FULL);
    const before = await getInfo(e, jobId);
    for (const [params, ...words] of [
      [{ timeType: 4, timeExpression: "99" }, "from 1 to 60"],
      [{ timeType: 3 }, "timeExpression must be a whole number of seconds"],
      [{ timeExpression: "0 0 12 * *" }, "timeExpression", "has 5 fields"],
      [{ className: "com.x.Job" }, "className applies to java jobs"],
      [{ executeMode: "grid" }, "executeMode grid"],
      [{ content: "" }, "content must not be empty"],
      [{ maxConcurrency: 10_001 }, "maxConcurrency must be between"],
    ] as [Record<string, unknown>, ...string[]][]) {
      expectError(await sx(e, "/openapi/v1/job/update", { ...NS, jobId, ...params }), 400, ...words);
    }
    expect(await getInfo(e, jobId)).toEqual(before);
  });

  test("other methods 405; unknown paths 404, all in the vendor's shape (workflows: workflows.test.ts)", async () => {
    const e = await env({ start: false });
    expectError(await e.call("PUT", "/openapi/v1/job/create", {}), 405, "PUT is not allowed");
    expectError(await e.call("DELETE", "/openapi/v1/workflow/delete"), 405, "DELETE is not allowed");
    expectError(await e.call("GET", "/openapi/v1/job/list"), 404, "no SchedulerX endpoint");
  });

  test("HEAD on a mutating endpoint is refused (405) and changes nothing", async () => {
    const e = await env();
    const jobId = await create(e, { jobType: "shell", name: "j", content: "true", timeType: 100 });
    const qs = new URLSearchParams({ ...NS, jobId: String(jobId) });
    const h = await e.app.request(`/openapi/v1/job/delete?${qs}`, { method: "HEAD" });
    expect(h.status).toBe(405);
    expect((await sx(e, "/openapi/job/v1/get", { ...NS, jobId }, "get")).status).toBe(200);
  });
});
