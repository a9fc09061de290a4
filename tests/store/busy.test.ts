// Measured here: after SQLITE_BUSY a libSQL connection may report later writes as committed when they were
// not. tock drops the connections on a busy error; this checks that every write after one really commits.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { openStore } from "../../src/store/client.ts";
import { isBusy, write } from "../../src/store/sql.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-busy-");
afterAll(cleanup);

test("a write that meets another process's lock fails as busy, and every later write commits", async () => {
  const url = `file:${join(dir, "tock.db")}`;
  const store = await openStore({ url }, { busyTimeoutMs: 200 });
  await write(store, [{ sql: "CREATE TABLE t (n INTEGER)", args: [] }]);

  // Another process takes the write lock and holds it for a second.
  const holder = spawn(
    process.execPath,
    [
      "-e",
      `const { createClient } = require("@libsql/client");
       const c = createClient({ url: ${JSON.stringify(url)}, timeout: 5000 });
       const tx = await c.transaction("write");
       await tx.execute("INSERT INTO t VALUES (-1)");
       console.log("locked");
       await new Promise((r) => setTimeout(r, 1000));
       await tx.commit();
       c.close();`,
    ],
    { cwd: join(import.meta.dir, "../.."), stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((r) => holder.stdout!.once("data", () => r()));

  let error: unknown;
  try {
    await write(store, [{ sql: "INSERT INTO t VALUES (0)", args: [] }]);
  } catch (e) {
    error = e;
  }
  expect(isBusy(error)).toBe(true);
  await new Promise((r) => holder.on("exit", r));

  for (let i = 1; i <= 200; i++) await write(store, [{ sql: "INSERT INTO t VALUES (?)", args: [i] }]);
  store.close();

  const fresh = createClient({ url });
  const rows = (await fresh.execute("SELECT n FROM t ORDER BY n")).rows.map((r) => Number(r.n));
  fresh.close();
  expect(rows).toEqual([-1, ...Array.from({ length: 200 }, (_, i) => i + 1)]);
});
