// /readyz while the database takes no writes (a full disk, a read-only file) or its file is gone: 503 with
// the reason, and ready again by itself once writes go through; a failure of one statement is not one of
// the database.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, renameSync, unlinkSync } from "node:fs";
import { write } from "../../src/store/sql.ts";
import { type TestEnv, testEnv } from "../helpers.ts";

let full = false;
const diskFull = () => Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ start: true, failWrite: () => (full ? diskFull() : false) });
});
afterAll(() => env.close());

const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } } };

test("writes failing for the database's storage make /readyz 503 with the reason, until a write goes through again", async () => {
  expect((await env.call("GET", "/readyz")).status).toBe(200);
  full = true;
  const put = await env.call("PUT", "/api/v1/namespaces/r/jobs/a", job);
  expect(put.status).not.toBe(201); // not acknowledged
  const r = await env.call("GET", "/readyz");
  expect(r.status).toBe(503);
  expect(r.body).toMatchObject({ status: "not ready", scheduler: "ok" });
  expect(r.body.database).toMatch(/^writes fail since \d{4}-\d\d-\d\dT[\d:.]+Z: database or disk is full$/);
  expect((await env.call("GET", "/readyz")).status).toBe(503); // still, while it lasts

  full = false; // space was freed: the probe write of the next check goes through
  expect((await env.call("GET", "/readyz")).status).toBe(200);
  expect((await env.call("PUT", "/api/v1/namespaces/r/jobs/a", job)).status).toBe(201);
});

test("a statement the database refuses (a constraint) says nothing of its health", async () => {
  await expect(write(env.deps.store, [{ sql: "INSERT INTO nodes (id) VALUES (NULL)", args: [] }])).rejects.toThrow();
  expect((await env.call("GET", "/readyz")).status).toBe(200);
});

test("a database file deleted or replaced under a running node makes /readyz 503 saying so", async () => {
  const e = await testEnv();
  try {
    const path = e.dbUrl.slice("file:".length);
    expect((await e.call("GET", "/readyz")).body.database).toBe("ok");
    copyFileSync(path, `${path}.copy`);
    renameSync(`${path}.copy`, path); // another file at the same path
    let r = await e.call("GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.body.database).toBe(`the database file ${path} was replaced by another file while open`);
    unlinkSync(path);
    r = await e.call("GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.body.database).toBe(`the database file ${path} was deleted while open`);
  } finally {
    await e.close();
  }
});

test("a disk that fills up (SQLITE_FULL) and a database that turns read-only: 503s, never a 500, and ready again once they pass", async () => {
  const e = await testEnv({ start: true });
  try {
    const client = e.deps.store.sql; // the connection every write goes through: these pragmas hold for each
    const pages = Number((await client.execute("PRAGMA page_count")).rows[0].page_count);
    await client.execute(`PRAGMA max_page_count = ${pages}`);
    // Jobs fill what free space the pages have left, then the file cannot grow.
    let put = await e.call("PUT", "/api/v1/namespaces/r/jobs/full-0", job);
    for (let i = 1; put.status === 201 && i < 500; i++) put = await e.call("PUT", `/api/v1/namespaces/r/jobs/full-${i}`, job);
    expect(put.status).toBe(503);
    expect(put.body.error.message).toMatch(/database or disk is full/);
    // (A file that may not grow still takes the readiness probe, which grows nothing; a full disk refuses
    // that too, as the first test shows.)
    await client.execute("PRAGMA max_page_count = 1073741823"); // space freed
    expect((await e.call("PUT", "/api/v1/namespaces/r/jobs/full", job)).status).toBe(201);

    await client.execute("PRAGMA query_only = ON");
    const ro = await e.call("PUT", "/api/v1/namespaces/r/jobs/ro", job);
    expect(ro.status).toBe(503);
    const r = await e.call("GET", "/readyz");
    expect(r.status).toBe(503);
    expect(r.body.database).toMatch(/^writes fail since .*readonly|read-only/i);
    await client.execute("PRAGMA query_only = OFF");
    expect((await e.call("GET", "/readyz")).status).toBe(200);
    expect((await e.call("PUT", "/api/v1/namespaces/r/jobs/ro", job)).status).toBe(201);
  } finally {
    await e.close();
  }
});

test("a database file deleted under a running node: writes are no longer acknowledged (503), not written where nobody reads them", async () => {
  const e = await testEnv();
  try {
    const path = e.dbUrl.slice("file:".length);
    expect((await e.call("PUT", "/api/v1/namespaces/r/jobs/kept", job)).status).toBe(201);
    unlinkSync(path);
    const put = await e.call("PUT", "/api/v1/namespaces/r/jobs/lost", job);
    expect(put.status).toBe(503);
    expect(put.body.error.message).toContain(`the database file ${path} was deleted while open`);
  } finally {
    await e.close();
  }
});
