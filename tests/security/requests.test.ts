// Requests a browser or a stranger can forge, replayed as attacks: state changes over GET, DNS rebinding
// (a foreign Host), cross-origin changes, CORS, deep JSON, retry storms, and more requests than the server
// takes at once.
import { afterAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { read } from "../../src/store/sql.ts";
import { envsOf, type TestEnv, withProcesses } from "../helpers.ts";

const env = envsOf();
const defaults = parseConfig(null, {});
const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } } };
const count = async (e: TestEnv) => Number((await read(e.deps.store, "SELECT count(*) AS n FROM jobs"))[0].n);

describe("no state changes over GET or HEAD", () => {
  test("an <img src> on a SchedulerX mutation (GET) creates, runs and deletes nothing", async () => {
    const e = await env({ config: { executors: withProcesses() } });
    const ns = "namespace=n1&groupId=g";
    const created = await e.call("POST", `/openapi/v1/job/create?${ns}&jobType=shell&content=true&name=x&executeMode=standalone&timeType=100`);
    expect(created.status).toBe(200);
    const before = await read(e.deps.store, "SELECT id, enabled, version FROM jobs");
    for (const method of ["GET", "HEAD"]) {
      for (const op of ["job/create?jobType=shell&content=id&name=y&executeMode=standalone&timeType=100", `job/delete?jobId=${created.body.data}`, `job/disable?jobId=${created.body.data}`, `job/execute?jobId=${created.body.data}`, `job/update?jobId=${created.body.data}&description=z`]) {
        const r = await e.app.request(`/openapi/v1/${op}&${ns}`, { method });
        expect({ op, method, status: r.status }).toEqual({ op, method, status: 405 });
      }
    }
    expect(await read(e.deps.store, "SELECT id, enabled, version FROM jobs")).toEqual(before);
    expect((await read(e.deps.store, "SELECT count(*) AS n FROM runs"))[0].n).toBe(0);
  });

  test("every GET and HEAD route of every API leaves the database as it was", async () => {
    const e = await env();
    await e.call("PUT", "/api/v1/namespaces/n/jobs/j", job);
    const run = (await e.call("POST", "/api/v1/namespaces/n/jobs/j/trigger")).body;
    const snapshot = async () => JSON.stringify([await read(e.deps.store, "SELECT * FROM jobs"), await read(e.deps.store, "SELECT * FROM runs"), await read(e.deps.store, "SELECT * FROM api_keys")]);
    const before = await snapshot();
    const paths = e.app.routes.filter((r) => r.method === "GET").map((r) => r.path.replace(":ns", "n").replace(":name", "j").replace(":id", String(run.id)).replace(":exec", "x"));
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) {
      for (const method of ["GET", "HEAD"]) {
        const r = await e.app.request(`${path}?jobId=1&namespace=n&groupId=g&taskIds=1`, { method, headers: { "x-tenant-id": "n" } });
        expect(r.status).toBeLessThan(path === "/readyz" ? 504 : 500); // (the scheduler is not started here)
      }
    }
    expect(await snapshot()).toBe(before);
  });
});

describe("Host and Origin", () => {
  test("a DNS-rebinding page (Host: evil.example) gets 421; the server's own names and addresses are served", async () => {
    const e = await env();
    const at = (host: string) => e.app.request("/api/v1/namespaces/n/jobs", { headers: { host } });
    expect((await at("evil.example")).status).toBe(421);
    expect((await at("evil.example:8080")).status).toBe(421);
    const r = await at("rebind.attacker.test");
    expect((await r.json()).error.code).toBe("misdirected");
    for (const host of ["localhost", "localhost:8080", "127.0.0.1:8080", "LOCALHOST.", "127.1:8080"]) expect({ host, status: (await at(host)).status }).toEqual({ host, status: 200 });
    expect((await at("[::1]:8080")).status).toBe(421); // not an address this server listens on
    // /healthz too: a rebinding page learns nothing.
    expect((await e.app.request("/healthz", { headers: { host: "evil.example" } })).status).toBe(421);
  });

  test("[server] hosts names what the server answers to (wildcards too); the Unix socket is not checked", async () => {
    const e = await env({ config: { server: { ...defaults.server, hosts: ["tock.example.com", "*.internal"] } } });
    const at = (host: string, env?: object) => e.app.request("/api/v1/namespaces/n/jobs", { headers: { host } }, env);
    expect((await at("tock.example.com:443")).status).toBe(200);
    expect((await at("a.b.internal")).status).toBe(200);
    expect((await at("internal")).status).toBe(421);
    expect((await at("localhost")).status).toBe(421);
    expect((await at("anything", { transport: "unix" })).status).toBe(200);
  });

  test("a change from another origin's page is refused and changes nothing; same-origin pages and clients without Origin are served", async () => {
    const e = await env();
    const put = (headers: Record<string, string>) => e.call("PUT", "/api/v1/namespaces/n/jobs/j", job, { host: "localhost:8080", ...headers });
    expect((await put({ origin: "https://evil.example" })).status).toBe(403);
    expect((await put({ origin: "null" })).status).toBe(403);
    expect((await put({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    // A form POST to a SchedulerX change from another page.
    const form = await e.call("POST", "/openapi/v1/job/create", "namespace=n&groupId=g&jobType=shell&content=id&name=x&executeMode=standalone&timeType=100", {
      origin: "https://evil.example",
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(403);
    expect(await count(e)).toBe(0);
    expect((await put({ origin: "http://localhost:8080" })).status).toBe(201);
    expect((await put({})).status).toBe(200);
    // Reads from any page are answered (without CORS headers the browser keeps the answer from the page).
    const get = await e.call("GET", "/api/v1/namespaces/n/jobs/j", undefined, { origin: "https://evil.example" });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("CORS is off unless [server] cors_origins lists the origin", async () => {
    const e = await env({ config: { server: { ...defaults.server, corsOrigins: ["https://ops.example.com"] } } });
    const pre = (origin: string) =>
      e.app.request("/api/v1/namespaces/n/jobs/j", { method: "OPTIONS", headers: { origin, "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type" } });
    const ok = await pre("https://ops.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://ops.example.com");
    expect(ok.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect((await pre("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/j", job, { origin: "https://ops.example.com" })).status).toBe(201);
  });
});

describe("bombs and floods", () => {
  test("JSON nested deeper than 64 levels is a 400 naming the body, at once, on every API; 64 levels are fine", async () => {
    const e = await env({ config: { compat: { ...defaults.compat, daprAppUrl: "http://127.0.0.1:9" } } });
    const deep = (n: number) => `{"schedule":"@every 1h","target":{"http":{"url":"http://127.0.0.1:9/"}},"payload":${"[".repeat(n)}${"]".repeat(n)}}`;
    for (const n of [65, 10_000, 50_000, 500_000]) {
      const t0 = performance.now();
      const r = await e.call("PUT", "/api/v1/namespaces/n/jobs/deep", deep(n));
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe("body");
      expect(performance.now() - t0).toBeLessThan(2000); // a scan, not a recursion (generous: a busy machine)
    }
    const body = "[".repeat(100_000);
    expect((await e.call("PUT", "/jobs/n/d", body)).status).toBe(400);
    expect((await e.call("POST", "/v1.0-alpha1/jobs/d", body)).status).toBe(400);
    expect((await e.call("POST", "/v1/jobs", body)).status).toBe(400);
    expect((await e.call("POST", "/v1/tasks", body, { "x-tenant-id": "n" })).status).toBe(400);
    expect((await e.call("POST", "/openapi/v1/job/create", body)).status).toBe(400);
    expect((await e.call("POST", "/api/v1/namespaces/n/jobs/deep/trigger", body)).status).toBe(400);
    // Brackets inside strings do not count.
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/s", { ...job, memo: "[".repeat(1000) })).status).toBe(201);
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/ok", deep(62))).status).toBe(201);
    expect(await count(e)).toBe(2);
  });

  test("a retry interval under scheduler.min_every is refused (a 1 ms retry storm)", async () => {
    const e = await env();
    const r = await e.call("PUT", "/api/v1/namespaces/n/jobs/storm", { ...job, retry: { times: 1000, interval: "1ms", backoff: "fixed" } });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe("retry.interval");
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/storm", { ...job, retry: { times: 3, interval: "2s", maxInterval: "10ms" } })).body.error.field).toBe("retry.maxInterval");
    expect((await e.call("PUT", "/jobs/n/storm", { expr: "@every 1h", callback: { http: { url: "http://127.0.0.1:9/" }, retryTimes: 5, retryInterval: "1ms" } })).status).toBe(422);
    expect(await count(e)).toBe(0);
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/storm", { ...job, retry: { times: 3, interval: "1s" } })).status).toBe(201);
  });

  test("past [limits] max_concurrent_requests the server answers 503 with Retry-After", async () => {
    const e = await env({ config: { limits: { ...defaults.limits, maxConcurrentRequests: 2 } } });
    const held: Promise<Response>[] = [];
    // Two requests held open on bodies that have not ended yet.
    const streams = [0, 1].map(() => new TransformStream<Uint8Array, Uint8Array>());
    for (const s of streams) held.push(Promise.resolve(e.app.request("/api/v1/namespaces/n/jobs/j", { method: "PUT", body: s.readable, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit)));
    await new Promise((r) => setTimeout(r, 50));
    const third = await e.app.request("/api/v1/namespaces/n/jobs");
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("1");
    for (const s of streams) {
      const w = s.writable.getWriter();
      await w.write(new TextEncoder().encode(JSON.stringify(job)));
      await w.close();
    }
    expect((await Promise.all(held)).map((r) => r.status).sort()).toEqual([200, 201]);
    expect((await e.app.request("/api/v1/namespaces/n/jobs")).status).toBe(200);
  });
});
