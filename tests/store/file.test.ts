// The local database file is created 0600 before libSQL opens it, and SQLite gives its -wal and -shm the
// same mode; an operator's existing file keeps its mode, with a warning when it is open to others.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { databaseFilePath } from "../../src/store/file.ts";
import { openStore } from "../../src/store/client.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-dbfile-");
afterAll(cleanup);

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe("databaseFilePath", () => {
  test.each([
    ["file:tock.db", "tock.db"],
    ["file:/var/lib/tock/tock.db", "/var/lib/tock/tock.db"],
    ["file:///var/lib/tock/tock.db", "/var/lib/tock/tock.db"],
    ["file://localhost/var/tock.db", "/var/tock.db"],
    ["file:data/my%20jobs.db?authToken=x#frag", "data/my jobs.db"],
  ])("%s names %s", (url, path) => {
    expect(databaseFilePath(url)).toBe(path);
  });

  test.each([":memory:", "file::memory:", "file::memory:?cache=shared", "libsql://db.example.io", "https://db.example.io", "file://otherhost/x.db", "file:"])("%s names no local file", (url) => {
    expect(databaseFilePath(url)).toBeUndefined();
  });
});

describe("openStore", () => {
  test("creates the database 0600, and its -wal and -shm get 0600 too, whatever the umask", async () => {
    const path = join(dir, "new.db");
    // umask 0 would let SQLite create a file 0644 and its journal files alike; the mode must not come from it.
    const old = process.umask(0);
    const warnings: unknown[] = [];
    let store;
    try {
      store = await openStore({ url: `file:${path}` }, { warn: (msg, fields) => warnings.push({ msg, fields }) });
    } finally {
      process.umask(old);
    }
    try {
      await store.client.execute("CREATE TABLE t (x)");
      await store.client.execute("INSERT INTO t VALUES (1)");
      expect(existsSync(`${path}-wal`)).toBe(true);
      expect(existsSync(`${path}-shm`)).toBe(true);
      expect([modeOf(path), modeOf(`${path}-wal`), modeOf(`${path}-shm`)]).toEqual([0o600, 0o600, 0o600]);
      expect(warnings).toEqual([]);
    } finally {
      store.close();
    }
  });

  test("an existing file open to others keeps its mode, with a warning naming it", async () => {
    const path = join(dir, "shared.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
    const store = await openStore({ url: `file:${path}` }, { warn: (msg, fields) => warnings.push({ msg, fields }) });
    store.close();
    expect(modeOf(path)).toBe(0o644);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toContain("group or others");
    expect(warnings[0].fields).toEqual({ file: path, mode: "0644" });
  });

  test("an existing 0600 file opens without a warning", async () => {
    const path = join(dir, "private.db");
    writeFileSync(path, "", { mode: 0o600 });
    const warnings: unknown[] = [];
    const store = await openStore({ url: `file:${path}` }, { warn: (msg) => warnings.push(msg) });
    store.close();
    expect(warnings).toEqual([]);
  });
});
