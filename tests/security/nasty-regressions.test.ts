// What the nasty-input suite (nasty.test.ts) found, each pinned by the request that showed it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { read } from "../../src/store/sql.ts";
import { type TestEnv, testEnv, withProcesses } from "../helpers.ts";

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ config: { executors: withProcesses(), compat: { ...parseConfig(null, {}).compat, daprAppUrl: "http://127.0.0.1:9" } } });
});
afterAll(() => env.close());

const jobs = async () => JSON.stringify(await read(env.deps.store, "SELECT * FROM jobs ORDER BY id"));

test("a path under Dapr's prefixes that is no Dapr route answers in Dapr's shape, not the native 404", async () => {
  for (const [method, path] of [
    ["GET", "/v1.0/jobs/s1/"],
    ["DELETE", "/v1.0-alpha1/jobs/s1/x"],
    ["POST", "/v1.0/jobs/a/b/c"],
    ["PUT", "/v1.0-alpha1/jobs"],
    ["PATCH", "/v1.0/jobs/"],
    ["GET", "/v1.0/state/store"],
    ["GET", "/v1.0-alpha1/"],
  ] as const) {
    const r = await env.call(method, path, method === "GET" ? undefined : { schedule: "@every 1h" });
    expect({ method, path, status: r.status, body: r.body }).toEqual({
      method,
      path,
      status: 404,
      body: { errorCode: "ERR_DIRECT_INVOKE", message: expect.stringContaining("failed getting app id") },
    });
  }
  // The routes themselves are as before.
  expect((await env.call("POST", "/v1.0/jobs/ok", { schedule: "@every 1h" })).status).toBe(202);
  expect((await env.call("PUT", "/v1.0/jobs/ok")).status).toBe(405);
  expect((await env.call("GET", "/v1.0/jobs")).body.errorCode).toBe("DAPR_SCHEDULER_JOB_NAME_EMPTY");
});

test("a memo holding NUL is refused by every API that sets one, not stored cut short at the NUL", async () => {
  const before = await jobs();
  const http = { http: { url: "http://127.0.0.1:9/" } };
  const native = await env.call("PUT", "/api/v1/namespaces/ns/jobs/m", { schedule: "@every 1h", target: http, memo: "a\u0000b" });
  expect(native.status).toBe(400);
  expect(native.body.error).toMatchObject({ code: "invalid", field: "memo", message: "memo must not contain NUL" });
  const dcs = await env.call("PUT", "/jobs/ns/m", { expr: "@every 1h", callback: http, memo: "m\u0000n" });
  expect({ status: dcs.status, body: dcs.body }).toEqual({ status: 422, body: { msg: "memo must not contain NUL" } });
  const sx = await env.call("POST", "/openapi/v1/job/create", { namespace: "sx", groupId: "g", jobType: "shell", content: "true", name: "n", description: "d\u0000", executeMode: "standalone", timeType: 100 });
  expect(sx.status).toBe(400);
  expect(sx.body.message).toBe("parameter description: must not contain NUL");
  expect(await jobs()).toBe(before);
  // Without the NUL, the memo reads back as given.
  await env.call("PUT", "/api/v1/namespaces/ns/jobs/m", { schedule: "@every 1h", target: http, memo: "a\tb\u0001c" });
  expect((await env.call("GET", "/api/v1/namespaces/ns/jobs/m")).body.memo).toBe("a\tb\u0001c");
});
