// A local file's reads and writes go through the driver itself (src/store/local.ts), not the client
// library: the same rows, counts and errors as the client gives for the same statements, and a write that
// fails leaves nothing behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { LibsqlError } from "@libsql/client";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/client.ts";
import { LocalDb } from "../../src/store/local.ts";
import { isBusy, isStorageFailure, read, write } from "../../src/store/sql.ts";
import { holdLock, tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir();
/** A row as a plain record (the Row type also promises index access, which these rows leave out). */
const plain = (rows: object[]) => rows.map((r): Record<string, unknown> => ({ ...r }));
const url = `file:${join(dir, "t.db")}`;
let store: Store;
beforeAll(async () => {
  store = await openStore({ url, busyTimeoutMs: 300 }, { migrate: false });
  await write(store, [{ sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, s TEXT UNIQUE, j TEXT)", args: [] }]);
});
afterAll(() => {
  store.close();
  cleanup();
});

test("a local file's statements run on the driver directly", () => {
  expect(store.sql).toBeInstanceOf(LocalDb);
});

test("rows, counts and values are what the client gives for the same statements", async () => {
  const [ins, upd] = await write(store, [
    { sql: "INSERT INTO t (n, x, s, j) VALUES (?, ?, ?, ?), (?, ?, ?, ?)", args: [2 ** 40, 1.5, "a", '{"k":[1]}', -3, null, "b", null] },
    { sql: "UPDATE t SET n = n + 1 WHERE s IN (?, ?)", args: ["a", "b"] },
  ]);
  expect(ins.rowsAffected).toBe(2);
  expect(upd.rowsAffected).toBe(2);
  expect(Number(ins.lastInsertRowid)).toBe(2);
  const sql = "SELECT t.id, t.n, t.x, t.s, t.j, u.id, typeof(t.x) AS kind, ? AS bound, ? AS flag FROM t JOIN t AS u ON u.id = t.id ORDER BY t.id";
  const args = ["arg", true];
  const mine = await read(store, { sql, args });
  const theirs = (await store.client.execute({ sql, args })).rows;
  // (A name twice in a result keeps its first value, as the client does.)
  expect(plain(mine)).toEqual([
    { id: 1, n: 2 ** 40 + 1, x: 1.5, s: "a", j: '{"k":[1]}', kind: "real", bound: "arg", flag: 1 },
    { id: 2, n: -2, x: null, s: "b", j: null, kind: "null", bound: "arg", flag: 1 },
  ]);
  expect(plain(mine)).toEqual(plain(theirs));
  // RETURNING rows from a write.
  const [ret] = await write(store, [{ sql: "UPDATE t SET n = 0 WHERE id = ? RETURNING id, n", args: [2] }]);
  expect(plain(ret.rows)).toEqual([{ id: 2, n: 0 }]);
});

test("a failing statement: the client's error and codes, and nothing of its batch is written", async () => {
  const before = await read(store, { sql: "SELECT count(*) AS c FROM t", args: [] });
  let caught: unknown;
  try {
    await write(store, [
      { sql: "INSERT INTO t (s) VALUES (?)", args: ["c"] },
      { sql: "INSERT INTO t (s) VALUES (?)", args: ["a"] }, // s is unique
    ]);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LibsqlError);
  expect(caught).toMatchObject({ code: "SQLITE_CONSTRAINT", extendedCode: "SQLITE_CONSTRAINT_UNIQUE" });
  expect((caught as Error).message).toMatch(/UNIQUE constraint failed: t\.s/);
  expect(isStorageFailure(caught)).toBe(false);
  expect(await read(store, { sql: "SELECT count(*) AS c FROM t", args: [] })).toEqual(before);
  // A statement SQLite cannot prepare, and a value it cannot take.
  await expect(read(store, { sql: "SELEKT 1", args: [] })).rejects.toMatchObject({ code: "SQLITE_ERROR" });
  await expect(read(store, { sql: "SELECT ?", args: [Number.NaN] })).rejects.toThrow(RangeError);
  // The connection is still good.
  expect(await read(store, { sql: "SELECT count(*) AS c FROM t", args: [] })).toEqual(before);
});

test("a database locked by another process: busy while it holds the lock, written once it lets go", async () => {
  const lock = await holdLock(url);
  let caught: unknown;
  try {
    await store.sql.write([{ sql: "INSERT INTO t (s) VALUES (?)", args: ["locked"] }]);
  } catch (e) {
    caught = e;
  }
  expect(isBusy(caught)).toBe(true);
  // write() waits for the lock asynchronously (busy_timeout 300 ms here), then gives up having written nothing.
  await expect(write(store, [{ sql: "INSERT INTO t (s) VALUES (?)", args: ["locked"] }])).rejects.toThrow(/locked/);
  const pending = write(store, [{ sql: "INSERT INTO t (s) VALUES (?)", args: ["later"] }], 20_000);
  lock.release();
  await lock.done;
  await pending;
  const rows = await read(store, { sql: "SELECT s FROM t WHERE s IN ('locked', 'later')", args: [] });
  expect(plain(rows)).toEqual([{ s: "later" }]);
});
