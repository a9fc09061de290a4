// No input may produce a 500 or change anything when rejected: random bodies, mutated valid jobs and
// random query strings against the real app and database.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { type TestEnv, testEnv } from "../helpers.ts";

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv();
});
afterAll(() => env.close());

const valid = {
  schedule: "*/5 * * * *",
  timezone: "Europe/Paris",
  target: { http: { url: "http://127.0.0.1:9/x", method: "PUT", headers: { a: "b" } } },
  retry: { times: 2, interval: "1s", backoff: "fixed", maxInterval: "10s" },
  timeout: "5s",
  overlap: "queue",
  misfire: "all",
  payload: { k: [1, 2] },
  labels: { a: "b" },
};

const count = async () => (await env.call("GET", "/api/v1/namespaces/fz/jobs?limit=1000")).body.items.length;

test("random JSON bodies never produce a 500, and a rejected one writes nothing", async () => {
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (body) => {
      const before = await count();
      const res = await env.call("PUT", "/api/v1/namespaces/fz/jobs/j", body);
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.body.error.code).toBeString();
        expect(await count()).toBe(before);
      }
    }),
    { numRuns: 300 },
  );
});

test("a valid job with one field replaced by a random value never produces a 500", async () => {
  const paths = ["schedule", "timezone", "dueTime", "ttl", "repeats", "startAt", "endAt", "target", "target.http", "target.http.url", "target.http.method", "target.http.headers", "retry", "retry.times", "retry.interval", "timeout", "overlap", "misfire", "maxConcurrency", "labels", "enabled", "memo"];
  const scalar = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom("@every 1s", "R/P1D", "R0/PT1S", "2026-13-45T99:99:99Z", "-1s", "1e400", "0 0 30 2 *", "@reboot", "L W #", "*/0 * * * *", "9999-12-31T23:59:59Z", "P9999Y", "America/Nowhere", "http://[::1]:99999/", "ftp://x"),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), fc.oneof(scalar, fc.jsonValue()), fc.nat(3), async (path, value, n) => {
      const body = structuredClone(valid) as Record<string, unknown>;
      const keys = path.split(".");
      let at: Record<string, unknown> = body;
      for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
      at[keys[keys.length - 1]] = value;
      const res = await env.call("PUT", `/api/v1/namespaces/fz/jobs/m${n}`, body);
      expect(res.status).toBeLessThan(500);
    }),
    { numRuns: 400 },
  );
});

test("random query strings and path segments never produce a 500", async () => {
  await fc.assert(
    fc.asyncProperty(fc.string(), fc.string(), fc.constantFrom("limit", "cursor", "prefix", "status", "spec", "timezone", "count"), async (seg, value, key) => {
      const q = `${key}=${encodeURIComponent(value)}`;
      for (const path of [
        `/api/v1/namespaces/${encodeURIComponent(seg) || "x"}/jobs?${q}`,
        `/api/v1/namespaces/fz/jobs/${encodeURIComponent(seg) || "x"}/runs?${q}`,
        `/api/v1/runs/${encodeURIComponent(seg) || "x"}`,
        `/api/v1/schedule/preview?${q}&spec=${encodeURIComponent(value)}`,
      ]) {
        const res = await env.call("GET", path);
        expect(res.status).toBeLessThan(500);
      }
    }),
    { numRuns: 200 },
  );
});
