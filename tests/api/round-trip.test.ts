// Export and import: what GET returns for a job, PUT takes back unchanged (the fields the server sets and
// the null ones are left out; secret values sent back as "<secret>" keep the stored ones).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type TestEnv, testEnv } from "../helpers.ts";

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(() => env.close());

const path = "/api/v1/namespaces/rt/jobs/full";
const job = {
  schedule: "30 9 * * 1-5",
  timezone: "Europe/Rome",
  startAt: "2026-01-01T00:00:00Z",
  ttl: "720h",
  target: { http: { url: "http://127.0.0.1:9/hook", method: "PUT", headers: { Authorization: "Bearer real-token", "x-team": "ops" }, secretHeaders: ["Authorization"] } },
  timeout: "20s",
  retry: { times: 3, interval: "2s", backoff: "exponential", maxInterval: "1m" },
  overlap: "queue",
  maxConcurrency: 2,
  misfire: "all",
  payload: { a: [1, "two"] },
  memo: "round trip",
  labels: { team: "ops" },
};

test("a job read with GET is accepted by PUT as it is, and comes back the same (version aside)", async () => {
  expect((await env.call("PUT", path, job)).status).toBe(201);
  const first = (await env.call("GET", path)).body;
  const again = await env.call("PUT", path, first);
  expect(again.status).toBe(200);
  const second = (await env.call("GET", path)).body;
  const { version: v1, updatedAt: u1, ...rest1 } = first;
  const { version: v2, updatedAt: u2, ...rest2 } = second;
  expect(rest2).toEqual(rest1);
  expect(v2).toBe(v1 + 1);
  // The secret header kept its stored value (shown as "<secret>", never sent back in clear).
  expect(second.target.http.headers.Authorization).toBe("<secret>");
  const sealed = await env.deps.store.client.execute({ sql: "SELECT secrets FROM jobs WHERE name = 'full'", args: [] });
  expect(String(sealed.rows[0].secrets)).not.toBe("");
});

test("a body for another namespace or name is refused naming the field; unknown fields are still refused", async () => {
  const body = (await env.call("GET", path)).body;
  const other = await env.call("PUT", "/api/v1/namespaces/rt/jobs/copy", body);
  expect(other.status).toBe(400);
  expect(other.body.error.field).toBe("name");
  // Without name and namespace it is a copy under the new name, which must be given its secret values:
  // "<secret>" stands for a value that job does not have.
  const { name: _n, namespace: _ns, ...moved } = body;
  const blind = await env.call("PUT", "/api/v1/namespaces/rt/jobs/copy", moved);
  expect(blind.status).toBe(400);
  expect(blind.body.error.field).toBe("target.http.headers.Authorization");
  moved.target.http.headers.Authorization = "Bearer real-token";
  expect((await env.call("PUT", "/api/v1/namespaces/rt/jobs/copy", moved)).status).toBe(201);
  const typo = await env.call("PUT", path, { ...body, scheduel: "@every 1h" });
  expect(typo.status).toBe(400);
  expect(typo.body.error.field).toBe("scheduel");
});
