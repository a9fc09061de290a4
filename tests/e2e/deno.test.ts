// Deno smoke test: the same sources served by `deno run`; a job created over HTTP calls a real sink.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Webhook } from "standardwebhooks";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { scrapeChecked, value } from "../prometheus.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-deno-");
const SECRET = `whsec_${Buffer.from("deno".repeat(8)).toString("base64")}`;
// /gz answers gzip although tock asks for none: decoded by tock on Deno too.
const sink = startSink((r) => (r.path === "/gz" ? new Response(gzipSync("hello from gzip"), { headers: { "content-encoding": "gzip" } }) : new Response("ok")));
let proc: Proc | undefined;
afterAll(() => {
  proc?.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

test("tock runs on Deno: create a job, its callback arrives", async () => {
  proc = await startTock([join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "src/main.ts"), "serve"], {
    cwd: ROOT,
    env: {
      TOCK_DATABASE_URL: `file:${join(dir, "tock.db")}`,
      TOCK_SCHEDULER_NODE_ID: "deno-node",
      TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
      TOCK_CALLBACKS_SIGNING_SECRET: SECRET,
      DENO_NO_UPDATE_CHECK: "1",
    },
    timeoutMs: 60_000,
  });
  expect(proc.logs.join("\n")).toContain('"runtime":"deno"');
  const put = await api(proc.url, "PUT", "/api/v1/namespaces/deno/jobs/hello", { dueTime: "500ms", payload: { from: "deno" }, target: { http: { url: `${sink.url}/deno` } } });
  expect(put.status).toBe(201);
  await sink.waitFor(1, 15_000);
  expect(sink.requests[0]).toMatchObject({ path: "/deno", body: JSON.stringify({ from: "deno" }) });
  expect(sink.requests[0].headers["webhook-id"]).toMatch(/^\d+$/);
  expect(new Webhook(SECRET).verify(sink.requests[0].body, sink.requests[0].headers)).toEqual({ from: "deno" });
  const runs = await api(proc.url, "GET", "/api/v1/namespaces/deno/jobs/hello/runs");
  expect(runs.body.items[0].jobName).toBe("hello");

  // A name: resolved and judged by tock, the request pinned to the address (node:http on Deno), Host kept.
  const port = new URL(sink.url).port;
  expect((await api(proc.url, "PUT", "/api/v1/namespaces/deno/jobs/pinned", { dueTime: "100ms", target: { http: { url: `http://localhost:${port}/gz`, method: "GET" } } })).status).toBe(201);
  await sink.waitFor(2, 15_000);
  expect(sink.requests[1]).toMatchObject({ path: "/gz", headers: { host: `localhost:${port}`, "accept-encoding": "identity" } });
  let pinned: { status: string; result: { body: string } } | undefined;
  await waitUntil(async () => {
    pinned = (await api(proc!.url, "GET", "/api/v1/namespaces/deno/jobs/pinned/runs")).body.items[0];
    return pinned?.status === "succeeded";
  }, "the pinned run to end", 15_000);
  expect(pinned!.result.body).toBe("hello from gzip");
  // Its metrics on Deno, in Prometheus's format (promtool's check).
  const metrics = await scrapeChecked(proc.url);
  expect(value(metrics, "tock_runs_finished_total", { target: "http", status: "succeeded" })).toBe(2);
  expect(value(metrics, "tock_build_info", { runtime: "deno" })).toBe(1);

  // A workflow on Deno: its second step after its first (the trigger on runs, the advance), given its answer;
  // a failing one notifies (the notifier, signed).
  const step = (id: string, path: string, after?: string) => ({ id, ...(after ? { dependsOn: [after] } : {}), target: { http: { url: `${sink.url}${path}` } } });
  const notify = [{ on: ["failure"], http: { url: `${sink.url}/notified` } }];
  expect((await api(proc.url, "PUT", "/api/v1/namespaces/deno/workflows/wf", { notify, steps: [step("one", "/wf/one"), step("two", "/wf/two", "one")] })).status).toBe(201);
  const inst = (await api(proc.url, "POST", "/api/v1/namespaces/deno/workflows/wf/trigger")).body;
  await waitUntil(async () => (await api(proc!.url, "GET", `/api/v1/workflow-instances/${inst.id}`)).body.status === "succeeded", "the instance on Deno", 15_000);
  expect(JSON.parse(sink.requests.find((r) => r.path === "/wf/two")!.body).upstream.one.status).toBe("succeeded");
  // (Port 1 refuses the connection: the step fails at once.)
  expect((await api(proc.url, "PUT", "/api/v1/namespaces/deno/workflows/wf", { notify, steps: [{ id: "bad", target: { http: { url: "http://127.0.0.1:1/x" } } }] })).status).toBe(200);
  expect((await api(proc.url, "POST", "/api/v1/namespaces/deno/workflows/wf/trigger")).status).toBe(202);
  await waitUntil(() => sink.requests.some((r) => r.path === "/notified"), "the notification on Deno", 15_000);
  const notified = sink.requests.find((r) => r.path === "/notified")!;
  expect(new Webhook(SECRET).verify(notified.body, notified.headers)).toMatchObject({ event: "failure", workflow: "wf" });

  // The dashboard renders on Deno too (its JSX, and its assets embedded as modules).
  const page = await fetch(`${proc.url}/ui?namespace=deno`);
  const html = await page.text();
  expect(page.status).toBe(200);
  expect(html).toStartWith("<!doctype html>");
  expect(html).toContain('href="/ui/jobs/deno/pinned"');
  const css = await fetch(`${proc.url}${/href="(\/ui\/assets\/app\.[0-9a-f]+\.css)"/.exec(html)![1]}`);
  expect(css.headers.get("content-type")).toStartWith("text/css");
  expect(await css.text()).toContain(".logs");
  proc.child.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 90_000);

test("on Deno: keys made by `tock keys`, required and scoped; secret headers sealed and write-only", async () => {
  const deno = [join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "src/main.ts")];
  const db = `file:${join(dir, "keys.db")}`;
  const env = { DENO_NO_UPDATE_CHECK: "1", TOCK_LOG_LEVEL: "warn", PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  const made = spawnSync(deno[0], [...deno.slice(1), "keys", "create", "--role", "writer", "--namespace", "deno", "--db", db], { encoding: "utf8", env, timeout: 60_000 });
  expect(made.status).toBe(0);
  const key = made.stdout.trim();
  expect(key).toMatch(/^tock_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  const keyed = await startTock([...deno, "serve"], {
    cwd: ROOT,
    env: { TOCK_DATABASE_URL: db, TOCK_SCHEDULER_NODE_ID: "deno-keys", TOCK_AUTH_MODE: "keys", TOCK_SECRETS_KEY: Buffer.alloc(32, 5).toString("base64"), DENO_NO_UPDATE_CHECK: "1" },
    timeoutMs: 60_000,
  });
  try {
    const put = (path: string, headers: Record<string, string>) =>
      fetch(`${keyed.url}${path}`, { method: "PUT", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ target: { http: { url: `${sink.url}/k`, headers: { Authorization: "Bearer deno-secret" } } } }) });
    expect((await put("/api/v1/namespaces/deno/jobs/k", {})).status).toBe(401);
    expect((await put("/api/v1/namespaces/other/jobs/k", { authorization: `Bearer ${key}` })).status).toBe(404);
    const ok = await put("/api/v1/namespaces/deno/jobs/k", { authorization: `Bearer ${key}` });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { target: { http: { headers: unknown } } }).target.http.headers).toEqual({ Authorization: "<secret>" });
    for (const f of ["keys.db", "keys.db-wal"]) expect(readFileSync(join(dir, f)).includes(Buffer.from("deno-secret"))).toBe(false);
    // The API's description and its reference page, open without a key; the page's renderer read by Deno's text import.
    expect((await fetch(`${keyed.url}/api/v1/openapi.json`)).status).toBe(200);
    const page = await (await fetch(`${keyed.url}/docs`)).text();
    const bundle = await fetch(`${keyed.url}/${/docs\/assets\/swagger-ui-bundle\.[\w-]+\.js/.exec(page)![0]}`);
    expect(bundle.status).toBe(200);
    expect(await bundle.text()).toContain("SwaggerUIBundle");
  } finally {
    keyed.child.kill("SIGKILL");
  }
}, 90_000);
