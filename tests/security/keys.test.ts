// API keys: their form and storage, the REST routes, scoped admins, revocation and expiry across nodes, the
// rate per key, Dapr's token header, the audit log, and `tock keys` on the database of a running server.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { createKey } from "../../src/domain/keys.ts";
import { TestClock } from "../../src/clock.ts";
import { read } from "../../src/store/sql.ts";
import { api, ROOT, type Proc, startTock } from "../e2e/process.ts";
import { createLogger } from "../../src/log.ts";
import { envsOf, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = /^tock_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
});
const env = envsOf({ config: { auth: { mode: "keys" } } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const job = { target: { http: { url: "http://127.0.0.1:9/" } } };

describe("keys", () => {
  test("a key is tock_ + id + 32 random bytes, shown once; the database keeps only a SHA-256 of its secret", async () => {
    const e = await env();
    const admin = (await createKey(e.deps, { role: "admin", allNamespaces: true })).token;
    const r = await e.call("POST", "/api/v1/keys", { role: "writer", namespaces: ["a", "b-*"], name: "ci", expires: "90d" }, bearer(admin));
    expect(r.status).toBe(201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body.key).toMatch(TOKEN);
    expect(Buffer.from(r.body.key.slice(18), "base64url").length).toBe(32);
    expect(r.body).toMatchObject({ name: "ci", role: "writer", namespaces: ["a", "b-*"], allNamespaces: false, status: "active" });
    expect(Date.parse(r.body.expiresAt) - Date.parse(r.body.createdAt)).toBe(90 * 86_400_000);
    const got = await e.call("GET", `/api/v1/keys/${r.body.id}`, undefined, bearer(admin));
    expect(got.body.key).toBeUndefined();
    expect(JSON.stringify((await e.call("GET", "/api/v1/keys", undefined, bearer(admin))).body)).not.toContain(r.body.key.slice(18));
    const rows = await read(e.deps.store, "SELECT * FROM api_keys");
    expect(JSON.stringify(rows)).not.toContain(r.body.key.slice(18));
    expect(rows.find((k) => k.id === r.body.id)?.hash).toMatch(/^[0-9a-f]{64}$/);
    // The key works, within its namespaces (a trailing * is a prefix).
    expect((await e.call("PUT", "/api/v1/namespaces/b-1/jobs/j", job, bearer(r.body.key))).status).toBe(201);
    expect((await e.call("PUT", "/api/v1/namespaces/c/jobs/j", job, bearer(r.body.key))).status).toBe(404);
  });

  test("a key's secret must match: the right id with a wrong secret is refused", async () => {
    const e = await env();
    const { token } = await createKey(e.deps, { role: "admin", allNamespaces: true });
    const forged = `${token.slice(0, 18)}${"A".repeat(43)}`;
    const r = await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(forged));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe("the API key is not valid");
  });

  test("bad key bodies are 400s naming the field, and make nothing", async () => {
    const e = await env();
    const admin = bearer((await createKey(e.deps, { role: "admin", allNamespaces: true })).token);
    for (const [body, field] of [
      [{ role: "owner", namespaces: ["a"] }, "role"],
      [{ role: "reader" }, undefined],
      [{ role: "reader", namespaces: ["a"], allNamespaces: true }, undefined],
      [{ role: "reader", namespaces: [] }, "namespaces"],
      [{ role: "reader", namespaces: ["../x"] }, "namespaces.0"],
      [{ role: "reader", namespaces: ["a"], expires: "forever" }, "expires"],
      [{ role: "reader", namespaces: ["a"], name: "a\nb" }, "name"],
      [{ role: "reader", namespaces: ["a"], extra: 1 }, "extra"],
    ] as const) {
      const r = await e.call("POST", "/api/v1/keys", body, admin);
      expect({ body, status: r.status }).toEqual({ body, status: 400 });
      if (field) expect(r.body.error.field).toBe(field);
    }
    expect((await read(e.deps.store, "SELECT count(*) AS n FROM api_keys"))[0].n).toBe(1);
  });

  test("a scoped admin makes, sees and revokes keys within its own namespaces only", async () => {
    const e = await env();
    const root = bearer((await createKey(e.deps, { role: "admin", allNamespaces: true })).token);
    const other = (await e.call("POST", "/api/v1/keys", { role: "reader", namespaces: ["b"] }, root)).body;
    const adminA = bearer((await e.call("POST", "/api/v1/keys", { role: "admin", namespaces: ["a", "a-*"] }, root)).body.key);
    expect((await e.call("POST", "/api/v1/keys", { role: "writer", namespaces: ["a-1"] }, adminA)).status).toBe(201);
    const wider = await e.call("POST", "/api/v1/keys", { role: "writer", namespaces: ["b"] }, adminA);
    expect(wider.status).toBe(400);
    expect(wider.body.error.field).toBe("namespaces");
    expect((await e.call("POST", "/api/v1/keys", { role: "writer", allNamespaces: true }, adminA)).status).toBe(400);
    const seen = (await e.call("GET", "/api/v1/keys", undefined, adminA)).body.items.map((k: { namespaces: string[] }) => k.namespaces);
    expect(seen).toEqual([["a", "a-*"], ["a-1"]]);
    expect((await e.call("GET", `/api/v1/keys/${other.id}`, undefined, adminA)).status).toBe(404);
    expect((await e.call("DELETE", `/api/v1/keys/${other.id}`, undefined, adminA)).status).toBe(404);
    expect((await e.call("GET", `/api/v1/keys/${other.id}`, undefined, root)).body.status).toBe("active");
  });

  test("a revoked key stops working on every node within two seconds; revoking twice is fine", async () => {
    const a = await env();
    const b = await env({ dir: a.dir });
    const root = bearer((await createKey(a.deps, { role: "admin", allNamespaces: true })).token);
    const made = (await a.call("POST", "/api/v1/keys", { role: "reader", allNamespaces: true }, root)).body;
    // Node b learns of the new key within its refresh too.
    await waitUntil(async () => (await b.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(made.key))).status === 200, "node b accepts the new key", 3000);
    expect((await a.call("DELETE", `/api/v1/keys/${made.id}`, undefined, root)).status).toBe(204);
    expect((await a.call("DELETE", `/api/v1/keys/${made.id}`, undefined, root)).status).toBe(204);
    const revokedAt = Date.now();
    expect((await a.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(made.key))).status).toBe(401);
    await waitUntil(async () => (await b.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(made.key))).status === 401, "node b refuses the revoked key", 3000);
    expect(Date.now() - revokedAt).toBeLessThan(2500);
    const r = await b.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(made.key));
    expect(r.body.error.message).toBe(`API key ${made.id} was revoked`);
    expect((await a.call("GET", `/api/v1/keys/${made.id}`, undefined, root)).body.status).toBe("revoked");
  });

  test("an expired key is refused from its expiry on (the clock decides)", async () => {
    const clock = new TestClock(Date.parse("2026-12-01T00:00:00Z"));
    const e = await env({ clock });
    const { token, key } = await createKey(e.deps, { role: "reader", allNamespaces: true, expires: "1h" });
    expect((await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(token))).status).toBe(200);
    clock.set(Date.parse(key.expiresAt!));
    const r = await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(token));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain("expired");
  });

  test("last use is written back in batches", async () => {
    const e = await env();
    const { token, key } = await createKey(e.deps, { role: "reader", allNamespaces: true });
    expect(key.lastUsedAt).toBeNull();
    await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(token));
    await e.deps.keys.flush();
    const rows = await read(e.deps.store, { sql: "SELECT last_used_at FROM api_keys WHERE id = ?", args: [key.id] });
    expect(Number(rows[0].last_used_at)).toBeGreaterThan(0);
  });

  test("Dapr's dapr-api-token header is a key on the Dapr routes", async () => {
    const compat = { ...parseConfig(null, {}).compat, daprAppUrl: "http://127.0.0.1:9" };
    const e = await env({ config: { compat } });
    const { token } = await createKey(e.deps, { role: "writer", namespaces: ["dapr"] });
    expect((await e.call("POST", "/v1.0-alpha1/jobs/j", { schedule: "@every 1h" })).status).toBe(401);
    expect((await e.call("POST", "/v1.0-alpha1/jobs/j", { schedule: "@every 1h" }, { "dapr-api-token": token })).status).toBe(202);
    expect((await e.call("GET", "/v1.0/jobs/j", undefined, { "dapr-api-token": token })).status).toBe(202);
    // Elsewhere it is not a key.
    expect((await e.call("GET", "/api/v1/namespaces/dapr/jobs", undefined, { "dapr-api-token": token })).status).toBe(401);
  });

  test("every change through the API is logged with the key's id and name", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = Object.assign(createLogger({ write: (l) => lines.push(JSON.parse(l)) }), { lines }); // the real logger, masking included
    const e = await env({ log });
    const { token, key } = await createKey(e.deps, { role: "writer", allNamespaces: true, name: "deployer" });
    await e.call("PUT", "/api/v1/namespaces/n/jobs/j", job, bearer(token));
    await e.call("POST", "/api/v1/namespaces/n/jobs/j/pause", undefined, bearer(token));
    await e.call("PUT", "/jobs/n/d", { expr: "@every 1h", callback: { http: { url: "http://127.0.0.1:9/" } } }, bearer(token));
    await e.call("DELETE", "/api/v1/namespaces/n/jobs/j", undefined, bearer(token));
    const changes = log.lines.filter((l) => l.msg === "change" && l.keyId === key.id);
    expect(changes.map((l) => [l.action, l.namespace, l.name, l.keyName])).toEqual([
      ["job.create", "n", "j", "deployer"],
      ["job.pause", "n", "j", "deployer"],
      ["job.create", "n", "d", "deployer"],
      ["job.delete", "n", "j", "deployer"],
    ]);
  });

  test("a key over its rate gets 429 with Retry-After, in each API's shape; other keys are not slowed", async () => {
    const e = await env({ config: { limits: { ...parseConfig(null, {}).limits, rate: { count: 5, perMs: 60_000 }, burst: 5 } } });
    const { token } = await createKey(e.deps, { role: "reader", allNamespaces: true });
    const { token: other } = await createKey(e.deps, { role: "reader", allNamespaces: true });
    for (let i = 0; i < 5; i++) expect((await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(token))).status).toBe(200);
    const r = await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(token));
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe("rate_limited");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const dcs = await e.call("GET", "/jobs/x/y", undefined, bearer(token));
    expect(dcs.status).toBe(429);
    expect(typeof dcs.body.msg).toBe("string");
    expect((await e.call("GET", "/api/v1/namespaces/x/jobs", undefined, bearer(other))).status).toBe(200);
  });
});

describe("start-up and the keys command", () => {
  const { dir, cleanup } = tempDir("tock-keys-");
  afterAll(cleanup);
  const db = `file:${join(dir, "tock.db")}`;
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "src/main.ts"), "keys", ...args, "--db", db], { encoding: "utf8", cwd: dir, env: { ...process.env, TOCK_LOG_LEVEL: "warn" } });

  test("on a non-loopback address with no key, tock refuses to start and says how to make one", async () => {
    const r = spawnSync(process.execPath, [join(ROOT, "src/main.ts"), "serve", "--db", `file:${join(dir, "empty.db")}`, "--port", "0"], {
      encoding: "utf8",
      cwd: dir,
      env: { ...process.env, TOCK_SERVER_HOST: "0.0.0.0" },
      timeout: 20_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("tock keys create --role admin --all-namespaces");
  });

  test("authentication off on a non-loopback address starts with a warning; with process jobs on, it refuses", async () => {
    const p = await startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], { cwd: dir, env: { TOCK_DATABASE_URL: `file:${join(dir, "off.db")}`, TOCK_SERVER_HOST: "0.0.0.0", TOCK_AUTH_MODE: "off" } });
    procs.push(p);
    expect(p.logs.join("\n")).toContain("authentication is off");
    p.child.kill("SIGKILL");
    const r = spawnSync(process.execPath, [join(ROOT, "src/main.ts"), "serve", "--db", `file:${join(dir, "off.db")}`, "--port", "0"], {
      encoding: "utf8",
      cwd: dir,
      env: { ...process.env, TOCK_SERVER_HOST: "0.0.0.0", TOCK_AUTH_MODE: "off", TOCK_EXECUTORS_PROCESS_ENABLED: "true" },
      timeout: 20_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("process, script and container jobs are enabled");
  });

  test("tock keys create prints the key alone; list never shows secrets; revoke works while a server runs", async () => {
    const server = await startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], { cwd: dir, env: { TOCK_DATABASE_URL: db, TOCK_AUTH_MODE: "keys" } });
    procs.push(server);
    expect((await api(server.url, "GET", "/api/v1/namespaces/x/jobs")).status).toBe(401);

    const made = cli("create", "--role", "writer", "--namespace", "team-a", "--namespace", "team-b", "--name", "ci bot", "--expires", "30d");
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(new RegExp(`^${TOKEN.source.slice(1, -1)}\\n$`));
    const token = made.stdout.trim();
    await waitUntil(async () => (await fetch(`${server.url}/api/v1/namespaces/team-a/jobs`, { headers: bearer(token) })).status === 200, "the server accepts the new key", 5000);
    expect((await fetch(`${server.url}/api/v1/namespaces/team-c/jobs`, { headers: bearer(token) })).status).toBe(200); // an empty list: as if it did not exist
    expect((await (await fetch(`${server.url}/api/v1/namespaces/team-c/jobs/x`, { headers: bearer(token) })).json()).error.code).toBe("not_found");

    const list = cli("list");
    expect(list.status).toBe(0);
    expect(list.stdout).toContain("ci bot");
    expect(list.stdout).toContain("team-a,team-b");
    expect(list.stdout).not.toContain(token.slice(18));
    const json = JSON.parse(cli("list", "--json").stdout);
    expect(json[0]).toMatchObject({ name: "ci bot", role: "writer", status: "active" });

    const revoked = cli("revoke", token.slice(5, 17));
    expect(revoked.status).toBe(0);
    await waitUntil(async () => (await fetch(`${server.url}/api/v1/namespaces/team-a/jobs`, { headers: bearer(token) })).status === 401, "the server refuses the revoked key", 3000);

    const bad = cli("create", "--role", "owner", "--all-namespaces");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("role");
    expect(cli("create", "--role", "reader").stderr).toContain("--namespace");
    expect(readFileSync(join(dir, "tock.db")).includes(Buffer.from(token.slice(18)))).toBe(false);
  });
});
