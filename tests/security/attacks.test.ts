// The attacks that made tock unsafe to expose, each replayed as an attacker would on loopback. Each failed
// on the tock before API keys (it did what the attacker asked) and must be refused now. Attacks on
// callbacks (SSRF spellings, decompression bombs, per-host sockets) are replayed in tests/net/.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { createKey } from "../../src/domain/keys.ts";
import { createLogger } from "../../src/log.ts";
import { read } from "../../src/store/sql.ts";
import { envsOf, startSink, waitUntil, withProcesses } from "../helpers.ts";

const defaults = parseConfig(null, {});
// As exposed beyond loopback: [auth] mode auto on a non-loopback host.
const exposed = envsOf({ config: { server: { ...defaults.server, host: "0.0.0.0", hosts: ["localhost"] } } });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } }, memo: "victim" };

describe("attacks", () => {
  test("any client reads, replaces, triggers and deletes any namespace's jobs (native and foreign)", async () => {
    const e = await exposed();
    const { token } = await createKey(e.deps, { role: "writer", namespaces: ["victim"] });
    expect((await e.call("PUT", "/api/v1/namespaces/victim/jobs/j", job, bearer(token))).status).toBe(201);
    for (const [method, path] of [
      ["GET", "/api/v1/namespaces/victim/jobs/j"],
      ["PUT", "/api/v1/namespaces/victim/jobs/j"],
      ["POST", "/api/v1/namespaces/victim/jobs/j/trigger"],
      ["DELETE", "/api/v1/namespaces/victim/jobs/j"],
      ["GET", "/jobs/victim/j"],
      ["DELETE", "/jobs/victim/j"],
    ]) {
      const r = await e.call(method, path, method === "PUT" ? job : undefined);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 401 });
    }
    expect((await read(e.deps.store, "SELECT memo FROM jobs"))[0].memo).toBe("victim");
  });

  test("Juice trusts X-Tenant-Id as given", async () => {
    const e = await exposed({ config: { executors: withProcesses() } });
    const victim = await createKey(e.deps, { role: "writer", namespaces: ["victim"] });
    const attacker = await createKey(e.deps, { role: "writer", namespaces: ["attacker"] });
    const task = (await e.call("POST", "/v1/tasks", { taskName: "t", commands: "true" }, { ...bearer(victim.token), "x-tenant-id": "victim" })).body.data.taskId;
    const stolen = await e.call("GET", `/v1/tasks?taskIds=${task}`, undefined, { ...bearer(attacker.token), "x-tenant-id": "victim" });
    expect(stolen.body.data).toEqual([]);
    const planted = await e.call("POST", "/v1/tasks", { taskName: "t", commands: "id" }, { ...bearer(attacker.token), "x-tenant-id": "victim" });
    expect(planted.status).toBe(400); // Juice's "no record": no such tenant for this key
    expect((await read(e.deps.store, "SELECT count(*) AS n FROM jobs WHERE namespace = 'victim'"))[0].n).toBe(1);
  });

  test("run ids are sequential: walking /api/v1/runs/1..N reads every namespace's runs", async () => {
    const e = await exposed();
    const victim = await createKey(e.deps, { role: "writer", namespaces: ["victim"] });
    const attacker = await createKey(e.deps, { role: "reader", namespaces: ["attacker"] });
    await e.call("PUT", "/api/v1/namespaces/victim/jobs/j", job, bearer(victim.token));
    for (let i = 0; i < 3; i++) await e.call("POST", "/api/v1/namespaces/victim/jobs/j/trigger", undefined, bearer(victim.token));
    for (let id = 1; id <= 5; id++) {
      for (const path of [`/api/v1/runs/${id}`, `/api/v1/runs/${id}/logs`]) expect((await e.call("GET", path, undefined, bearer(attacker.token))).status).toBe(404);
    }
    expect((await e.call("GET", "/api/v1/runs/1", undefined, bearer(victim.token))).status).toBe(200);
  });

  test("20,000 jobs in 10 s from one client: a key is held to its rate", async () => {
    const e = await exposed({ config: { limits: { ...defaults.limits, rate: { count: 50, perMs: 1000 }, burst: 100 } } });
    const { token } = await createKey(e.deps, { role: "writer", allNamespaces: true });
    const statuses = await Promise.all(Array.from({ length: 400 }, (_, i) => e.call("PUT", `/api/v1/namespaces/flood/jobs/j${i}`, job, bearer(token)).then((r) => r.status)));
    const made = statuses.filter((s) => s === 201).length;
    expect(made).toBeGreaterThanOrEqual(100);
    expect(made).toBeLessThan(150); // the burst, and what the rate refilled meanwhile
    expect(statuses.filter((s) => s === 429).length).toBe(400 - made);
  });

  test("the database file is readable by everyone (0644) and holds header values in plain text", async () => {
    const e = await exposed({ config: { secrets: { ...defaults.secrets, key: Buffer.alloc(32, 3).toString("base64") } } });
    const { token } = await createKey(e.deps, { role: "writer", allNamespaces: true });
    await e.call("PUT", "/api/v1/namespaces/n/jobs/h", { ...job, target: { http: { url: "http://127.0.0.1:9/", headers: { Authorization: "Bearer leaked-value" } } } }, bearer(token));
    const file = join(e.dir, "tock.db");
    expect((await import("node:fs")).statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.concat([readFileSync(file), readFileSync(`${file}-wal`)]).includes(Buffer.from("leaked-value"))).toBe(false);
    expect(JSON.stringify((await e.call("GET", "/api/v1/namespaces/n/jobs/h", undefined, bearer(token))).body)).not.toContain("leaked-value");
  });

  test("a failed Juice callback logs its URL's password", async () => {
    const lines: string[] = [];
    const failing = startSink(() => new Response("no", { status: 500 }));
    try {
      const e = await exposed({ log: createLogger({ write: (l) => lines.push(l) }), start: true, config: { executors: withProcesses(), scheduler: { ...defaults.scheduler, nodeId: "n", pollInterval: 100 } } });
      const { token } = await createKey(e.deps, { role: "writer", allNamespaces: true });
      const url = failing.url.replace("http://", "http://juice:hunter2@");
      await e.call("POST", "/v1/tasks", { taskName: "t", commands: "true", callbackUrl: `${url}/cb` }, { ...bearer(token), "x-tenant-id": "n" });
      await waitUntil(() => lines.some((l) => l.includes("juice callback failed")), "the failed callback's log line");
      expect(lines.join("\n")).not.toContain("hunter2");
    } finally {
      failing.stop();
    }
  });
});
