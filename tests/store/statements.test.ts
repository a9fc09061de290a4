// Statements a local file's connection prepares are kept and used again: still right after the schema
// changes under them, after the least recently used are dropped, and for a statement larger than the
// whole budget.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/client.ts";
import { read, write } from "../../src/store/sql.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir();
let store: Store;
beforeAll(async () => {
  store = await openStore({ url: `file:${join(dir, "t.db")}` }, { migrate: false });
  await write(store, [{ sql: "CREATE TABLE t (a INTEGER)", args: [] }, { sql: "INSERT INTO t VALUES (1), (2)", args: [] }]);
});
afterAll(() => {
  store.close();
  cleanup();
});

test("after the schema changes under them (another node migrating): kept statements answer as the table is now", async () => {
  const named = { sql: "SELECT a FROM t ORDER BY a", args: [] };
  const wildcard = { sql: "SELECT * FROM t ORDER BY a", args: [] };
  expect((await read(store, named)).map((r) => ({ a: r.a }))).toEqual([{ a: 1 }, { a: 2 }]);
  expect((await read(store, wildcard)).map((r) => Object.fromEntries(Object.entries(r)))).toEqual([{ a: 1 }, { a: 2 }]);
  await write(store, [{ sql: "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'", args: [] }, { sql: "INSERT INTO t (a) VALUES (3)", args: [] }]);
  expect((await read(store, named)).map((r) => ({ a: r.a }))).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  // (A wildcard's columns change with the table: the driver would keep the old list, so it is not kept.)
  expect((await read(store, wildcard)).map((r) => Object.fromEntries(Object.entries(r)))).toEqual([{ a: 1, b: "x" }, { a: 2, b: "x" }, { a: 3, b: "x" }]);
});

test("more statements than are kept: the first is prepared again and still answers", async () => {
  for (let i = 0; i < 700; i++) expect(Number((await read(store, { sql: `SELECT ${i} AS n`, args: [] }))[0].n)).toBe(i);
  expect(Number((await read(store, { sql: "SELECT 0 AS n", args: [] }))[0].n)).toBe(0);
});

test("a statement larger than the whole budget is run, kept alone, and dropped for the next", async () => {
  const huge = `SELECT count(*) AS n FROM t WHERE a IN (${Array.from({ length: 320_000 }, (_, i) => i).join(",")})`;
  expect(huge.length).toBeGreaterThan(2_000_000);
  for (let i = 0; i < 2; i++) expect(Number((await read(store, { sql: huge, args: [] }))[0].n)).toBe(3);
  expect(Number((await read(store, { sql: "SELECT 2 AS n", args: [] }))[0].n)).toBe(2);
  expect(Number((await read(store, { sql: huge, args: [] }))[0].n)).toBe(3);
});
