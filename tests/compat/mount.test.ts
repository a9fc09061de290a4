// Each facade is mounted at its vendor's path unless [compat] turns it off; off, its paths are unknown routes.
import { afterEach, expect, test } from "bun:test";
import { type TestEnv, testEnv } from "../helpers.ts";

const PROBES = {
  dcs: ["GET", "/jobs/ns/name"],
  dapr: ["GET", "/v1.0-alpha1/jobs/name"],
  alauda: ["GET", "/v1/jobs/1"],
  juice: ["GET", "/v1/tasks?taskIds=1"],
  schedulerx: ["GET", "/openapi/v1/instance/getList?jobId=1"],
} as const;
type Api = keyof typeof PROBES;

let envs: TestEnv[] = [];
afterEach(async () => {
  await Promise.all(envs.map((e) => e.close()));
  envs = [];
});

/** Whether the route answered as the native "no route" 404. */
const unrouted = (r: { status: number; body: any }) => r.status === 404 && r.body?.error?.code === "not_found" && String(r.body.error.message).startsWith("no route");

test("every facade answers at its path by default", async () => {
  const e = await testEnv();
  envs.push(e);
  for (const [api, [method, path]] of Object.entries(PROBES)) {
    const r = await e.call(method, path, undefined, { "x-tenant-id": "t" });
    expect({ api, unrouted: unrouted(r) }).toEqual({ api, unrouted: false });
  }
});

test("a facade turned off in [compat] is not served; the others still are", async () => {
  for (const off of Object.keys(PROBES) as Api[]) {
    const e = await testEnv({ config: { compat: { [off]: false } } });
    envs.push(e);
    for (const [api, [method, path]] of Object.entries(PROBES)) {
      const r = await e.call(method, path, undefined, { "x-tenant-id": "t" });
      expect({ off, api, unrouted: unrouted(r) }).toEqual({ off, api, unrouted: api === off });
    }
  }
});
