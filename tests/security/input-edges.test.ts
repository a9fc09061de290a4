// Inputs at the edges of what the APIs accept (a NUL, a prototype key, a number past a double), each refused by every API.
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

test("a map key valibot's record leaves out (__proto__, prototype, constructor) is refused naming the map, not dropped", async () => {
  const before = await jobs();
  const url = '"url":"http://127.0.0.1:9/"';
  for (const key of ["__proto__", "prototype", "constructor"]) {
    const k = JSON.stringify(key);
    // Raw JSON text: JSON.parse keeps "__proto__" as an own key, as it does for a client's body.
    const cases: [string, string, string, string][] = [
      ["PUT", "/api/v1/namespaces/ns/jobs/p", `{"schedule":"@every 1h","target":{"http":{${url}}},"labels":{${k}:"x"}}`, "labels"],
      ["PUT", "/api/v1/namespaces/ns/jobs/p", `{"schedule":"@every 1h","target":{"http":{${url},"headers":{${k}:"x","a":"b"}}}}`, "target.http.headers"],
      ["PUT", "/api/v1/namespaces/ns/jobs/p", `{"target":{"process":{"command":["/bin/true"],"env":{${k}:"1","B":"2"}}}}`, "target.process.env"],
      ["PUT", "/jobs/ns/p", `{"expr":"@every 1h","callback":{"http":{${url},"header":{${k}:"x"}}}}`, "callback.http.header"],
      ["POST", "/v1/jobs", `{"name":"n","namespace":"t1","docker_image_repo":"alpine","runtime_vars":{${k}:"x"}}`, "runtime_vars"],
      ["POST", "/v1/tasks", `{"taskName":"t","commands":"true","env":{"name":${k},"value":"1"}}`, "env.name"],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await env.call(method, path, body, { "x-tenant-id": "t1" });
      const text = JSON.stringify(r.body);
      expect({ key, field, status: r.status, named: text.includes(field) && text.includes("cannot keep") }).toEqual({ key, field, status: 400, named: true });
    }
  }
  expect(await jobs()).toBe(before);
  // A trigger's variables too; a payload is any JSON, kept as sent.
  await env.call("PUT", "/api/v1/namespaces/ns/jobs/p", { target: { process: { command: ["/bin/true"] } } });
  const t = await env.call("POST", "/api/v1/namespaces/ns/jobs/p/trigger", '{"env":{"constructor":"1"}}');
  expect({ status: t.status, field: t.body.error?.field }).toEqual({ status: 400, field: "env" });
  const p = await env.call("PUT", "/api/v1/namespaces/ns/jobs/q", `{"schedule":"@every 1h","target":{"http":{${url}}},"payload":{"__proto__":{"a":1},"constructor":2}}`);
  expect(p.body.payload).toEqual(JSON.parse('{"__proto__":{"a":1},"constructor":2}'));
});

test("a number past a double's range (1e309) is a 400 naming it in every API, not stored as null", async () => {
  const before = await jobs();
  const url = '"url":"http://127.0.0.1:9/"';
  const cases: [string, string, string, (b: any) => string][] = [
    ["PUT", "/api/v1/namespaces/ns/jobs/big", `{"schedule":"@every 1h","target":{"http":{${url}}},"payload":{"a":[1,-1e309]}}`, (b) => b.error.message],
    ["POST", "/api/v1/namespaces/ns/jobs/big/trigger", `{"args":["x"],"n":1E400}`, (b) => b.error.message],
    ["PUT", "/jobs/ns/big", `{"expr":"@every 1h","callback":{"http":{${url}}},"times":1e309}`, (b) => b.msg],
    ["POST", "/v1.0/jobs/big", `{"schedule":"@every 1h","data":1e309}`, (b) => b.message],
    ["POST", "/v1.0/jobs/big", `{"schedule":"@every 1h","data":{"x":[${"9".repeat(400)}]}}`, (b) => b.message],
    ["POST", "/v1/jobs", `{"name":"n","namespace":"t1","docker_image_repo":"alpine","id":1e309}`, (b) => b.errors[0].message],
    ["POST", "/v1/tasks", `{"taskName":"t","commands":"true","resources":{"cpu":1e309}}`, (b) => b.message],
    ["POST", "/openapi/v1/job/create", `{"namespace":"sx","groupId":"g","jobType":"shell","content":"true","name":"n","executeMode":"standalone","timeType":100,"dataOffset":1e309}`, (b) => b.message],
  ];
  for (const [method, path, body, message] of cases) {
    const r = await env.call(method, path, body, { "x-tenant-id": "t1" });
    expect({ path, status: r.status, says: message(r.body).includes("too large for a double") }).toEqual({ path, status: 400, says: true });
  }
  expect((await env.call("PUT", "/api/v1/namespaces/ns/jobs/big", `{"schedule":"@every 1h","target":{"http":{${url}}},"payload":{"a":[1,-1e309]}}`)).body.error.field).toBe("payload.a.1");
  expect(await jobs()).toBe(before);
  // Large but finite numbers, and ones that round to 0, are numbers as JSON has them.
  const ok = await env.call("PUT", "/api/v1/namespaces/ns/jobs/big", `{"schedule":"@every 1h","target":{"http":{${url}}},"payload":[1e308,-1.7e308,1e-400,"1e309"]}`);
  expect(ok.body.payload).toEqual([1e308, -1.7e308, 0, "1e309"]);
});
