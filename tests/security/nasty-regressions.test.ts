// What the nasty-input suite (nasty.test.ts) found, each pinned by the request that showed it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { type TestEnv, testEnv, withProcesses } from "../helpers.ts";

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ config: { executors: withProcesses(), compat: { ...parseConfig(null, {}).compat, daprAppUrl: "http://127.0.0.1:9" } } });
});
afterAll(() => env.close());

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
