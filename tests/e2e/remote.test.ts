// tock processes on a libSQL server (tests/hrana-server.ts: Hrana over HTTP in front of a real database
// file): two nodes share a burst and fire every slot exactly once while another client holds the write lock
// in interactive transactions across HTTP requests; a wrong auth_token stops start-up. And an embedded
// replica whose sync_url refuses connections, never answers, or answers but is no replication primary:
// start-up fails within a bound, non-zero.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { startHranaServer } from "../hrana-server.ts";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-e2e-remote-");
const procs: Proc[] = [];
const sink = startSink();
const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const p of procs) p.child.kill("SIGKILL");
  for (const c of closers.splice(0).reverse()) await c();
  sink.stop();
  cleanup();
});

const TOKEN = "cluster-secret-token";
const server = startHranaServer({ path: join(dir, "primary.db"), authToken: TOKEN, busyTimeoutMs: 5_000 });
closers.push(() => server.stop());

/** Runs `tock serve` to its exit (it should not start): exit code, output, and how long it took. */
function failedStart(env: Record<string, string>, limitMs = 40_000): Promise<{ code: number | string; output: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(ROOT, "src/main.ts"), "serve"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TOCK_SERVER_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code: code ?? signal ?? -1, output, ms: performance.now() - t0 });
    }),
  );
}

// A sync_url that accepts connections and never answers: tock gives up after its connect timeout (15 s in
// `tock serve`). Started now, so that the wait overlaps the other tests; checked by the last one.
const silentSockets = new Set<Socket>();
const silent: Server = createServer((s) => {
  silentSockets.add(s);
  s.on("error", () => {});
});
await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
const silentStart = failedStart({ TOCK_DATABASE_URL: `file:${join(dir, "silent-replica.db")}`, TOCK_DATABASE_SYNC_URL: silentUrl });
closers.push(
  () =>
    new Promise<void>((r) => {
      for (const s of silentSockets) s.destroy();
      silent.close(() => r());
    }),
);

const node = (id: string) =>
  startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
    cwd: dir,
    env: {
      TOCK_DATABASE_URL: server.url,
      TOCK_DATABASE_AUTH_TOKEN: TOKEN,
      TOCK_SCHEDULER_NODE_ID: id,
      TOCK_SCHEDULER_POLL_INTERVAL: "100ms",
      TOCK_SCHEDULER_LOOKAHEAD: "500ms",
      TOCK_SCHEDULER_LEASE: "2s",
      // A node holds at most max(4 batches, 2 × max_in_flight, max_held / live nodes) = 50 runs: the burst
      // must be shared.
      TOCK_SCHEDULER_BATCH_SIZE: "10",
      TOCK_SCHEDULER_MAX_IN_FLIGHT: "10",
      TOCK_SCHEDULER_MAX_HELD: "100",
    },
  });

test("two nodes on one libSQL server fire every slot of a burst exactly once, while another client holds the write lock across requests", async () => {
  const nodes = await Promise.all(["r1", "r2"].map(node));
  procs.push(...nodes);
  for (const p of nodes) expect(p.logs.join("\n")).not.toContain(TOKEN); // the token is never logged

  const N = 80;
  const due = Date.now() + 2_500;
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      api(nodes[i % 2].url, "PUT", `/api/v1/namespaces/r/jobs/once-${i}`, { dueTime: new Date(due).toISOString(), target: { http: { url: `${sink.url}/once/${i}` } } }).then((r) =>
        expect(r.status).toBe(201),
      ),
    ),
  );
  expect((await api(nodes[1].url, "PUT", "/api/v1/namespaces/r/jobs/every", { schedule: "@every 1s", target: { http: { url: `${sink.url}/every` } } })).status).toBe(201);

  // Another client writes in interactive transactions (BEGIN IMMEDIATE, two statements, COMMIT: three HTTP
  // requests on one stream) all along: the nodes' writes wait for its lock on the server.
  const other = createClient({ url: server.url, authToken: TOKEN });
  closers.push(() => other.close());
  await other.execute("CREATE TABLE IF NOT EXISTS side (n INTEGER)");
  let contending = true;
  let transactions = 0;
  const contender = (async () => {
    while (contending) {
      const tx = await other.transaction("write");
      await tx.execute({ sql: "INSERT INTO side VALUES (?)", args: [transactions] });
      await tx.execute("SELECT count(*) FROM runs");
      await tx.commit();
      transactions++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const once = () => sink.requests.filter((r) => r.path.startsWith("/once/"));
  await waitUntil(() => once().length >= N, "every one-shot to fire", 30_000);
  // Both nodes poll on: several more claim cycles each, and nothing fires again.
  const pipelines = server.stats.http["POST /v2/pipeline"];
  await waitUntil(() => server.stats.http["POST /v2/pipeline"] >= pipelines + 100, "more claim cycles");
  contending = false;
  await contender;

  expect(once()).toHaveLength(N);
  expect(new Set(once().map((r) => r.path)).size).toBe(N);
  for (const r of once()) expect(r.at).toBeGreaterThanOrEqual(due);
  const every = sink.requests.filter((r) => r.path === "/every");
  expect(every.length).toBeGreaterThan(0);
  expect(new Set(every.map((r) => r.headers["webhook-id"])).size).toBe(every.length);

  const q = async (sql: string) => (await other.execute(sql)).rows;
  expect(await q("SELECT job_id, scheduled_at, count(*) AS n FROM runs WHERE attempt = 1 GROUP BY job_id, scheduled_at HAVING n > 1")).toEqual([]);
  expect((await q("SELECT node_id, count(*) AS n FROM runs WHERE job_name LIKE 'once-%' GROUP BY node_id")).length).toBe(2); // shared
  expect((await q("SELECT DISTINCT status FROM runs WHERE job_name LIKE 'once-%'")).map((r) => r.status)).toEqual(["succeeded"]);

  // Over HTTP indeed, with the contender's transactions spanning requests (batons), and every lock it held
  // waited for rather than failed.
  expect(transactions).toBeGreaterThan(3);
  expect(server.stats.batonsUsed).toBeGreaterThanOrEqual(2 * transactions);
  expect(server.stats.openTransactionsAcrossRequests).toBeGreaterThanOrEqual(2 * transactions);
  expect(server.stats.busyErrors).toBe(0);
  expect(server.stats.authFailures).toBe(0);
  for (const p of nodes) expect(p.logs.join("\n")).not.toMatch(/database is locked|SQLITE_BUSY|"level":"error"/);
  for (const p of nodes) p.child.kill("SIGTERM");
  expect(await Promise.all(nodes.map((p) => p.exited))).toEqual([0, 0]);
}, 60_000);

test("a wrong auth_token stops start-up: non-zero, saying the server answered 401, the token not shown", async () => {
  const r = await failedStart({ TOCK_DATABASE_URL: server.url, TOCK_DATABASE_AUTH_TOKEN: "not-the-token" });
  expect(r.code).toBe(1);
  expect(r.output).toMatch(/^tock: .*401/m);
  expect(r.output).not.toContain("not-the-token");
  expect(r.output).not.toContain("tock serving");
  expect(r.ms).toBeLessThan(15_000);
}, 20_000);

test("an embedded replica whose sync_url refuses connections: start-up fails at once, naming the sync_url", async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const url = `http://127.0.0.1:${port}`;
  const r = await failedStart({ TOCK_DATABASE_URL: `file:${join(dir, "refused-replica.db")}`, TOCK_DATABASE_SYNC_URL: url });
  expect(r.code).toBe(1);
  expect(r.output).toContain(`tock: database sync_url ${url} cannot be reached`);
  expect(r.ms).toBeLessThan(10_000);
}, 15_000);

test("an embedded replica whose sync_url answers HTTP but is no replication primary (this Hrana server): start-up fails, non-zero", async () => {
  const s = startHranaServer({ path: join(dir, "primary-1.db") });
  closers.push(() => s.stop());
  const r = await failedStart({ TOCK_DATABASE_URL: `file:${join(dir, "hrana-replica.db")}`, TOCK_DATABASE_SYNC_URL: s.url });
  expect(r.code).toBe(1);
  expect(r.output).toMatch(/^tock: /m);
  expect(r.output).not.toContain("tock serving");
  expect(r.ms).toBeLessThan(10_000);
  // It asked for the root (tock's preflight), then for libSQL's replication protocol, never for Hrana.
  const asked = Object.keys(s.stats.http);
  expect(asked).toContain("GET /");
  expect(asked).not.toContain("POST /v2/pipeline");
  expect(asked.some((k) => k !== "GET /")).toBe(true);
}, 15_000);

test("libSQL's embedded replica cannot sync from a Hrana server: it speaks its own replication protocol", async () => {
  // Outside tock (whose replica start fails earlier, see docs/storage.md): @libsql/client alone, in a child
  // process, since a replica's sync blocks its process.
  const s = startHranaServer({ path: join(dir, "primary-2.db") });
  closers.push(() => s.stop());
  const replica = join(dir, "fresh-replica.db");
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const { createClient } = require("@libsql/client");
       const c = createClient({ url: ${JSON.stringify(`file:${replica}`)}, syncUrl: ${JSON.stringify(s.url)} });
       c.execute("CREATE TABLE t (n)").then(
         () => { console.log("RESULT wrote"); process.exit(0); },
         (e) => { console.log("RESULT " + JSON.stringify(String(e.message).slice(0, 200))); process.exit(0); },
       );`,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await new Promise((r) => child.on("close", r));
  clearTimeout(killer);
  const result = /RESULT (.*)/.exec(out)?.[1];
  expect(result).toBeDefined();
  expect(result).not.toBe("wrote");
  const paths = Object.keys(s.stats.http);
  expect(paths).not.toContain("POST /v2/pipeline");
  expect(paths.some((p) => /^(GET \/info|POST \/wal_log\.|POST \/proxy\.)/.test(p))).toBe(true);
}, 25_000);

test("an embedded replica whose sync_url accepts connections but never answers: start-up fails after the connect timeout", async () => {
  const r = await silentStart;
  expect(r.code).toBe(1);
  expect(r.output).toContain(`tock: database sync_url ${silentUrl} did not answer within 15s`);
  expect(r.ms).toBeLessThan(30_000);
}, 35_000);
