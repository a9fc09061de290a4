// Errors a newcomer meets first, in words that say what to do: the @every form without its @, a missing
// target, a wrong type, and a method a path does not serve (405 with Allow, not a 404).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type TestEnv, testEnv } from "../helpers.ts";

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(() => env.close());

const target = { http: { url: "http://127.0.0.1:9/" } };
const put = (body: unknown) => env.call("PUT", "/api/v1/namespaces/f/jobs/x", body);

test('"every 10s" suggests "@every 10s"', async () => {
  const r = await put({ schedule: "every 10s", target });
  expect(r.status).toBe(400);
  expect(r.body.error).toEqual({ code: "invalid", field: "schedule", message: 'schedule: "every 10s" is not a schedule; did you mean "@every 10s"?' });
});

test("a missing target names the kinds; a wrong type says what was expected; an unknown field is named", async () => {
  expect((await put({ schedule: "@every 10s" })).body.error).toEqual({ code: "invalid", field: "target", message: "target is required: one of http, tcp, process, script or container" });
  expect((await put({ schedule: "@every 10s", timeout: 5, target })).body.error).toEqual({ code: "invalid", field: "timeout", message: "timeout must be a string, not 5" });
  expect((await put({ schedule: "@every 10s", retry: "x", target })).body.error).toEqual({ code: "invalid", field: "retry", message: 'retry must be an object, not "x"' });
  // A map given as an array is refused, not taken as an empty map.
  expect((await put({ schedule: "@every 10s", labels: [], target })).body.error).toEqual({ code: "invalid", field: "labels", message: "labels must be an object of names and values, not an array" });
  expect((await put({ schedule: "@every 10s", target: { http: { url: "http://127.0.0.1:9/", headers: [] } } })).body.error.field).toBe("target.http.headers");
  expect((await put({ schedule: "@every 10s", overlap: "never", target })).body.error.message).toMatch(/^overlap must be one of allow, forbid, replace, queue/);
  expect((await put({ schedule: "@every 10s", tags: {}, target })).body.error).toMatchObject({ field: "tags", message: "tags is not a field this accepts" });
  for (const m of ["timeout", "overlap", "tags"]) expect(JSON.stringify((await put({ schedule: "@every 10s", [m]: 5, target })).body)).not.toMatch(/Invalid (type|key|option)/);
  expect((await env.call("GET", "/api/v1/namespaces/f/jobs/x")).status).toBe(404); // nothing was written
});

test("a method a path does not serve: 405 with Allow; a path nothing serves: 404", async () => {
  const r = await env.call("POST", "/api/v1/namespaces/f/jobs/x", {});
  expect(r.status).toBe(405);
  expect(r.headers.get("allow")).toBe("DELETE, GET, HEAD, PUT");
  expect(r.body.error.code).toBe("method_not_allowed");
  const runs = await env.call("PUT", "/api/v1/runs/1", {});
  expect(runs.status).toBe(405);
  expect(runs.headers.get("allow")).toBe("DELETE, GET, HEAD");
  expect((await env.call("GET", "/api/v1/nothing/here")).status).toBe(404);
});
