// tock's store on a libSQL server: tests/hrana-server.ts speaks Hrana over HTTP in front of a real database
// file. First the server itself as @libsql/client uses it (values, batches, interactive transactions across
// requests, batons, stream expiry, Hrana 3 conditions), then tock over it: migrations, auth tokens, a node
// in-process (API, firing, /readyz) and a database locked by another connection or process.
import { afterAll, describe, expect, test } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { silentLogger } from "../../src/log.ts";
import { createNode, databaseOf, type TockNode } from "../../src/node.ts";
import { openStore, type Store } from "../../src/store/client.ts";
import { isBusy, isStorageFailure, read, StorageUnavailable, write, writeProblem } from "../../src/store/sql.ts";
import { startHranaServer, splitStatements, type HranaServer } from "../hrana-server.ts";
import { startSink, tempDir, testConfig, waitUntil } from "../helpers.ts";

const ROOT = join(import.meta.dir, "../..");
const { dir, cleanup } = tempDir("tock-remote-");
const servers: HranaServer[] = [];
const children: ChildProcess[] = [];
const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const c of children) c.kill("SIGKILL");
  for (const s of servers) await s.stop();
  cleanup();
});

let n = 0;
/** A server on a database file of its own. */
function server(opts: Omit<Parameters<typeof startHranaServer>[0], "path"> = {}): HranaServer & { path: string } {
  const path = join(dir, `db-${++n}.db`);
  const s = startHranaServer({ path, ...opts });
  servers.push(s);
  return Object.assign(s, { path });
}

/** tock's store on a server. */
async function storeOn(s: HranaServer, extra: { authToken?: string; busyTimeoutMs?: number } = {}): Promise<Store> {
  const store = await openStore({ url: s.url, ...extra });
  closers.push(() => store.close());
  return store;
}

/**
 * Another process that takes the write lock of a database file with BEGIN EXCLUSIVE (through `libsql`, the
 * engine the server runs) and holds it until released.
 */
function holdLock(path: string) {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const Database = require("libsql");
       const db = new Database(${JSON.stringify(path)}, { timeout: 5000 });
       db.exec("BEGIN EXCLUSIVE");
       process.stdout.write("locked\\n");
       process.stdin.once("data", () => { db.exec("ROLLBACK"); db.close(); process.stdout.write("released\\n"); process.exit(0); });`,
    ],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  children.push(child);
  let out = "";
  const saw = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => out.includes(word) && resolve();
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        check();
      });
      child.on("exit", (code) => (out.includes(word) ? resolve() : reject(new Error(`lock holder exited (${code}) before "${word}"`))));
      check();
    });
  const locked = saw("locked");
  return {
    locked,
    async release() {
      child.stdin!.write("go\n");
      await saw("released");
    },
  };
}

/** Hrana over HTTP by hand: a pipeline request's JSON answer. */
async function pipeline(s: HranaServer, body: unknown, version = 3): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.url}/v${version}/pipeline`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

const exec = (sql: string, args: unknown[] = []) => ({ type: "execute", stmt: { sql, args } });

/** Two clients of the server (two streams), and a table t (n INTEGER) made by the first. */
async function twoClients(s: HranaServer) {
  const a = createClient({ url: s.url });
  const b = createClient({ url: s.url });
  closers.push(() => a.close(), () => b.close());
  await a.execute("CREATE TABLE t (n INTEGER)");
  return [a, b] as const;
}

describe("the test server speaks Hrana over HTTP as @libsql/client uses it", () => {
  test("values, results and errors", async () => {
    const s = server();
    const c = createClient({ url: s.url, intMode: "bigint" });
    closers.push(() => c.close());
    await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB)");
    const big = 2n ** 62n + 1n;
    const ins = await c.execute({ sql: "INSERT INTO t (i, f, s, b) VALUES (?, ?, ?, ?)", args: [big, 0.25, "é—🙂", new Uint8Array([0, 255, 7])] });
    expect(ins.rowsAffected).toBe(1);
    expect(ins.lastInsertRowid).toBe(1n);
    const rs = await c.execute("SELECT i, f, s, b, NULL AS n, typeof(i) AS ti, typeof(f) AS tf FROM t");
    expect(rs.columns).toEqual(["i", "f", "s", "b", "n", "ti", "tf"]);
    expect(rs.columnTypes.slice(0, 4)).toEqual(["INTEGER", "REAL", "TEXT", "BLOB"]);
    const row = rs.rows[0];
    expect([row.i, row.f, row.s, [...new Uint8Array(row.b as ArrayBuffer)], row.n, row.ti, row.tf]).toEqual([big, 0.25, "é—🙂", [0, 255, 7], null, "integer", "real"]);
    // A SELECT changes nothing: sqld reports 0 rows affected and no rowid for what is not an INSERT.
    expect([rs.rowsAffected, rs.lastInsertRowid]).toEqual([0, undefined]);
    const upd = await c.execute({ sql: "UPDATE t SET s = :s WHERE id = :id RETURNING id", args: { s: "v", id: 1 } });
    expect([upd.rowsAffected, upd.rows.length, upd.lastInsertRowid]).toEqual([1, 1, undefined]);

    // A write batch is one transaction: a failing statement rolls back the ones before it.
    const err = await c.batch(["INSERT INTO t (id) VALUES (10)", "INSERT INTO t (id) VALUES (1)"], "write").catch((e) => e);
    expect(err.code).toBe("SQLITE_CONSTRAINT");
    expect(err.statementIndex).toBe(1);
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(1n);
    const ok = await c.batch(["INSERT INTO t (id) VALUES (10)", { sql: "SELECT count(*) AS n FROM t", args: [] }], "write");
    expect(ok[1].rows[0].n).toBe(2n);

    expect((await c.execute("SELECT 1; SELECT 2").catch((e) => e)).code).toBe("SQL_MANY_STATEMENTS");
    expect((await c.execute("  -- nothing\n").catch((e) => e)).code).toBe("SQL_NO_STATEMENT");
    expect((await c.execute("SELEC 1").catch((e) => e)).code).toBe("SQL_INPUT_ERROR");
    await c.executeMultiple("CREATE TABLE u (a); INSERT INTO u VALUES ('x;y'); -- done");
    expect((await c.execute("SELECT a FROM u")).rows.map((r) => r.a)).toEqual(["x;y"]);
    expect(s.stats.requests).toMatchObject({ execute: expect.any(Number), batch: 2, sequence: 1, close: expect.any(Number) });
    expect(s.stats.requests.store_sql).toBeGreaterThan(0); // the client's SQL cache in batches
  });

  test("statement texts are split as SQLite does: quotes, comments and trigger bodies", () => {
    expect(splitStatements("SELECT ';' ; -- a;\n SELECT \"a;b\" /* ; */;;")).toEqual(["SELECT ';'", '-- a;\n SELECT "a;b" /* ; */']);
    expect(splitStatements("CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM t; SELECT 1; END; SELECT 2")).toHaveLength(2);
    expect(splitStatements("  /* only */ -- comments\n")).toEqual([]);
  });

  test("an interactive transaction holds its stream, connection and write lock across HTTP requests", async () => {
    const s = server({ busyTimeoutMs: 10_000 });
    const [a, b] = await twoClients(s);
    const tx = await a.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    await tx.execute("INSERT INTO t VALUES (2)"); // a second request on the same stream, by its baton
    expect(s.streams()).toEqual({ open: 1, inTransaction: 1 });
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(0); // not committed: not seen
    // Another writer waits for the lock (the server does not block while it waits)...
    let done = false;
    const waiting = b.execute("INSERT INTO t VALUES (3)").then((r) => ((done = true), r));
    await waitUntil(() => s.stats.busyWaits > 0, "the other writer to meet the lock");
    expect(done).toBe(false);
    await tx.execute("INSERT INTO t VALUES (4)");
    await tx.commit();
    // ...and goes through once the transaction commits.
    expect((await waiting).rowsAffected).toBe(1);
    expect((await b.execute("SELECT n FROM t ORDER BY rowid")).rows.map((r) => r.n)).toEqual([1, 2, 4, 3]);
    expect(s.stats.batonsUsed).toBeGreaterThanOrEqual(3);
    expect(s.stats.openTransactionsAcrossRequests).toBeGreaterThanOrEqual(3);
    expect(s.streams()).toEqual({ open: 0, inTransaction: 0 });

    // A rolled-back transaction leaves nothing.
    const tx2 = await a.transaction("write");
    await tx2.execute("INSERT INTO t VALUES (5)");
    await tx2.rollback();
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0].n).toBe(4);
  });

  test("a writer that gives up on the lock gets SQLITE_BUSY, and its connection commits what comes after", async () => {
    const s = server({ busyTimeoutMs: 150 });
    const [a, b] = await twoClients(s);
    const tx = await a.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    const err = await b.execute("INSERT INTO t VALUES (2)").catch((e) => e);
    expect([err.code, err.message]).toEqual(["SQLITE_BUSY", "SQLITE_BUSY: SQLite error: database is locked"]);
    expect(isBusy(err)).toBe(true); // as tock tells a locked database from a refused statement
    expect(s.stats.busyErrors).toBe(1);
    await tx.commit();
    // Later writes commit for real: visible to others, and the lock is free for them.
    for (let i = 3; i <= 5; i++) await b.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
    expect((await a.execute("SELECT n FROM t ORDER BY n")).rows.map((r) => r.n)).toEqual([1, 3, 4, 5]);
    await a.batch(["INSERT INTO t VALUES (6)"], "write");
  });

  test("a baton is good for one request; an idle stream expires and its transaction is rolled back", async () => {
    const s = server({ streamIdleMs: 300 });
    const first = await pipeline(s, { baton: null, requests: [exec("CREATE TABLE t (n)"), exec("BEGIN IMMEDIATE"), exec("INSERT INTO t VALUES (1)")] });
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { type: string }) => r.type)).toEqual(["ok", "ok", "ok"]);
    const baton = first.body.baton;
    expect(baton).toEqual(expect.any(String));
    const second = await pipeline(s, { baton, requests: [{ type: "get_autocommit" }] });
    expect(second.body.results[0].response).toEqual({ type: "get_autocommit", is_autocommit: false });
    expect(second.body.baton).not.toBe(baton);
    const reused = await pipeline(s, { baton, requests: [exec("SELECT 1")] });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe("STREAM_EXPIRED");

    // Left alone, the stream expires: its uncommitted insert is gone and the write lock is free.
    await waitUntil(() => s.stats.streamsExpired === 1, "the idle stream to expire");
    const after = await pipeline(s, { baton: second.body.baton, requests: [exec("COMMIT")] });
    expect(after.status).toBe(400);
    const c = createClient({ url: s.url });
    closers.push(() => c.close());
    await c.batch(["INSERT INTO t VALUES (2)"], "write");
    expect((await c.execute("SELECT n FROM t")).rows.map((r) => r.n)).toEqual([2]);
  });

  test("Hrana 3 over /v3: batch conditions (ok, error, not, and, or, is_autocommit) and a cursor", async () => {
    const s = server();
    expect((await fetch(`${s.url}/v3`)).status).toBe(200);
    expect((await fetch(`${s.url}/v2`)).status).toBe(200);
    expect((await fetch(`${s.url}/v3-protobuf`)).status).toBe(404); // JSON only: clients fall back
    const steps = [
      { stmt: { sql: "CREATE TABLE t (n)" } },
      { stmt: { sql: "INSERT INTO nope VALUES (1)" } }, // fails
      { condition: { type: "ok", step: 0 }, stmt: { sql: "BEGIN" } },
      { condition: { type: "not", cond: { type: "is_autocommit" } }, stmt: { sql: "INSERT INTO t VALUES (1)" } },
      { condition: { type: "and", conds: [{ type: "ok", step: 3 }, { type: "error", step: 1 }] }, stmt: { sql: "INSERT INTO t VALUES (2)" } },
      { condition: { type: "or", conds: [{ type: "ok", step: 1 }, { type: "is_autocommit" }] }, stmt: { sql: "INSERT INTO t VALUES (3)" } }, // skipped
      { condition: { type: "ok", step: 4 }, stmt: { sql: "COMMIT" } },
      { stmt: { sql: "SELECT n FROM t ORDER BY n" } },
    ];
    const r = await pipeline(s, { baton: null, requests: [{ type: "batch", batch: { steps } }, { type: "get_autocommit" }, { type: "close" }] });
    const { step_results, step_errors } = r.body.results[0].response.result;
    expect(step_results.map((x: unknown) => x !== null)).toEqual([true, false, true, true, true, false, true, true]);
    expect(step_errors.map((x: unknown) => x !== null)).toEqual([false, true, false, false, false, false, false, false]);
    expect(step_errors[1]).toEqual({ message: "SQL input error: no such table: nope", code: "SQL_INPUT_ERROR" });
    expect(step_results[7].rows).toEqual([[{ type: "integer", value: "1" }], [{ type: "integer", value: "2" }]]);
    expect(r.body.results[1].response.is_autocommit).toBe(true);
    expect(r.body.baton).toBeNull(); // closed

    // Hrana 2 knows no is_autocommit: the request fails, the stream goes on.
    const v2 = await pipeline(s, { baton: null, requests: [{ type: "batch", batch: { steps: [{ condition: { type: "is_autocommit" }, stmt: { sql: "SELECT 1" } }] } }, exec("SELECT 2")] }, 2);
    expect(v2.body.results.map((x: { type: string }) => x.type)).toEqual(["error", "ok"]);

    const cur = await fetch(`${s.url}/v3/cursor`, { method: "POST", body: JSON.stringify({ baton: null, batch: { steps: [{ stmt: { sql: "SELECT n FROM t ORDER BY n" } }, { stmt: { sql: "SELECT x" } }] } }) });
    const lines = (await cur.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0].baton).toEqual(expect.any(String));
    expect(lines.slice(1).map((l) => l.type)).toEqual(["step_begin", "row", "row", "step_end", "step_error"]);
  });
});

describe("tock's store on a libSQL server", () => {
  test("migrations apply once, to the same schema as a local file's; libsql:// URLs (?tls=0 for plain HTTP) work alike", async () => {
    const s = server({ sendBaseUrl: true });
    const store = await storeOn(s);
    // A second node starting: nothing left to apply.
    const again = await openStore({ url: `libsql://127.0.0.1:${s.port}?tls=0` });
    closers.push(() => again.close());
    const local = await openStore({ url: `file:${join(dir, "local.db")}` });
    closers.push(() => local.close());
    const schema = (st: Store) => read(st, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
    expect(await schema(store)).toEqual(await schema(local));
    const migrations = (st: Store) => read(st, "SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at");
    expect(await migrations(again)).toEqual(await migrations(local));
    // The statements of tock that a server must take: the database's clock in milliseconds.
    const [{ db_now }] = await read(store, "SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER) AS db_now");
    expect(Math.abs(Number(db_now) - Date.now())).toBeLessThan(5_000);
  });

  test("auth_token: a wrong or missing one fails opening, saying 401; the right one opens", async () => {
    const s = server({ authToken: "right-token" });
    for (const authToken of ["wrong-token", undefined]) {
      const err = await openStore({ url: s.url, authToken }).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(String(err.message)).toContain("401");
      expect(String(err.message)).not.toContain("right-token");
    }
    const store = await storeOn(s, { authToken: "right-token" });
    expect((await read(store, "SELECT count(*) AS n FROM __drizzle_migrations"))[0].n).toBeGreaterThan(0);
    expect(s.stats.authFailures).toBeGreaterThanOrEqual(2);
  });

  test("a write while another stream holds the write lock fails as busy, and writes work again once it is released", async () => {
    const s = server({ busyTimeoutMs: 200 });
    const store = await storeOn(s, { busyTimeoutMs: 300 });
    await write(store, [{ sql: "CREATE TABLE t (n INTEGER)", args: [] }]);
    const holder = createClient({ url: s.url });
    closers.push(() => holder.close());
    const tx = await holder.transaction("write");
    await tx.execute("INSERT INTO t VALUES (-1)");

    const error = await write(store, [{ sql: "INSERT INTO t VALUES (0)", args: [] }]).catch((e) => e);
    // Waited for (tock retries only what it recognises as busy), then given up as unavailable.
    expect(error).toBeInstanceOf(StorageUnavailable);
    expect(error.message).toMatch(/^the database is locked by another process or node: waited 0\.3 s for its write lock \(SQLITE_BUSY: SQLite error: database is locked\)$/);
    expect(isBusy(error)).toBe(true);
    expect(isStorageFailure(error)).toBe(true);
    expect(writeProblem(store)).not.toBeNull();
    expect((await read(store, "SELECT count(*) AS n FROM t"))[0].n).toBe(0); // reads go on meanwhile

    await tx.commit();
    for (let i = 1; i <= 20; i++) await write(store, [{ sql: "INSERT INTO t VALUES (?)", args: [i] }]);
    expect(writeProblem(store)).toBeNull();
    const fresh = createClient({ url: s.url });
    closers.push(() => fresh.close());
    expect((await fresh.execute("SELECT n FROM t ORDER BY n")).rows.map((r) => Number(r.n))).toEqual([-1, ...Array.from({ length: 20 }, (_, i) => i + 1)]);
  });

  test("a write while another process holds the database file's lock fails as busy; reads go on; writes work once it is released", async () => {
    const s = server({ busyTimeoutMs: 200 });
    const store = await storeOn(s, { busyTimeoutMs: 300 });
    await write(store, [{ sql: "CREATE TABLE t (n INTEGER)", args: [] }]);
    await write(store, [{ sql: "INSERT INTO t VALUES (0)", args: [] }]);
    const lock = holdLock(s.path);
    await lock.locked;

    // Reads run alongside the refused write, and none of them fails for it.
    const [error, ...reads] = await Promise.all([
      write(store, [{ sql: "INSERT INTO t VALUES (-1)", args: [] }]).catch((e) => e),
      ...Array.from({ length: 10 }, () => read(store, "SELECT count(*) AS n FROM t")),
    ]);
    expect(error).toBeInstanceOf(StorageUnavailable);
    expect(error.message).toContain("(SQLITE_BUSY: SQLite error: database is locked)");
    expect(reads.map((r) => Number(r[0].n))).toEqual(Array(10).fill(1));
    expect(s.stats.busyErrors + s.stats.busyWaits).toBeGreaterThan(0);

    await lock.release();
    for (let i = 1; i <= 5; i++) await write(store, [{ sql: "INSERT INTO t VALUES (?)", args: [i] }]);
    expect((await read(store, "SELECT n FROM t ORDER BY n")).map((r) => Number(r.n))).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("a node on a libSQL server, in-process", () => {
  async function remoteNode(s: HranaServer & { path: string }, authToken?: string): Promise<TockNode> {
    const config = testConfig(s.url, {
      database: { authToken, busyTimeout: 400 },
      scheduler: { pollInterval: 100, lookahead: 500 },
    });
    const store = await openStore(databaseOf(config));
    const node = await createNode({ config, log: silentLogger, version: "test", store });
    closers.push(() => node.stop());
    await node.start();
    return node;
  }
  const call = async (node: TockNode, method: string, path: string, body?: unknown) => {
    const res = await node.app.request(path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, body: await res.json() };
  };

  test("a job PUT through the native API reads back, and a due one-shot fires exactly once", async () => {
    const s = server({ authToken: "t0ken" });
    const sink = startSink();
    closers.push(() => sink.stop());
    const node = await remoteNode(s, "t0ken");
    expect(node.deps.store.file).toBeUndefined(); // no local file behind it

    const job = { schedule: "@every 1h", target: { http: { url: `${sink.url}/hourly` } }, payload: { a: [1, "x"] } };
    const put = await call(node, "PUT", "/api/v1/namespaces/remote/jobs/hourly", job);
    expect(put.status).toBe(201);
    const got = await call(node, "GET", "/api/v1/namespaces/remote/jobs/hourly");
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: "hourly", namespace: "remote", schedule: "@every 1h", payload: { a: [1, "x"] } });

    const due = Date.now() + 300;
    expect((await call(node, "PUT", "/api/v1/namespaces/remote/jobs/once", { dueTime: new Date(due).toISOString(), target: { http: { url: `${sink.url}/once` } } })).status).toBe(201);
    await sink.waitFor(1);
    expect(sink.requests[0].path).toBe("/once");
    expect(sink.requests[0].at).toBeGreaterThanOrEqual(due);
    const store = node.deps.store;
    await waitUntil(async () => (await read(store, "SELECT status FROM runs WHERE job_name = 'once'"))[0]?.status === "succeeded", "the run recorded");
    // Several more claim cycles: nothing fires it again.
    const polls = s.stats.http["POST /v2/pipeline"];
    await waitUntil(() => s.stats.http["POST /v2/pipeline"] > polls + 20, "more claim cycles");
    expect(sink.requests.filter((r) => r.path === "/once")).toHaveLength(1);
    expect(await read(store, "SELECT attempt, trigger FROM runs WHERE job_name = 'once'")).toEqual([expect.objectContaining({ attempt: 1, trigger: "schedule" })]);
    expect((await call(node, "GET", "/readyz")).status).toBe(200);
  });

  test("a server out of reach: reads and writes answer 503 (never a 500), /readyz says why", async () => {
    const s = server({});
    const node = await remoteNode(s);
    const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } } };
    expect((await call(node, "PUT", "/api/v1/namespaces/r/jobs/a", job)).status).toBe(201);
    s.stop();
    for (const [method, path, body] of [
      ["GET", "/api/v1/namespaces/r/jobs/a", undefined],
      ["PUT", "/api/v1/namespaces/r/jobs/b", job],
      ["POST", "/api/v1/namespaces/r/jobs/a/trigger", {}],
    ] as const) {
      const r = await call(node, method, path, body);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe("unavailable");
    }
    const ready = await call(node, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.database).toMatch(/ECONNREFUSED|Unable to connect/);
  });

  test("/readyz is 503 while another process locks the database, and ready again by itself after", async () => {
    const s = server({ busyTimeoutMs: 200 });
    const node = await remoteNode(s);
    expect((await call(node, "GET", "/readyz")).status).toBe(200);
    const lock = holdLock(s.path);
    await lock.locked;
    const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } } };
    const put = await call(node, "PUT", "/api/v1/namespaces/r/jobs/a", job);
    expect(put.status).toBe(503); // not acknowledged, and said to be the database's state, not a failure
    expect(put.body.error.code).toBe("unavailable");
    const r = await call(node, "GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.body.database).toMatch(/^writes fail since .*: the database is locked by another process or node/);
    await lock.release();
    await waitUntil(async () => (await call(node, "GET", "/readyz")).status === 200, "ready again");
    expect((await call(node, "PUT", "/api/v1/namespaces/r/jobs/a", job)).status).toBe(201);
  });
});
