// A database locked by another process: SQLite waits only a short slice with the event loop blocked, the
// rest of the wait is asynchronous, up to the write's bound. Measured here: after SQLITE_BUSY a libSQL
// connection may report later writes as committed when they were not; tock drops the connections on a busy
// error, and this checks that every write after one really commits.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { openStore } from "../../src/store/client.ts";
import { outcomeUnknown } from "../../src/store/busy.ts";
import { isStorageFailure, StorageUnavailable, write } from "../../src/store/sql.ts";
import { holdLock, tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-busy-");
afterAll(cleanup);

/** The longest the event loop went without running a 5 ms timer while `work` ran. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ value: T | Error; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    return { value: await work().catch((e: Error) => e), stallMs };
  } finally {
    clearInterval(timer);
  }
}

test("a write that meets another process's lock waits without blocking the event loop, then fails unavailable; every later write commits", async () => {
  const url = `file:${join(dir, "tock.db")}`;
  const store = await openStore({ url, busyTimeoutMs: 600 });
  await write(store, [{ sql: "CREATE TABLE t (n INTEGER)", args: [] }]);

  const lock = await holdLock(url);
  const started = performance.now();
  const { value, stallMs } = await longestStall(() => write(store, [{ sql: "INSERT INTO t VALUES (0)", args: [] }]));
  expect(value).toBeInstanceOf(StorageUnavailable);
  expect(isStorageFailure(value)).toBe(true);
  expect((value as Error).message).toMatch(/^the database is locked by another process or node: waited 0\.6 s/);
  expect(performance.now() - started).toBeGreaterThanOrEqual(590); // it waited the whole bound
  // SQLite's own wait is one 10 ms slice at a time; the old 5 s busy timeout blocked the loop throughout.
  expect(stallMs).toBeLessThan(400);

  // A write with a longer bound, started while the lock is held, waits for it and commits.
  const waiting = write(store, [{ sql: "INSERT INTO t VALUES (1)", args: [] }], 30_000);
  // Queued behind it (one write at a time tries), another waits its turn rather than failing.
  const behind = write(store, [{ sql: "INSERT INTO t VALUES (2)", args: [] }], 30_000);
  await new Promise((r) => setTimeout(r, 100));
  lock.release();
  await Promise.all([waiting, behind, lock.done]);

  for (let i = 3; i <= 200; i++) await write(store, [{ sql: "INSERT INTO t VALUES (?)", args: [i] }]);
  store.close();

  const fresh = createClient({ url });
  const rows = (await fresh.execute("SELECT n FROM t ORDER BY n")).rows.map((r) => Number(r.n));
  fresh.close();
  expect(rows).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
});

test("writes queued behind a write waiting for a lock fail at their own bound, having written nothing", async () => {
  const url = `file:${join(dir, "queued.db")}`;
  const store = await openStore({ url, busyTimeoutMs: 300 });
  await write(store, [{ sql: "CREATE TABLE t (n INTEGER)", args: [] }]);
  const lock = await holdLock(url);
  const first = write(store, [{ sql: "INSERT INTO t VALUES (1)", args: [] }], 30_000);
  const queued = await Promise.all([2, 3, 4].map((n) => write(store, [{ sql: "INSERT INTO t VALUES (?)", args: [n] }]).catch((e: Error) => e)));
  for (const e of queued) expect(e).toBeInstanceOf(StorageUnavailable);
  lock.release();
  await Promise.all([first, lock.done]);
  expect((await store.client.execute("SELECT n FROM t")).rows.map((r) => Number(r.n))).toEqual([1]);
  store.close();
});

test("storage failures are recognised through the query builder's wrapping, and those that leave a commit uncertain are told apart", () => {
  const wrapped = (code: string) => Object.assign(new Error("Failed query: SELECT 1"), { cause: Object.assign(new Error("driver"), { code }) });
  for (const code of ["SQLITE_BUSY", "SQLITE_FULL", "SQLITE_READONLY", "ECONNREFUSED", "SERVER_ERROR"]) expect(isStorageFailure(wrapped(code))).toBe(true);
  expect(isStorageFailure(wrapped("SQLITE_CONSTRAINT_UNIQUE"))).toBe(false);
  expect(isStorageFailure(new Error("no code"))).toBe(false);
  // A lock or a full disk refuse before anything is written; a broken connection leaves it unknown.
  expect(outcomeUnknown(wrapped("SQLITE_BUSY"))).toBe(false);
  expect(outcomeUnknown(wrapped("SQLITE_FULL"))).toBe(false);
  expect(outcomeUnknown(new StorageUnavailable("locked"))).toBe(false);
  expect(outcomeUnknown(wrapped("ECONNREFUSED"))).toBe(false); // never reached the server
  expect(outcomeUnknown(wrapped("ECONNRESET"))).toBe(true);
  expect(outcomeUnknown(wrapped("SQLITE_IOERR_WRITE"))).toBe(true);
});
